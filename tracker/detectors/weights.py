"""Find model weights: a path, a file in the local weights directory, or the library's download.

Lookup order for a bare name such as ``yolo11n.pt``:
1. the name as a path (absolute or relative to the working directory);
2. ``<weights_dir>/<name>``, where ``weights_dir`` comes from config (``detector.weights_dir``) or
   the ``TRACKER_WEIGHTS_DIR`` environment variable;
3. the name itself, left to the library (ultralytics downloads its official checkpoints on first use).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from ..errors import UserError

WEIGHTS_DIR_ENV = "TRACKER_WEIGHTS_DIR"
# model suffixes ultralytics loads that are checked without asking it (asking imports torch)
COMMON_SUFFIXES = (".pt", ".torchscript", ".onnx", ".engine")


def weights_dir(configured: Optional[str] = None) -> Optional[Path]:
    """The local weights directory named by config, else by ``TRACKER_WEIGHTS_DIR``, else None."""
    value = configured or os.environ.get(WEIGHTS_DIR_ENV)
    return Path(value).expanduser() if value else None


def resolve_weights(name: str, configured_dir: Optional[str] = None) -> str:
    """Return a local path for ``name`` when one exists, else ``name`` unchanged (for download).

    >>> resolve_weights("/no/such/model.pt")
    '/no/such/model.pt'
    """
    path = Path(name).expanduser()
    if path.is_file():
        return str(path)
    local_dir = weights_dir(configured_dir)
    if local_dir is not None and (local_dir / path.name).is_file():
        return str(local_dir / path.name)
    return name


def missing_weights_message(name: str, configured_dir: Optional[str] = None, reason: str = "") -> str:
    local_dir = weights_dir(configured_dir)
    where = f" and not in {local_dir}" if local_dir else ""
    why = f" ({reason})" if reason else ""
    return (f"cannot load model '{name}': not a local file{where}, and it could not be downloaded{why}. "
            f"Pass a local file with --model PATH, or set {WEIGHTS_DIR_ENV} to a folder that holds it")


def _onnx_output_ranks(path: Path) -> list:
    """Ranks of an ONNX model's outputs: a detector's are 3-D (batch, boxes, values), a ReID model's
    2-D (batch, embedding)."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as err:  # onnx raises several types for a file that is not a model
        raise UserError(f"cannot load model '{path}': not a valid ONNX file ({type(err).__name__})") from None
    return [len(o.type.tensor_type.shape.dim) for o in model.graph.output]


def check_detector_model(name: str, path: str) -> None:
    """Refuse, with one clear line, model files ultralytics cannot use as a detector, before it
    fails deep inside with an AssertionError (``.pth``), a TypeError (``.bin``) or an onnxruntime
    shape error (a ReID ``.onnx``). ``name`` is what the user gave, ``path`` where it was found.

    Accepted: the suffixes of ultralytics' export formats (``.pt``, ``.onnx``, ``.engine``,
    ``_openvino_model/``, ...), bare names it may download (``yolo11n``), model YAMLs and URLs.

    >>> check_detector_model("w.bin", "w.bin")
    Traceback (most recent call last):
    tracker.errors.UserError: cannot use 'w.bin' as a detector model: ultralytics does not load '.bin' files (it loads .pt, .torchscript, .onnx, ...)
    """
    p = Path(path)
    if "://" in str(name) or p.is_dir():
        return
    suffix = p.suffix.lower()
    if suffix in COMMON_SUFFIXES:
        formats = list(COMMON_SUFFIXES)
    else:   # ultralytics' own list (importing its exporter imports torch: only for rare suffixes)
        from ultralytics.engine.exporter import export_formats

        formats = [s for s in export_formats()["Suffix"] if s.startswith(".")]
    if suffix and suffix not in formats + [".yaml", ".yml"]:
        hint = "; a .pth file is usually a plain state dict or a ReID model (--reid)" if suffix == ".pth" else ""
        raise UserError(f"cannot use '{name}' as a detector model: ultralytics does not load '{suffix}' "
                        f"files (it loads {', '.join(formats[:3])}, ...){hint}")
    if suffix == ".onnx" and p.is_file() and any(rank == 2 for rank in _onnx_output_ranks(p)):
        raise UserError(f"'{name}' is not a detector: its output is one vector per image (a ReID or "
                        f"classification model), not boxes; a ReID model goes to --reid {name}")
