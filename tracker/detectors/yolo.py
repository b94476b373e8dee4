"""Ultralytics YOLO detector (any ``.pt`` / ``.onnx`` / ``_openvino_model`` / ``.engine`` model).

``runtime`` says what runs the network (``tracker/runtimes.py`` chooses; ``auto`` = the fastest the
machine has): a ``.pt`` model is exported once to that runtime by ultralytics' exporter and the
export is cached (``detectors/export.py``). The export happens on the first frames, so its input
shape is the letterbox of the video's own aspect ratio (384x640 for 16:9 at imgsz 640: 40% fewer
pixels than a 640x640 square, the same boxes as torch, which also letterboxes rectangularly).
A model given as ``.onnx`` / ``_openvino_model`` / ``.engine`` is used as it is. A failed export
falls back to torch with one warning line.

OpenVINO on the CPU (the default on x86) runs through ``openvino_yolo.py``, not ultralytics: this
process then never imports torch (~450 MiB less resident memory); the names of a ``.pt`` come from
its cached export, and its export (first run only) is made in a child process.

Example:
    >>> det = YoloDetector("yolo11n.pt", conf=0.3, classes="person")   # doctest: +SKIP
    >>> [d.xyxy.shape for d in det.detect(frames)]                      # doctest: +SKIP
    >>> det.runtime                                                     # doctest: +SKIP
    'openvino'
"""
from __future__ import annotations

import gc
import logging
import math
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import UserError
from ..runtimes import choose_runtime, cpu_threads, runtime_version, select_device, set_cpu_threads
from ..types import Detections, Frame
from .classes import parse_classes
from .openvino_yolo import OpenVinoYolo
from .weights import check_detector_model, missing_weights_message, resolve_weights

log = logging.getLogger("tracker")

RUNTIME_NAMES = {"torch": "torch", "onnx": "ONNX Runtime", "openvino": "OpenVINO", "tensorrt": "TensorRT"}


def runtime_of_model(path: str) -> str:
    """The runtime a model file or folder is for, from its name.

    >>> runtime_of_model("a/yolo11n.pt"), runtime_of_model("y.onnx"), runtime_of_model("y_openvino_model/")
    ('torch', 'onnx', 'openvino')
    """
    name = str(path).rstrip("/\\").lower()
    if name.endswith(".onnx"):
        return "onnx"
    if name.endswith("_openvino_model") or name.endswith(".xml"):
        return "openvino"
    if name.endswith(".engine"):
        return "tensorrt"
    return "torch"


def letterbox_shape(height: int, width: int, imgsz: int, stride: int = 32) -> Tuple[int, int]:
    """The (h, w) network input ultralytics letterboxes a ``height x width`` frame to.

    The long side becomes ``imgsz``, the short side is scaled alike and padded up to a multiple of
    ``stride`` (ultralytics' ``LetterBox(auto=True)``).

    >>> letterbox_shape(432, 768, 640), letterbox_shape(1080, 1920, 640), letterbox_shape(480, 480, 640)
    ((384, 640), (384, 640), (640, 640))
    """
    imgsz = int(math.ceil(imgsz / stride) * stride)
    r = imgsz / max(height, width)
    h, w = round(height * r), round(width * r)
    return int(math.ceil(h / stride) * stride), int(math.ceil(w / stride) * stride)


def _fixed_imgsz(model_dir: Path) -> Optional[List[int]]:
    """Input size recorded by ultralytics in an ``_openvino_model`` folder's metadata.yaml."""
    meta = model_dir / "metadata.yaml"
    if not meta.is_file():
        return None
    import yaml

    imgsz = (yaml.safe_load(meta.read_text()) or {}).get("imgsz")
    return [int(v) for v in imgsz] if isinstance(imgsz, (list, tuple)) else None


def openvino_fp32(yolo, frame_shape: Tuple[int, int], imgsz, device: str = "cpu") -> bool:
    """Make ultralytics' OpenVINO backend compute in FP32. Returns False where it could not.

    On CPUs with bf16 units (AVX512_BF16/AMX) OpenVINO computes in bf16 unless told otherwise, and
    ultralytics does not tell it: measured here, bf16 moves scores by up to 0.04 and boxes to IoU
    0.97 against torch, FP32 matches torch exactly (tests/test_runtimes.py) at the same speed. The
    backend only exists after a first prediction, so this runs one on a black frame (the warm-up
    ultralytics would do anyway) and compiles the model again with the FP32 hint.
    """
    import openvino as ov

    # the same device as later calls: ultralytics builds a new predictor when the device changes
    yolo.predict(np.zeros((*frame_shape, 3), np.uint8), imgsz=imgsz, device=device, verbose=False)
    autobackend = getattr(getattr(yolo, "predictor", None), "model", None)
    backend = getattr(autobackend, "backend", autobackend)   # ultralytics >= 8.4 has backend classes
    compiled = getattr(backend, "ov_compiled_model", None)
    if compiled is None:
        return False
    if compiled.get_property("INFERENCE_PRECISION_HINT") == ov.Type.f32:
        return True
    where = Path(str(getattr(yolo, "ckpt_path", None) or getattr(yolo, "model_name", "")))
    xml = next(where.glob("*.xml"), None) if where.is_dir() else where if where.suffix == ".xml" else None
    if xml is None:
        return False
    core = ov.Core()
    devices = compiled.get_property("EXECUTION_DEVICES")
    backend.ov_compiled_model = compiled = None   # free the first compile before the second (peak memory)
    gc.collect()
    backend.ov_compiled_model = core.compile_model(
        core.read_model(str(xml)), devices[0] if devices else "CPU",
        {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": ov.Type.f32})
    return True


class YoloDetector:
    """Runs an ultralytics model on batches of frames.

    Attributes:
        runtime: what runs the network now ("torch", "onnx", "openvino", "tensorrt").
        export_s: seconds this run spent exporting the model (None: none, or taken from the cache).
    """

    def __init__(self, model: str = "yolo11n.pt", imgsz: int = 640, conf: float = 0.25,
                 iou: float = 0.7, classes=None, device: Optional[str] = None, half: Optional[bool] = False,
                 weights_dir: Optional[str] = None, threads: Optional[int] = None,
                 runtime: Optional[str] = "auto", batch: int = 1) -> None:
        path = resolve_weights(model, weights_dir)
        if Path(path).is_dir() and runtime_of_model(path) == "openvino":
            pass   # an exported OpenVINO folder
        elif path == model and not Path(model).is_file() and (Path(model).parent != Path(".")):
            raise UserError(f"model file not found: {model}")
        check_detector_model(model, path)
        self.device = select_device(device)
        gpu = self.device.startswith("cuda")
        given = runtime_of_model(path)
        if given != "torch":   # an exported model is used as it is
            self.runtime = given
        else:
            self.runtime = choose_runtime(runtime, self.device)
        # half=None ("auto"): FP16 wherever a GPU runs the model; FP16 is never used on the CPU
        self.half = bool(gpu if half is None else half) and gpu
        self.imgsz, self.conf, self.iou = int(imgsz), float(conf), float(iou)
        # OpenVINO on the CPU runs without torch (openvino_yolo.py): an OpenVINO folder given as is,
        # or a .pt, whose names come from its cached export or a child process and whose export is
        # made in a child process: the .pt is never loaded here. Otherwise ultralytics loads the
        # model (and torch) here, as for every other runtime.
        self.model = None
        self._openvino: Optional[OpenVinoYolo] = None
        names = None
        if self.runtime == "openvino" and self.device == "cpu":
            if given == "openvino" and Path(path).is_dir():
                self._openvino = OpenVinoYolo.open(path, conf=self.conf, iou=self.iou)
                names = self._openvino.names if self._openvino else None
            elif given == "torch" and Path(path).is_file():
                names = self._names_without_torch(Path(path))
        if names is None:
            self.model = self._load_ultralytics(path, given, model, weights_dir)
            names = dict(self.model.names)
        self.names: Dict[int, str] = {int(k): str(v) for k, v in names.items()}
        self.classes = parse_classes(classes, self.names)
        if self._openvino is not None:
            self._openvino.classes = self.classes
        self.model_name = Path(path).name
        self.weights = Path(getattr(self.model, "ckpt_path", None) or path)
        self.threads = cpu_threads(threads)
        self.export_s: Optional[float] = None
        self.input_shape: Optional[Tuple[int, int]] = None
        self._predict_imgsz = self.imgsz
        fixed = _fixed_imgsz(Path(path)) if given == "openvino" and Path(path).is_dir() else None
        if fixed:   # a fixed-shape export: predict at the size it was exported at
            self._predict_imgsz = fixed
        # ultralytics 8.4 calls FP16 `quantize=16`; pass it only when asked so CPU runs stay quiet
        self._precision = {"quantize": 16} if self.half and given == "torch" else {}
        self._pending_export = given == "torch" and self.runtime != "torch"
        self.batch = max(1, int(batch))   # TensorRT engines are built for up to this many frames
        # an OpenVINO model given as is and run by ultralytics: set to FP32 on its first frames
        self._fp32 = given != "openvino" or self._openvino is not None

    @staticmethod
    def _names_without_torch(weights: Path) -> Optional[Dict[int, str]]:
        """The class names of a ``.pt`` without importing torch here: from a cached export of it, or
        (the first run) read by ultralytics in a child process. None when that fails: the caller then
        loads the model itself, which reports what is wrong with the file."""
        from . import export

        names = export.cached_export_names(weights, "openvino")
        if names is None:
            try:
                names = export.run_in_subprocess("names", {"weights": str(weights)})
            except (RuntimeError, OSError, ValueError):
                return None
        return names

    @staticmethod
    def _load_ultralytics(path: str, given: str, model: str, weights_dir: Optional[str]):
        """ultralytics' ``YOLO`` for ``path``; a file that cannot be loaded is a ``UserError``."""
        from ultralytics import YOLO

        try:
            yolo = YOLO(path, task="detect") if given != "torch" else YOLO(path)
            dict(yolo.names)   # ultralytics loads most formats lazily: reading names loads (and fails) here
        except (ConnectionError, FileNotFoundError, OSError) as err:
            raise UserError(missing_weights_message(model, weights_dir, type(err).__name__)) from None
        except Exception as err:  # corrupt checkpoint, wrong format, ...
            raise UserError(f"cannot load model '{path}': {type(err).__name__}: "
                            f"{str(err).splitlines()[0] if str(err) else ''}") from None
        return yolo

    def _export(self, frame_shape: Tuple[int, int]) -> None:
        """Swap the torch model for its export to ``self.runtime`` (cached), or stay on torch."""
        from . import export

        self._pending_export = False
        shape = letterbox_shape(frame_shape[0], frame_shape[1], self.imgsz)
        name = RUNTIME_NAMES[self.runtime]
        try:
            # the .pt not loaded here (OpenVINO on the CPU): export in a child process, so this one
            # never imports torch
            path, seconds = export.exported_model(self.weights, self.runtime, shape, half=self.half,
                                                  device=self.device, batch=self.batch,
                                                  in_subprocess=self.model is None)
            runner = (OpenVinoYolo.open(path, conf=self.conf, iou=self.iou, classes=self.classes)
                      if self.runtime == "openvino" and self.device == "cpu" else None)
            model = None if runner is not None else self._load_ultralytics(str(path), "export", str(path), None)
        except Exception as err:   # the exporter can fail in many ways; torch always works
            reason = str(err).strip().splitlines()[0][:160] if str(err).strip() else ""
            log.warning(f"runtime {self.runtime}: export of {self.model_name} failed "
                        f"({type(err).__name__}: {reason}); running on torch")
            self.runtime = "torch"
            if self.model is None:   # names came from the cache: the .pt was never loaded
                self.model = self._load_ultralytics(str(self.weights), "torch", str(self.weights), None)
            return
        self.model, self._openvino = model, runner   # the torch model (if loaded) is released here
        self.export_s, self.input_shape = seconds, shape
        self._predict_imgsz = list(shape)
        self._precision = {}
        if self.runtime == "openvino" and runner is None:
            self._fp32 = openvino_fp32(self.model, frame_shape, self._predict_imgsz, self.device)
        gc.collect()
        how = f"exported in {seconds:.1f} s to {path}" if seconds is not None else f"cached: {path}"
        log.info(f"detector: {self.model_name} on {name} {runtime_version(self.runtime) or ''} "
                 f"({'FP16' if self.half else 'FP32'}, input {shape[0]}x{shape[1]}; {how})")

    def detect(self, frames: Sequence[Frame]) -> List[Detections]:
        if not frames:
            return []
        if self._pending_export:
            self._export(frames[0].image.shape[:2])
        if self._openvino is not None:
            return [Detections(*self._openvino.detect(f.image)) for f in frames]
        if not self._fp32:
            self._fp32 = True
            openvino_fp32(self.model, frames[0].image.shape[:2], self._predict_imgsz, self.device)
        set_cpu_threads(self.device, self.threads)
        results = self.model.predict(
            [f.image for f in frames], imgsz=self._predict_imgsz, conf=self.conf, iou=self.iou,
            classes=self.classes, device=self.device, verbose=False, **self._precision,
        )
        out = []
        for r in results:
            boxes = r.boxes
            if boxes is None or len(boxes) == 0:
                out.append(Detections.empty())
                continue
            out.append(Detections(boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy(),
                                  boxes.cls.cpu().numpy().astype(np.int64)))
        return out
