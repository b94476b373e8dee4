"""Detectors: ultralytics YOLO, torchvision FCOS, or precomputed MOTChallenge detections."""
from __future__ import annotations

from typing import Optional

from ..errors import UserError
from .base import Detector
from .classes import COCO80_NAMES, parse_classes
from .weights import resolve_weights

DETECTOR_NAMES = ("yolo", "fcos", "precomputed")


def make_detector(name: str = "yolo", model: str = "yolo11n.pt", detections: Optional[str] = None,
                  imgsz: int = 640, conf: float = 0.25, iou: float = 0.7, classes=None,
                  device: Optional[str] = None, half: bool = False, weights_dir: Optional[str] = None,
                  max_frame: Optional[int] = None, threads: Optional[int] = None,
                  runtime: Optional[str] = "auto", batch: int = 1) -> Detector:
    """Build a detector by name. ``detections`` (a det file) selects the precomputed detector.

    >>> make_detector("nope")
    Traceback (most recent call last):
    tracker.errors.UserError: unknown detector 'nope': choose one of yolo, fcos, precomputed
    """
    if detections:
        name = "precomputed"
    if name == "precomputed":
        if not detections:
            raise UserError("the precomputed detector needs --detections det.txt")
        from .precomputed import PrecomputedDetector
        return PrecomputedDetector(detections, max_frame=max_frame, classes=classes)
    if name == "yolo":
        from .yolo import YoloDetector
        return YoloDetector(model, imgsz=imgsz, conf=conf, iou=iou, classes=classes, device=device,
                            half=half, weights_dir=weights_dir, threads=threads, runtime=runtime,
                            batch=batch)
    if name == "fcos":
        from .fcos import FcosDetector
        weights = "default" if model in (None, "", "yolo11n.pt", "fcos_resnet50_fpn") else model
        if weights in ("none", "None"):
            weights = None
        return FcosDetector(weights, conf=conf, iou=iou, classes=classes, device=device, half=bool(half),
                            weights_dir=weights_dir, threads=threads)
    raise UserError(f"unknown detector '{name}': choose one of {', '.join(DETECTOR_NAMES)}")


__all__ = ["Detector", "make_detector", "DETECTOR_NAMES", "COCO80_NAMES", "parse_classes", "resolve_weights"]
