"""A generic embedder for users without person-ReID weights: an ImageNet CNN minus its classifier.

ImageNet features are a weaker identity cue than a ReID network's, but they still tell a red
coat from a blue one. Weights come from a local file (the torchvision release file, e.g.
``resnet18-f37072fd.pth`` from ``~/.cache/torch/hub/checkpoints``, or a checkpoint written by
``tools/train_reid.py``); ``weights=None`` gives a randomly initialised network (tests only).

Example:
    >>> emb = TorchvisionEmbedder("resnet18", weights=None)
    >>> emb.dim
    512
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Union

import torch
import torchvision
from torch import nn

from ..errors import UserError
from .backbone_names import BACKBONES
from .torch_embedder import TorchEmbedder, clean_state_dict



def build_backbone(arch: str) -> nn.Module:
    """The torchvision model ``arch`` with its classifier replaced by ``nn.Identity``."""
    if arch not in BACKBONES:
        raise UserError(f"unknown backbone {arch!r}; choose from {', '.join(BACKBONES)}")
    model = getattr(torchvision.models, arch)(weights=None)
    setattr(model, BACKBONES[arch], nn.Identity())
    return model


def backbone_arch_from_state_dict(sd: Dict[str, torch.Tensor]) -> Optional[str]:
    """Guess the torchvision architecture of a state_dict from its layer names and sizes."""
    if "layer1.0.conv1.weight" in sd:
        blocks = {k.split(".")[1] for k in sd if k.startswith("layer3.")}
        if "layer1.0.conv3.weight" in sd:
            return "resnet50"
        return "resnet34" if len(blocks) > 2 else "resnet18"
    if "features.0.0.weight" in sd:
        last = sd.get("features.0.0.weight")
        n_feat = len({k.split(".")[1] for k in sd if k.startswith("features.")})
        return "mobilenet_v3_small" if n_feat <= 13 and last is not None else "mobilenet_v3_large"
    return None


class TorchvisionEmbedder(TorchEmbedder):
    """``TorchEmbedder`` over a torchvision backbone.

    Args:
        arch: one of ``BACKBONES``.
        weights: path to a state_dict file, an already loaded state_dict, or None (random).
        device, half: as for ``TorchEmbedder``.
    """

    def __init__(self, arch: str = "resnet18", weights: Union[str, Path, dict, None] = None,
                 device: str = "cpu", half: bool = False) -> None:
        model = build_backbone(arch)
        if weights is not None:
            sd = weights if isinstance(weights, dict) else clean_state_dict(
                torch.load(weights, map_location="cpu", weights_only=True))
            # classifier weights are not needed (and would not fit the Identity head)
            head = BACKBONES[arch] + "."
            sd = {k: v for k, v in sd.items() if not k.startswith(head)}
            missing, unexpected = model.load_state_dict(sd, strict=False)
            if missing or unexpected:
                raise UserError(f"weights {weights if not isinstance(weights, dict) else ''} do not "
                                f"fit {arch}: {len(missing)} missing, {len(unexpected)} unexpected keys")
        super().__init__(model, device=device, half=half,
                         name=f"{arch}{'' if weights is not None else ' (random init)'}")
