"""A YOLO detection model exported to OpenVINO, run without torch or ultralytics.

ultralytics runs an ``_openvino_model`` folder through its AutoBackend, which imports torch (~450 MiB
of resident memory for its libraries, measured in docs/benchmarks.md) although OpenVINO inference
needs none of it. This module does the three steps itself, each exactly as ultralytics 8.4 does them
for a fixed-shape export, so the boxes are the same:

* ``letterbox``: ultralytics' ``LetterBox(auto=False)`` (an export has one fixed input shape): resize
  with the aspect kept (cv2 bilinear), pad to the input shape with grey 114, centred;
* inference: ``openvino.Core`` directly, FP32 (on CPUs with bf16 units OpenVINO would compute in
  bf16 and move boxes and scores, see docs/benchmarks.md), ``PERFORMANCE_HINT=LATENCY``;
* ``decode``: ultralytics' ``non_max_suppression`` for a ``(1, 4 + classes, boxes)`` output: boxes
  whose best class score is above ``conf``, the best class only, optional class filter, at most
  30,000 candidates by score, class-aware greedy NMS (boxes of different classes offset by 7680 px;
  suppressed when IoU > ``iou``, as torchvision), at most ``max_det`` kept; then ``scale_boxes``
  back to the frame and clipped.

``OpenVinoYolo.open(folder)`` returns None for an export it cannot run the same way (a dynamic or
batched input, an end-to-end or non-detection model): the caller then uses ultralytics.

Example:
    >>> model = OpenVinoYolo.open("yolo11n_openvino_model", conf=0.25, iou=0.7)   # doctest: +SKIP
    >>> xyxy, score, cls = model.detect(frame_bgr)                                # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..boxes import clip_xyxy, iou_matrix, xywh_to_xyxy

PAD_VALUE = 114       # ultralytics' letterbox grey
MAX_WH = 7680         # class offset for class-aware NMS (ultralytics' max_wh)
MAX_NMS = 30000       # most candidates NMS looks at (ultralytics' max_nms)


def read_metadata(folder: Path) -> Optional[dict]:
    """ultralytics' ``metadata.yaml`` of an export folder, or None when missing or unreadable."""
    import yaml

    try:
        meta = yaml.safe_load((Path(folder) / "metadata.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return None
    return meta if isinstance(meta, dict) else None


def metadata_names(meta: Optional[dict]) -> Optional[Dict[int, str]]:
    """The class names recorded in an export's metadata, or None."""
    names = (meta or {}).get("names")
    if not isinstance(names, dict) or not names:
        return None
    try:
        return {int(k): str(v) for k, v in names.items()}
    except (TypeError, ValueError):
        return None


def letterbox(image: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """``image`` (BGR, H x W x 3) resized into ``shape`` (h, w) with its aspect kept and padded,
    centred: ultralytics' ``LetterBox(new_shape=shape, auto=False)``."""
    h0, w0 = image.shape[:2]
    r = min(shape[0] / h0, shape[1] / w0)
    new_w, new_h = max(round(w0 * r), 1), max(round(h0 * r), 1)
    dw, dh = (shape[1] - new_w) / 2, (shape[0] - new_h) / 2
    if (w0, h0) != (new_w, new_h):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    return cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)


def to_input(image: np.ndarray) -> np.ndarray:
    """A letterboxed BGR uint8 image → the network's 1 x 3 x h x w float32 RGB input in [0, 1]."""
    rgb = image[:, :, ::-1].transpose(2, 0, 1)
    return (np.ascontiguousarray(rgb)[None].astype(np.float32) / np.float32(255))


def nms(xyxy: np.ndarray, score: np.ndarray, iou: float) -> np.ndarray:
    """Greedy NMS (torchvision's rule): indices kept, by descending score; a box is dropped when its
    IoU with a kept, higher-scoring box is > ``iou``."""
    order = np.argsort(-score, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        order = rest[iou_matrix(xyxy[i:i + 1], xyxy[rest])[0] <= iou]
    return np.asarray(keep, np.int64)


def decode(output: np.ndarray, input_shape: Tuple[int, int], frame_shape: Tuple[int, int], conf: float,
           iou: float, classes: Optional[Sequence[int]] = None, agnostic: bool = False,
           max_det: int = 300) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One image's ``(4 + classes, boxes)`` output → (xyxy in frame pixels, score, class), as
    ultralytics' ``non_max_suppression`` + ``scale_boxes`` (see the module docstring)."""
    pred = output.T                                         # boxes x (4 + classes)
    scores = pred[:, 4:]
    cls = scores.argmax(1)
    best = scores[np.arange(len(pred)), cls]
    keep = best > conf
    xyxy, best, cls = xywh_to_xyxy(pred[keep, :4]), best[keep], cls[keep]
    if classes is not None:
        wanted = np.isin(cls, np.asarray(list(classes)))
        xyxy, best, cls = xyxy[wanted], best[wanted], cls[wanted]
    if len(best) > MAX_NMS:
        top = np.argsort(-best, kind="stable")[:MAX_NMS]
        xyxy, best, cls = xyxy[top], best[top], cls[top]
    offset = 0.0 if agnostic else (cls[:, None] * MAX_WH).astype(xyxy.dtype)
    kept = nms(xyxy + offset, best, iou)[:max_det]
    xyxy, best, cls = xyxy[kept], best[kept], cls[kept]
    # scale_boxes: undo the letterbox (the same rounding as letterbox() above), then clip
    h0, w0 = frame_shape
    gain = min(input_shape[0] / h0, input_shape[1] / w0)
    new_h, new_w = max(round(h0 * gain), 1), max(round(w0 * gain), 1)
    pad_x, pad_y = round((input_shape[1] - new_w) / 2 - 0.1), round((input_shape[0] - new_h) / 2 - 0.1)
    xyxy = (xyxy - np.array([pad_x, pad_y, pad_x, pad_y], xyxy.dtype)) / np.array(
        [new_w / w0, new_h / h0, new_w / w0, new_h / h0], xyxy.dtype)
    return clip_xyxy(xyxy, w0, h0), best, cls.astype(np.int64)


class OpenVinoYolo:
    """A fixed-shape YOLO detection export on OpenVINO's CPU plugin, in FP32.

    Attributes:
        names: class names from the export's metadata.
        input_shape: the network input (h, w), e.g. (384, 640).
    """

    def __init__(self, xml: Path, names: Dict[int, str], input_shape: Tuple[int, int], conf: float = 0.25,
                 iou: float = 0.7, classes: Optional[Sequence[int]] = None, max_det: int = 300) -> None:
        import openvino as ov

        core = ov.Core()
        self.compiled = core.compile_model(core.read_model(str(xml)), "CPU", {
            "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": ov.Type.f32})
        self.request = self.compiled.create_infer_request()
        self.names, self.input_shape = names, input_shape
        self.conf, self.iou, self.classes, self.max_det = conf, iou, classes, max_det

    @classmethod
    def open(cls, folder, **options) -> Optional["OpenVinoYolo"]:
        """The export in ``folder`` (an ``_openvino_model`` folder), or None when it is not a
        fixed-shape, batch-1 detection model with the classic ``(1, 4 + classes, boxes)`` output."""
        folder = Path(folder)
        meta = read_metadata(folder)
        names = metadata_names(meta)
        xml = next(folder.glob("*.xml"), None) if folder.is_dir() else None
        args = (meta or {}).get("args") or {}
        if (names is None or xml is None or meta.get("task") != "detect" or meta.get("end2end")
                or args.get("dynamic") or args.get("nms") or int(meta.get("batch", 1) or 1) != 1):
            return None
        import openvino as ov

        try:
            model = ov.Core().read_model(str(xml))
        except Exception:   # a broken folder: ultralytics will say what is wrong
            return None
        shape, out = model.input(0).get_partial_shape(), model.output(0).get_partial_shape()
        if (len(model.outputs) != 1 or shape.is_dynamic or out.is_dynamic or shape.rank.get_length() != 4
                or out.rank.get_length() != 3 or out[1].get_length() != 4 + len(names)):
            return None
        input_shape = (shape[2].get_length(), shape[3].get_length())
        del model
        return cls(xml, names, input_shape, **options)

    def detect(self, image: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One BGR frame → (xyxy, score, class) in frame pixels."""
        self.request.infer({0: to_input(letterbox(image, self.input_shape))})
        output = self.request.get_output_tensor(0).data[0]
        return decode(output, self.input_shape, image.shape[:2], self.conf, self.iou, self.classes,
                      max_det=self.max_det)
