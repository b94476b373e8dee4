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

WEIGHTS_DIR_ENV = "TRACKER_WEIGHTS_DIR"


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
