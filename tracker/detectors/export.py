"""Export an ultralytics ``.pt`` model to a faster runtime once, and reuse the export on later runs.

The export is ultralytics' own (``YOLO(pt).export(format=...)``); what is added here is the cache.
Its key is everything that changes the exported file: the weights' content hash, the input shape,
the precision and the runtime's version, e.g.

    ~/.cache/tracker/exports/yolo11n-3f9a1c2e4b5d-384x640-fp32-openvino2026.4.1/yolo11n_openvino_model/

The cache lives in ``runtimes.cache_dir()`` (``TRACKER_CACHE_DIR``, ``$XDG_CACHE_HOME/tracker``), or
next to the weights when that is not writable. A shared weights folder may be read-only, so the
weights are copied into a private folder first (ultralytics writes its export next to its input)
and the finished export is moved into place with one rename: two runs exporting at once never see
half an export.

Example:
    >>> cache_key(Path("../shared/models/yolo11n.pt"), (384, 640), "fp32", "openvino")  # doctest: +SKIP
    'yolo11n-3f9a1c2e4b5d-384x640-fp32-openvino2026.4.1'
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Optional, Tuple

from ..runtimes import cache_dir, runtime_version, writable_dir

log = logging.getLogger("tracker")

# runtime -> (ultralytics export format, what the export is called next to ``<stem>.pt``)
FORMATS = {"onnx": ("onnx", "{stem}.onnx"), "openvino": ("openvino", "{stem}_openvino_model"),
           "tensorrt": ("engine", "{stem}.engine")}


def file_hash(path: Path, length: int = 12) -> str:
    """The first ``length`` hex digits of the file's SHA-256 (reads it once, in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:length]


def cache_key(weights: Path, shape: Tuple[int, int], precision: str, runtime: str, batch: int = 1) -> str:
    """Folder name of one export: weights name + hash, height x width, precision, runtime version
    (and the largest batch, for TensorRT engines built for batches)."""
    version = runtime_version(runtime) or "unknown"
    key = f"{weights.stem}-{file_hash(weights)}-{shape[0]}x{shape[1]}-{precision}-{runtime}{version}"
    return key + (f"-b{batch}" if batch > 1 else "")


def export_roots(weights: Path) -> list:
    """Where exports are looked for and written, in order."""
    return [cache_dir() / "exports", weights.parent / ".tracker_exports"]


def cached_export_names(weights: Path, runtime: str, half: bool = False) -> Optional[dict]:
    """Class names of any cached export of ``weights`` for ``runtime`` (any input shape), read from
    the metadata.yaml ultralytics writes next to it; None when nothing is cached.

    The names depend on the weights only, so a later run can know them before its first frame (when
    the input shape, hence the cache key, becomes known) without loading the ``.pt`` into torch.
    """
    from .openvino_yolo import metadata_names, read_metadata

    fmt, pattern = FORMATS[runtime]
    if not pattern.endswith("_model"):   # only folder exports carry a metadata.yaml
        return None
    version = runtime_version(runtime) or "unknown"
    precision = "fp16" if half else "fp32"
    glob = f"{weights.stem}-{file_hash(weights)}-*-{precision}-{runtime}{version}"
    for root in export_roots(weights):
        for folder in sorted(root.glob(glob)) if root.is_dir() else ():
            names = metadata_names(read_metadata(folder / pattern.format(stem=weights.stem)))
            if names:
                return names
    return None


def exported_model(weights: Path, runtime: str, shape: Tuple[int, int], half: bool = False,
                   device: str = "cpu", batch: int = 1) -> Tuple[Path, Optional[float]]:
    """The export of ``weights`` for ``runtime`` at input ``shape`` (h, w): cached, or made now.

    ``batch`` > 1 (TensorRT only): an engine for batches of 1..``batch`` frames; the CPU runtimes
    take one frame per inference (ultralytics splits batches), which is also their fastest way.

    Returns ``(path, seconds)``; ``seconds`` is the export time, None when the cache had it.
    Raises whatever ultralytics raises when the export fails (the caller falls back to torch).
    """
    fmt, pattern = FORMATS[runtime]
    precision = "fp16" if half else "fp32"
    batch = batch if runtime == "tensorrt" else 1
    key = cache_key(weights, shape, precision, runtime, batch)
    name = pattern.format(stem=weights.stem)
    roots = export_roots(weights)
    for root in roots:
        if (root / key / name).exists():
            return root / key / name, None
    root = next((r for r in roots if writable_dir(r)), None)
    if root is None:
        raise OSError(f"no writable folder for the export (tried {', '.join(map(str, roots))})")
    from ultralytics import YOLO

    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=root))
    try:
        private = work / weights.name
        shutil.copyfile(weights, private)
        options = {"quantize": 16} if half else {}   # ultralytics 8.4's name for half
        if batch > 1:
            options.update(batch=batch, dynamic=True)
        from ultralytics.utils import LOGGER

        level = LOGGER.level
        LOGGER.setLevel(logging.ERROR)     # the exporter's progress report is not the user's concern,
        try:                               # nor torch.jit / onnx deprecation warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                YOLO(str(private)).export(format=fmt, imgsz=list(shape), device=device, verbose=False,
                                          **options)
        finally:
            LOGGER.setLevel(level)
        private.unlink()
        if not (work / name).exists():
            raise RuntimeError(f"ultralytics wrote no {name}")
        try:
            os.rename(work, root / key)
        except OSError:          # another run finished the same export first: use theirs
            if not (root / key / name).exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return root / key / name, time.perf_counter() - start
