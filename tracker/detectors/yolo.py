"""Ultralytics YOLO detector (any ``.pt`` / ``.onnx`` / model name ultralytics can load).

Example:
    >>> det = YoloDetector("yolo11n.pt", conf=0.3, classes="person")   # doctest: +SKIP
    >>> [d.xyxy.shape for d in det.detect(frames)]                      # doctest: +SKIP
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..errors import UserError
from ..types import Detections, Frame
from .classes import parse_classes
from .weights import check_detector_model, missing_weights_message, resolve_weights

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


def cpu_threads(requested: Optional[int] = None) -> int:
    """Threads for CPU inference: ``requested``, else every core this process may use."""
    if requested:
        return max(1, int(requested))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def set_cpu_threads(device: str, threads: int) -> None:
    """Give torch ``threads`` intra-op threads for CPU inference.

    ultralytics pins torch to ``cpu_count - 1`` threads (1 on a 2-core machine) when it selects a
    CPU device, a setting meant for training data loaders; for inference all cores are faster
    (measured on 2 cores: 63 → 40 ms per 640×384 frame for yolo11n). Checked on every call because
    ultralytics may reset it when it sets up its predictor.
    """
    import torch

    if device == "cpu" and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


class YoloDetector:
    """Runs an ultralytics model on batches of frames."""

    def __init__(self, model: str = "yolo11n.pt", imgsz: int = 640, conf: float = 0.25,
                 iou: float = 0.7, classes=None, device: Optional[str] = None, half: bool = False,
                 weights_dir: Optional[str] = None, threads: Optional[int] = None) -> None:
        from ultralytics import YOLO

        path = resolve_weights(model, weights_dir)
        if path == model and not Path(model).is_file() and (Path(model).parent != Path(".")):
            raise UserError(f"model file not found: {model}")
        check_detector_model(model, path)
        self.device = select_device(device)
        self.half = bool(half) and self.device.startswith("cuda")
        try:
            task = "detect" if str(path).endswith(".onnx") else None
            self.model = YOLO(path, task=task) if task else YOLO(path)
            # ultralytics loads most formats lazily: reading names makes it load (and fail) here
            self.names: Dict[int, str] = {int(k): str(v) for k, v in dict(self.model.names).items()}
        except (ConnectionError, FileNotFoundError, OSError) as err:
            raise UserError(missing_weights_message(model, weights_dir, type(err).__name__)) from None
        except Exception as err:  # corrupt checkpoint, wrong format, ...
            raise UserError(f"cannot load model '{path}': {type(err).__name__}: "
                            f"{str(err).splitlines()[0] if str(err) else ''}") from None
        self.classes = parse_classes(classes, self.names)
        self.imgsz, self.conf, self.iou = int(imgsz), float(conf), float(iou)
        self.model_name = Path(path).name
        self.threads = cpu_threads(threads)
        # ultralytics 8.4 renamed `half` to `quantize`; pass it only when asked so CPU runs stay quiet
        self._precision = {"half": True} if self.half else {}

    def detect(self, frames: Sequence[Frame]) -> List[Detections]:
        if not frames:
            return []
        set_cpu_threads(self.device, self.threads)
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
