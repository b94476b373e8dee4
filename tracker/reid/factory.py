"""``load_embedder(spec)``: turn what the user typed after ``--reid`` into a ready embedder.

``spec`` is one of
    * a path to ``.onnx`` (ONNX Runtime), or ``.pth``/``.pt``/``.tar`` (torch): a torchreid OSNet
      checkpoint, a torchvision backbone state_dict, or a checkpoint from tools/train_reid.py;
    * a file name (``osnet_x0_25_msmt17.onnx``) or a bare model name (``osnet_x0_25_msmt17``) found
      in the weights directory (``TRACKER_WEIGHTS_DIR``, like the detector). For a bare name the
      ``.onnx`` file is preferred on CPU (faster there) and ``.pth``/``.pt`` on GPU (``half`` works);
    * a torchvision backbone name (``resnet18``, ``mobilenet_v3_small``): its ImageNet weights file
      (``resnet18.pth`` or torchvision's ``resnet18-<hash>.pth``) from the weights directory or the
      torch hub cache.

Anything that cannot be found or loaded ends in a ``UserError``: one line saying what to do.

Example:
    >>> emb = load_embedder("osnet_x0_25_msmt17")              # doctest: +SKIP
    >>> emb = load_embedder("model.pth", device="cuda", half=True)  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import os
import sys

from ..detectors.weights import WEIGHTS_DIR_ENV, weights_dir
from ..errors import UserError
from ..runtimes import choose_runtime, is_x86, runtime_version, select_device
from .backbone_names import BACKBONES
from .base import BaseEmbedder

# torch is imported only to load a torch checkpoint: an .onnx embedder runs without it

TORCH_SUFFIXES = (".pth", ".pt", ".tar")
ALL_SUFFIXES = (".onnx",) + TORCH_SUFFIXES


def _search_dirs() -> List[Path]:
    dirs = []
    local = weights_dir()
    if local is not None:
        dirs.append(local)
    dirs.append(_torch_hub_dir() / "checkpoints")  # where torchvision keeps downloads
    return dirs


def _torch_hub_dir() -> Path:
    """``torch.hub.get_dir()``, without importing torch when nothing has yet (same env rules)."""
    if "torch" in sys.modules:  # honours a torch.hub.set_dir() the caller made
        return Path(sys.modules["torch"].hub.get_dir())
    cache = os.environ.get("XDG_CACHE_HOME", str(Path("~/.cache").expanduser()))
    return Path(os.environ.get("TORCH_HOME", os.path.join(cache, "torch"))).expanduser() / "hub"


def resolve_reid_weights(spec: str, device: str = "cpu") -> Optional[Path]:
    """The local file ``spec`` names, or None.

    >>> resolve_reid_weights("/no/such/file.onnx") is None
    True
    """
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    if path.suffix.lower() in ALL_SUFFIXES:  # a file name: look for it in the weights dirs
        candidates = [d / path.name for d in _search_dirs()]
    else:  # a bare model name: try each extension, in the order that suits the device
        order = TORCH_SUFFIXES + (".onnx",) if device.startswith("cuda") else ALL_SUFFIXES
        candidates = [d / f"{path.name}{ext}" for d in _search_dirs() for ext in order]
        if path.name in BACKBONES:  # torchvision release files are named resnet18-f37072fd.pth
            candidates += sorted(p for d in _search_dirs() if d.is_dir()
                                 for p in d.glob(f"{path.name}-*.pth"))
    return next((c for c in candidates if c.is_file()), None)


def load_torch_checkpoint(path: Path, device: str = "cpu", half: bool = False) -> BaseEmbedder:
    """Load any supported torch checkpoint: OSNet (torchreid or ours) or a torchvision backbone."""
    import torch

    from .backbone import TorchvisionEmbedder, backbone_arch_from_state_dict
    from .osnet import osnet_arch_from_state_dict, osnet_from_state_dict
    from .torch_embedder import TorchEmbedder, clean_state_dict

    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise UserError(f"cannot read ReID weights {path}: not a torch checkpoint "
                        f"({type(err).__name__}); pass a .pth/.pt state_dict or an .onnx model") from None
    arch = raw.get("arch") if isinstance(raw, dict) else None  # set by tools/train_reid.py
    try:
        sd = clean_state_dict(raw)
    except ValueError:
        raise UserError(f"ReID weights {path} hold no state_dict") from None
    if arch in BACKBONES or (arch is None and backbone_arch_from_state_dict(sd)):
        return TorchvisionEmbedder(arch or backbone_arch_from_state_dict(sd), sd, device, half)
    if arch is not None or osnet_arch_from_state_dict(sd):
        net = osnet_from_state_dict(sd, source=str(path))
        name = f"{osnet_arch_from_state_dict(sd)} ({path.name})"
        return TorchEmbedder(net, device=device, half=half, name=name)
    raise UserError(f"ReID weights {path}: unknown architecture (expected an OSNet checkpoint "
                    f"from torchreid or a torchvision {'/'.join(BACKBONES)} state_dict)")


def auto_reid_runtime(device: str) -> str:
    """What runs an ``.onnx`` embedder under runtime "auto": OpenVINO on x86 CPUs where installed
    (OSNet-x0.25, 32 crops, 2 threads: 94 vs 248 ms per batch with ONNX Runtime, docs/benchmarks.md),
    else ONNX Runtime."""
    if device == "cpu" and is_x86() and runtime_version("openvino"):
        return "openvino"
    return "onnx"


def load_embedder(spec: str, device: str = "cpu", half: bool = False,
                  runtime: Optional[str] = "auto") -> BaseEmbedder:
    """Build the embedder ``spec`` names (see the module docstring), on ``device``.

    ``device``: "cpu", "cuda", "cuda:N", "N", or None/"auto" (the GPU when there is one).
    ``runtime`` (``.onnx`` models on the CPU): "auto" (``auto_reid_runtime``), "onnx" or
    "openvino"; torch checkpoints always run on torch.

    Raises:
        UserError: the file is missing or cannot be loaded; the message names what to do.
    """
    device = select_device(device)  # same rules as the detector: auto, "0" -> cuda:0, checks
    path = resolve_reid_weights(str(spec), device)
    if path is None:
        local = weights_dir()
        where = f"not in {local}" if local else f"{WEIGHTS_DIR_ENV} is not set"
        raise UserError(f"ReID model '{spec}' not found: not a local file and {where}. Pass a "
                        f".onnx/.pth file with --reid PATH, or set {WEIGHTS_DIR_ENV} to a folder "
                        "that holds it")
    if path.suffix.lower() == ".onnx":
        chosen = auto_reid_runtime(device) if runtime in (None, "", "auto") else runtime
        if chosen == "openvino" and device == "cpu" and choose_runtime("openvino", device) == "openvino":
            from .openvino import OpenVinoEmbedder

            return OpenVinoEmbedder(path)
        from .onnx import OnnxEmbedder  # onnxruntime is only imported when used

        # ``half`` is ignored: fp16 ONNX needs a converted model; torch weights do it on the fly
        return OnnxEmbedder(path, device=device)
    return load_torch_checkpoint(path, device=device, half=half)

