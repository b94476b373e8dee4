"""Where inference runs: device, CPU threads and inference runtime, shared by detectors and embedders.

One set of rules for every model in a run:

* ``select_device("auto")`` → ``"cuda:0"`` when a GPU is visible, else ``"cpu"``; a device that is
  not there (``cuda`` without a GPU, ``mps`` off macOS) is a ``UserError``, never a silent CPU run.
  On Linux without a GPU driver this is known without importing torch (``gpu_driver_absent``).
* ``cpu_threads()`` → every core this process may use (ultralytics alone would leave one idle).
* ``choose_runtime("auto", device)`` → the fastest runtime this machine has for a network:
  OpenVINO on x86 CPUs, TensorRT on NVIDIA GPUs when it is installed, else torch. A runtime that
  is asked for but not installed falls back to torch with one warning line.
* ``cache_dir()`` → a writable folder for exported models (``TRACKER_CACHE_DIR``, else
  ``$XDG_CACHE_HOME/tracker``, else ``~/.cache/tracker``).

Example:
    >>> select_device("cpu"), cpu_threads(3)
    ('cpu', 3)
    >>> choose_runtime("torch", "cpu")
    'torch'
    >>> choose_runtime("nope", "cpu")
    Traceback (most recent call last):
    tracker.errors.UserError: unknown runtime 'nope': choose one of auto, torch, onnx, openvino, tensorrt
"""
from __future__ import annotations

import importlib
import logging
import os
import platform
import sys
from pathlib import Path
from typing import Optional

from .errors import UserError

log = logging.getLogger("tracker")

RUNTIMES = ("auto", "torch", "onnx", "openvino", "tensorrt")
# the Python package each runtime needs (torch is always there)
RUNTIME_PACKAGES = {"onnx": "onnxruntime", "openvino": "openvino", "tensorrt": "tensorrt"}
CACHE_ENV = "TRACKER_CACHE_DIR"


# --------------------------------------------------------------------------------------- devices
def select_device(device: Optional[str]) -> str:
    """``None``/"auto" → "cuda:0" when a GPU is visible, else "cpu"; other values are checked.

    >>> select_device("mps") if not _mps_available() else "mps"
    Traceback (most recent call last):
    tracker.errors.UserError: --device mps asked for Apple's GPU (Metal) but this machine has none; use --device cpu
    """
    if device in (None, "", "auto"):
        return "cuda:0" if _cuda_available() else "cpu"
    device = str(device).strip().lower()
    if device.isdigit():
        device = f"cuda:{device}"
    if device.startswith("cuda"):
        if not _cuda_available():
            raise UserError(f"--device {device} asked for a GPU but none is available; use --device cpu")
        return device
    if device == "mps":
        if not _mps_available():
            # torch would quietly run such a model on the CPU: say so instead
            raise UserError("--device mps asked for Apple's GPU (Metal) but this machine has none; "
                            "use --device cpu")
        return device
    if device != "cpu":
        raise UserError(f"unknown --device '{device}': use cpu, cuda, cuda:N or mps")
    return device


def gpu_driver_absent() -> bool:
    """True when this is Linux and no GPU driver is loaded (no NVIDIA or AMD ROCm device files), or
    CUDA_VISIBLE_DEVICES hides every GPU: then CUDA cannot be available, which is known without
    importing torch (its libraries are ~450 MiB of resident memory that a CPU run on OpenVINO
    never needs)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return True
    if platform.system() != "Linux":
        return False      # no cheap test elsewhere: ask torch
    return not (os.path.exists("/proc/driver/nvidia") or any(Path("/dev").glob("nvidia*"))
                or os.path.exists("/dev/kfd"))


def _cuda_available() -> bool:
    if gpu_driver_absent():
        return False
    import torch

    return torch.cuda.is_available()


def _mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def cpu_threads(requested: Optional[int] = None) -> int:
    """Threads for CPU inference: ``requested``, else every core this process may use."""
    if requested:
        return max(1, int(requested))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def set_cpu_threads(device: str, threads: int) -> None:
    """Give torch ``threads`` intra-op threads for CPU inference.

    ultralytics pins torch to ``cpu_count - 1`` threads (1 on a 2-core machine) when it selects a
    CPU device, a setting meant for training data loaders; for inference all cores are faster
    (measured on 2 cores: 63 → 40 ms per 640×384 frame for yolo11n). Checked on every call because
    ultralytics may reset it when it sets up its predictor.
    """
    if device == "cpu" and "torch" not in sys.modules:
        return            # torch is imported by whatever runs on it; until then there is nothing to set
    import torch

    if device == "cpu" and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


# -------------------------------------------------------------------------------------- runtimes
def runtime_version(runtime: str) -> Optional[str]:
    """The installed version of ``runtime``'s package, or None when it cannot be imported."""
    package = RUNTIME_PACKAGES.get(runtime, "torch")
    try:
        module = importlib.import_module(package)
    except Exception:   # ImportError, or a broken install that fails while importing
        return None
    version = getattr(module, "__version__", None) or getattr(module, "get_version", lambda: "?")()
    return str(version).split("-")[0]


def is_x86() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")


def choose_runtime(requested: Optional[str], device: str) -> str:
    """The runtime to use for ``requested`` (one of ``RUNTIMES``) on ``device``.

    ``auto``: OpenVINO on x86 CPUs (2.6x torch for yolo11n on 2 cores, docs/benchmarks.md),
    TensorRT on NVIDIA GPUs when installed, else torch. An explicit runtime that is not installed,
    or that cannot run on ``device``, falls back to torch with one warning line.
    """
    requested = (requested or "auto").strip().lower()
    if requested not in RUNTIMES:
        raise UserError(f"unknown runtime '{requested}': choose one of {', '.join(RUNTIMES)}")
    gpu = device.startswith("cuda")
    if requested == "auto":
        if gpu:
            return "tensorrt" if runtime_version("tensorrt") else "torch"
        if device == "cpu" and is_x86():
            if runtime_version("openvino"):
                return "openvino"
            log.warning("runtime auto: OpenVINO is not installed, the detector runs on torch "
                        "(pip install openvino for ~2.5x faster CPU inference)")
        return "torch"
    if requested == "torch":
        return "torch"
    if requested == "tensorrt" and not gpu:
        log.warning("runtime tensorrt needs an NVIDIA GPU (--device cuda); running on torch")
        return "torch"
    if requested == "openvino" and gpu:
        log.warning("runtime openvino runs on the CPU, not on --device %s; running on torch", device)
        return "torch"
    if runtime_version(requested) is None:
        log.warning("runtime %s: its package %s is not installed; running on torch",
                    requested, RUNTIME_PACKAGES[requested])
        return "torch"
    return requested


def cache_dir() -> Path:
    """A writable folder for exported models: ``TRACKER_CACHE_DIR``, else the user cache dir."""
    base = os.environ.get(CACHE_ENV)
    if base:
        return Path(base).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "tracker"


def writable_dir(path: Path) -> bool:
    """True when ``path`` exists (or can be created) and files can be written in it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write_test_{os.getpid()}"
        probe.write_text("")
        probe.unlink()
        return True
    except OSError:
        return False


__all__ = ["RUNTIMES", "cache_dir", "choose_runtime", "cpu_threads", "is_x86", "runtime_version",
           "select_device", "set_cpu_threads", "writable_dir"]
