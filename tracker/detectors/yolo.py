"""Ultralytics YOLO detector (any ``.pt`` / ``.onnx`` / model name ultralytics can load).

Example:
    >>> det = YoloDetector("yolo11n.pt", conf=0.3, classes="person")   # doctest: +SKIP
    >>> [d.xyxy.shape for d in det.detect(frames)]                      # doctest: +SKIP
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..errors import UserError
from ..types import Detections, Frame
from .classes import parse_classes
from .weights import missing_weights_message, resolve_weights

log = logging.getLogger(__name__)


def select_device(device: Optional[str]) -> str:
    """``None``/"auto" → "cuda:0" when a GPU is visible, else "cpu"; other values are checked."""
    import torch

    if device in (None, "", "auto"):
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    device = str(device)
    if device.isdigit():
        device = f"cuda:{device}"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {device} asked for a GPU but none is available; use --device cpu")
    if device not in ("cpu", "mps") and not device.startswith("cuda"):
        raise UserError(f"unknown --device '{device}': use cpu, cuda, cuda:N or mps")
    return device


class YoloDetector:
    """Runs an ultralytics model on batches of frames."""

    def __init__(self, model: str = "yolo11n.pt", imgsz: int = 640, conf: float = 0.25,
                 iou: float = 0.7, classes=None, device: Optional[str] = None, half: bool = False,
                 weights_dir: Optional[str] = None) -> None:
        from ultralytics import YOLO

        path = resolve_weights(model, weights_dir)
        if path == model and not Path(model).is_file() and (Path(model).parent != Path(".")):
            raise UserError(f"model file not found: {model}")
        self.device = select_device(device)
        self.half = bool(half) and self.device.startswith("cuda")
        try:
            task = "detect" if str(path).endswith(".onnx") else None
            self.model = YOLO(path, task=task) if task else YOLO(path)
        except (ConnectionError, FileNotFoundError, OSError) as err:
            raise UserError(missing_weights_message(model, weights_dir, type(err).__name__)) from None
        except Exception as err:  # corrupt checkpoint, wrong format, ...
            raise UserError(f"cannot load model '{path}': {type(err).__name__}: "
                            f"{str(err).splitlines()[0] if str(err) else ''}") from None
        self.names: Dict[int, str] = {int(k): str(v) for k, v in dict(self.model.names).items()}
        self.classes = parse_classes(classes, self.names)
        self.imgsz, self.conf, self.iou = int(imgsz), float(conf), float(iou)
        self.model_name = Path(path).name
        # ultralytics 8.4 renamed `half` to `quantize`; pass it only when asked so CPU runs stay quiet
        self._precision = {"half": True} if self.half else {}

    def detect(self, frames: Sequence[Frame]) -> List[Detections]:
        if not frames:
            return []
        results = self.model.predict(
            [f.image for f in frames], imgsz=self.imgsz, conf=self.conf, iou=self.iou,
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
