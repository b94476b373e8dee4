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
import json
import logging
import os
import shutil
import subprocess
import sys
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
                   device: str = "cpu", batch: int = 1, in_subprocess: bool = False
                   ) -> Tuple[Path, Optional[float]]:
    """The export of ``weights`` for ``runtime`` at input ``shape`` (h, w): cached, or made now.

    ``batch`` > 1 (TensorRT only): an engine for batches of 1..``batch`` frames; the CPU runtimes
    take one frame per inference (ultralytics splits batches), which is also their fastest way.

    ``in_subprocess``: export in a child process, so that this process never imports torch (used
    where the export then runs without it, e.g. OpenVINO on the CPU: ``openvino_yolo.py``).

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
    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=root))
    try:
        private = work / weights.name
        shutil.copyfile(weights, private)
        options = {"quantize": 16} if half else {}   # ultralytics 8.4's name for half
        if batch > 1:
            options.update(batch=batch, dynamic=True)
        job = {"weights": str(private), "format": fmt, "imgsz": list(shape), "device": device, **options}
        if in_subprocess:
            run_in_subprocess("export", job)
        else:
            ultralytics_export(job)
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


def ultralytics_export(job: dict) -> None:
    """``YOLO(job["weights"]).export(...)`` with the other keys of ``job`` as export options, quietly:
    the exporter's progress report is not the user's concern, nor torch.jit / onnx deprecation
    warnings."""
    from ultralytics import YOLO
    from ultralytics.utils import LOGGER

    options = dict(job)
    level = LOGGER.level
    LOGGER.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            YOLO(options.pop("weights")).export(verbose=False, **options)
    finally:
        LOGGER.setLevel(level)


def ultralytics_names(job: dict) -> dict:
    """The class names of the model ``job["weights"]`` as ultralytics loads it."""
    from ultralytics import YOLO

    return {int(k): str(v) for k, v in dict(YOLO(job["weights"]).names).items()}


def run_in_subprocess(task: str, job: dict):
    """Run ``ultralytics_<task>(job)`` in a child Python process and return its result.

    The child imports torch and ultralytics (~1 GB of resident memory while it runs); this process
    does not, and the memory is returned when the child exits. A failure in the child raises
    ``RuntimeError`` with the child's error message (its last line of stderr)."""
    package_root = str(Path(__file__).resolve().parents[2])   # so the child imports this tracker
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root,
                                                                     os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "tracker.detectors.export", task, json.dumps(job)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        raise RuntimeError(lines[-1] if lines else f"exit status {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _main(argv) -> int:
    """``python -m tracker.detectors.export TASK JOB_JSON``: the child side of ``run_in_subprocess``;
    prints the result as one JSON line."""
    task, job = argv[0], json.loads(argv[1])
    try:
        result = {"export": ultralytics_export, "names": ultralytics_names}[task](job)
    except Exception as err:   # one line for the parent: the type and the first line of the message
        text = str(err).strip().splitlines()[0] if str(err).strip() else ""
        print(f"{type(err).__name__}: {text}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
