"""The torchvision backbones ``--reid`` accepts, without importing torch.

Kept apart from ``backbone.py`` (which needs torch) so that resolving a ReID name, and running an
``.onnx`` embedder, never pays torch's import (~460 MiB RSS, docs/benchmarks.md).

Example:
    >>> "resnet18" in BACKBONES
    True
"""
from typing import Dict

# torchvision constructor name -> the attribute holding its classifier (replaced by Identity)
BACKBONES: Dict[str, str] = {
    "resnet18": "fc",
    "resnet34": "fc",
    "resnet50": "fc",
    "mobilenet_v3_small": "classifier",
    "mobilenet_v3_large": "classifier",
}
