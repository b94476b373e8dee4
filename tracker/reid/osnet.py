"""OSNet (Zhou et al., "Omni-Scale Feature Learning for Person Re-Identification", ICCV 2019).

The module layout and parameter names follow torchreid's ``osnet.py`` exactly, so torchreid
checkpoints (``state_dict`` of ``osnet_x0_25`` ... ``osnet_x1_0``, optionally wrapped in
``{"state_dict": ...}`` with ``module.`` prefixes) load with ``strict=True``. In eval mode the
network returns the 512-d output of its ``fc`` layer (Linear, BatchNorm, ReLU), which is the
embedding torchreid uses; the ID classifier is only used in training.

Example:
    >>> net = build_osnet("osnet_x0_25", num_classes=10)
    >>> sum(p.numel() for p in net.parameters()) > 100_000
    True
    >>> emb = load_embedder("../shared/models/osnet_x0_25_msmt17.pth")   # doctest: +SKIP
    >>> emb.embed(image, boxes).shape                                    # doctest: +SKIP
    (N, 512)
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch
from torch import nn

from ..errors import UserError

# width multiplier -> channels of (stem, stage 2, stage 3, stage 4); layers are [2, 2, 2] for all
OSNET_CHANNELS: Dict[str, Tuple[int, int, int, int]] = {
    "osnet_x1_0": (64, 256, 384, 512),
    "osnet_x0_75": (48, 192, 288, 384),
    "osnet_x0_5": (32, 128, 192, 256),
    "osnet_x0_25": (16, 64, 96, 128),
}


# ------------------------------------------------------------------------------ building blocks
class ConvLayer(nn.Module):
    """conv + batch norm (or instance norm) + relu (the 7x7 stem)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, padding: int = 0,
                 instance_norm: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=False)
        self.bn = nn.InstanceNorm2d(cout, affine=True) if instance_norm else nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class Conv1x1(nn.Module):
    """1x1 conv + bn + relu."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class Conv1x1Linear(nn.Module):
    """1x1 conv + bn, no activation (block outputs and shortcuts)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class LightConv3x3(nn.Module):
    """Pointwise 1x1 then depthwise 3x3 conv, bn, relu: OSNet's cheap 3x3."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 1, bias=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False, groups=cout)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv2(self.conv1(x))))


class ChannelGate(nn.Module):
    """Squeeze-and-excitation style gate shared by the four streams of an OSBlock."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1, bias=True)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1, bias=True)
        self.gate_activation = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.gate_activation(self.fc2(self.relu(self.fc1(self.global_avgpool(x)))))
        return x * w


class OSBlock(nn.Module):
    """Omni-scale residual block: four streams of 1-4 stacked light 3x3 convs, gated and summed."""

    def __init__(self, cin: int, cout: int, instance_norm: bool = False, bottleneck: int = 4) -> None:
        super().__init__()
        mid = cout // bottleneck
        self.conv1 = Conv1x1(cin, mid)
        self.conv2a = LightConv3x3(mid, mid)
        self.conv2b = nn.Sequential(*[LightConv3x3(mid, mid) for _ in range(2)])
        self.conv2c = nn.Sequential(*[LightConv3x3(mid, mid) for _ in range(3)])
        self.conv2d = nn.Sequential(*[LightConv3x3(mid, mid) for _ in range(4)])
        self.gate = ChannelGate(mid)
        self.conv3 = Conv1x1Linear(mid, cout)
        self.downsample = Conv1x1Linear(cin, cout) if cin != cout else None
        self.IN = nn.InstanceNorm2d(cout, affine=True) if instance_norm else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.conv1(x)
        x2 = (self.gate(self.conv2a(x1)) + self.gate(self.conv2b(x1))
              + self.gate(self.conv2c(x1)) + self.gate(self.conv2d(x1)))
        identity = x if self.downsample is None else self.downsample(x)
        out = self.conv3(x2) + identity
        if self.IN is not None:
            out = self.IN(out)
        return self.relu(out)


class OSNet(nn.Module):
    """OSNet backbone + 512-d embedding head (+ ID classifier used only in training).

    ``forward`` returns the embedding in eval mode and ``(logits, embedding)`` in train mode.
    """

    def __init__(self, channels: Tuple[int, int, int, int], num_classes: int = 1000,
                 feature_dim: int = 512, instance_norm: bool = False) -> None:
        super().__init__()
        c0, c1, c2, c3 = channels
        self.conv1 = ConvLayer(3, c0, 7, stride=2, padding=3, instance_norm=instance_norm)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = self._stage(c0, c1, reduce=True, instance_norm=instance_norm)
        self.conv3 = self._stage(c1, c2, reduce=True)
        self.conv4 = self._stage(c2, c3, reduce=False)
        self.conv5 = Conv1x1(c3, c3)
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(c3, feature_dim), nn.BatchNorm1d(feature_dim),
                                nn.ReLU(inplace=True))
        self.classifier = nn.Linear(feature_dim, num_classes)
        self.feature_dim = feature_dim

    @staticmethod
    def _stage(cin: int, cout: int, reduce: bool, instance_norm: bool = False) -> nn.Sequential:
        layers = [OSBlock(cin, cout, instance_norm), OSBlock(cout, cout, instance_norm)]
        if reduce:  # halve the resolution between stages
            layers.append(nn.Sequential(Conv1x1(cout, cout), nn.AvgPool2d(2, stride=2)))
        return nn.Sequential(*layers)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The (B, feature_dim) embedding, in train and eval mode alike."""
        x = self.conv5(self.conv4(self.conv3(self.conv2(self.maxpool(self.conv1(x))))))
        return self.fc(torch.flatten(self.global_avgpool(x), 1))

    def forward(self, x: torch.Tensor):
        v = self.features(x)
        if not self.training:
            return v
        return self.classifier(v), v


def build_osnet(arch: str = "osnet_x0_25", num_classes: int = 1000,
                instance_norm: bool = False) -> OSNet:
    """An untrained OSNet of one of ``OSNET_CHANNELS``' widths."""
    if arch not in OSNET_CHANNELS:
        raise UserError(f"unknown OSNet architecture {arch!r}; choose from {', '.join(OSNET_CHANNELS)}")
    return OSNet(OSNET_CHANNELS[arch], num_classes=num_classes, instance_norm=instance_norm)


# ------------------------------------------------------------------------------------ loading
def osnet_arch_from_state_dict(sd: Dict[str, torch.Tensor]) -> Optional[str]:
    """Which OSNet width a state_dict holds (from the stem's channel count), or None if not OSNet."""
    stem = sd.get("conv1.conv.weight")
    if stem is None or "conv2.0.conv2a.conv1.weight" not in sd:
        return None
    for arch, channels in OSNET_CHANNELS.items():
        if channels[0] == stem.shape[0]:
            return arch
    return None


def osnet_from_state_dict(sd: Dict[str, torch.Tensor], source: str = "checkpoint") -> OSNet:
    """Build the matching OSNet and load ``sd`` into it strictly."""
    arch = osnet_arch_from_state_dict(sd)
    if arch is None:
        raise UserError(f"{source} is not an OSNet checkpoint (no OSNet layer names found)")
    num_classes = sd["classifier.weight"].shape[0] if "classifier.weight" in sd else 1000
    instance_norm = any(k.startswith("conv2.0.IN.") for k in sd)  # the osnet_ibn variants
    net = build_osnet(arch, num_classes, instance_norm)
    if "classifier.weight" not in sd:  # embedding-only checkpoints: keep the random classifier
        sd = {**sd, **{f"classifier.{k}": v for k, v in net.classifier.state_dict().items()}}
    try:
        net.load_state_dict(sd, strict=True)
    except RuntimeError as err:
        first = str(err).splitlines()[1:2] or [str(err)]
        raise UserError(f"{source} does not fit {arch}: {first[0].strip()}") from None
    return net
