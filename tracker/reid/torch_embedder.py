"""``TorchEmbedder``: any embedding ``nn.Module`` run by torch, and the state_dict unwrapping every
torch checkpoint loader needs.

This is the bottom of the ReID loaders: ``osnet.py`` (the OSNet network) and ``backbone.py``
(torchvision CNNs) build networks that run in it, and ``factory.py`` reads checkpoint files and
picks the network; nothing here imports them, so the three never import each other in a circle.

Example:
    >>> from torch import nn
    >>> emb = TorchEmbedder(nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten()))
    >>> emb.dim
    4
    >>> sorted(clean_state_dict({"state_dict": {"module.fc.weight": torch.zeros(1)}}))
    ['fc.weight']
"""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
import torch
from torch import nn

from .base import BaseEmbedder


def clean_state_dict(obj) -> Dict[str, torch.Tensor]:
    """Unwrap ``{"state_dict": ...}``/``{"model": ...}`` and strip DataParallel ``module.`` prefixes."""
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict):
        raise ValueError("not a state_dict")
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in obj.items()
            if isinstance(v, torch.Tensor)}


class TorchEmbedder(BaseEmbedder):
    """Runs any embedding ``nn.Module`` (eval mode, (B,3,H,W) -> (B,D)) on CPU or GPU.

    Args:
        model: the network; put in eval mode and moved to ``device`` here.
        device: "cpu", "cuda", "cuda:1", ...
        half: run in float16 (GPU only; ignored with a CPU device, where it is slower).
        name: description shown in logs.
    """

    def __init__(self, model: nn.Module, device: str = "cpu", half: bool = False,
                 name: str = "torch", input_hw: Tuple[int, int] = (256, 128), max_batch: int = 64
                 ) -> None:
        super().__init__(input_hw, max_batch)
        self.device = torch.device(device)
        self.half = bool(half) and self.device.type == "cuda"
        # channels_last: ~2x faster depthwise/1x1 convs on CPU (oneDNN), and what GPUs prefer too
        self.model = model.eval().to(self.device, memory_format=torch.channels_last)
        if self.half:
            self.model = self.model.half()
        with torch.inference_mode():
            probe = torch.zeros((1, 3, *self.input_hw), device=self.device,
                                dtype=torch.float16 if self.half else torch.float32)
            self.dim = int(self.model(probe).shape[1])
        self.name = f"{name} (torch, {self.device}{', half' if self.half else ''})"

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(batch).to(self.device, non_blocking=True)
            x = x.contiguous(memory_format=torch.channels_last)
            if self.half:
                x = x.half()
            return self.model(x).float().cpu().numpy()
