"""torchvision FCOS (``fcos_resnet50_fpn``) detector with COCO labels mapped to YOLO's 80 ids.

Weights: ``weights="default"`` uses torchvision's own cache/download (``FCOS_ResNet50_FPN_Weights``),
a path loads a local ``state_dict``, and ``None`` builds the network untrained (used by tests here,
where the weights cannot be downloaded).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..errors import UserError
from ..types import Detections, Frame
from .classes import COCO80, COCO80_NAMES, parse_classes
from .weights import resolve_weights
from ..runtimes import cpu_threads, select_device, set_cpu_threads


def _coco91_to_80() -> Dict[int, int]:
    """torchvision's 91-slot COCO category index → contiguous 80-class id."""
    from torchvision.models.detection import FCOS_ResNet50_FPN_Weights

    cats = FCOS_ResNet50_FPN_Weights.COCO_V1.meta["categories"]
    index = {name: i for i, name in enumerate(COCO80)}
    aliases = {"motorbike": "motorcycle", "aeroplane": "airplane", "sofa": "couch",
               "pottedplant": "potted plant", "diningtable": "dining table", "tvmonitor": "tv"}
    mapping = {}
    for slot, name in enumerate(cats):
        name = aliases.get(name, name)
        if name in index:
            mapping[slot] = index[name]
    return mapping


class FcosDetector:
    """torchvision FCOS on batches of frames."""

    def __init__(self, weights: Optional[str] = "default", conf: float = 0.25, iou: float = 0.6,
                 classes=None, device: Optional[str] = None, half: bool = False, imgsz: int = 800,
                 weights_dir: Optional[str] = None, threads: Optional[int] = None) -> None:
        import torch
        from torchvision.models.detection import FCOS_ResNet50_FPN_Weights, fcos_resnet50_fpn

        self.device = select_device(device)
        self.half = bool(half) and self.device.startswith("cuda")
        kwargs = dict(weights=None, weights_backbone=None, score_thresh=float(conf),
                      nms_thresh=float(iou), min_size=int(imgsz), max_size=int(imgsz * 1333 / 800))
        try:
            if weights in ("default", "DEFAULT", "COCO_V1"):
                kwargs["weights"] = FCOS_ResNet50_FPN_Weights.COCO_V1
                model = fcos_resnet50_fpn(**kwargs)
            else:
                model = fcos_resnet50_fpn(**kwargs)
                if weights:
                    path = resolve_weights(str(weights), weights_dir)
                    if not Path(path).is_file():
                        raise UserError(f"FCOS weights file not found: {weights}")
                    state = torch.load(path, map_location="cpu", weights_only=True)
                    model.load_state_dict(state.get("model", state) if isinstance(state, dict) else state)
        except UserError:
            raise
        except Exception as err:
            raise UserError(
                f"cannot load FCOS weights '{weights}' ({type(err).__name__}); torchvision downloads "
                "them on first use, or pass a local state_dict file with --model PATH") from None
        self.model = model.eval().to(self.device)
        if self.half:
            self.model = self.model.half()
        self.names = dict(COCO80_NAMES)
        self.classes = parse_classes(classes, self.names)
        self.conf = float(conf)
        self._map = _coco91_to_80()
        self._torch = torch
        self.threads = cpu_threads(threads)

    def detect(self, frames: Sequence[Frame]) -> List[Detections]:
        torch = self._torch
        if not frames:
            return []
        set_cpu_threads(self.device, self.threads)
        dtype = torch.float16 if self.half else torch.float32
        batch = [torch.from_numpy(np.ascontiguousarray(f.image[:, :, ::-1])).to(self.device)
                 .permute(2, 0, 1).to(dtype).div_(255) for f in frames]
        with torch.inference_mode():
            outputs = self.model(batch)
        result = []
        for out in outputs:
            labels = out["labels"].cpu().numpy()
            keep = np.array([int(l) in self._map for l in labels], bool)
            cls = np.array([self._map.get(int(l), -1) for l in labels], np.int64)
            score = out["scores"].float().cpu().numpy()
            keep &= score >= self.conf
            if self.classes is not None:
                keep &= np.isin(cls, self.classes)
            result.append(Detections(out["boxes"].float().cpu().numpy()[keep], score[keep], cls[keep]))
        return result
