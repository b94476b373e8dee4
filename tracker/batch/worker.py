"""One input of a batch, tracked into ``DIR/<name>/`` whole or not at all.

``track_one`` is a normal ``Run`` (the same files as ``track VIDEO --out DIR/<name>``) written into
``DIR/.<name>.tmp-<pid>/`` and renamed into place when it is complete, so a killed worker leaves
only a hidden temporary folder (removed by the next attempt or the next batch), never a partial
``DIR/<name>/``. ``VideoWorker`` is the Ray actor around it: it loads the detector once and reuses
it for every video it is given (a det-file detector is per video and is built per task).

    >>> row = track_one(BatchInput("/no/such.mp4", "such"), Path("/tmp"), Config())
    >>> row["status"], row["error"]
    ('failed', 'source not found: /no/such.mp4')
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import time
import traceback
from pathlib import Path
from typing import Callable, Optional

from ..config import Config
from ..errors import UserError
from ..sources.urls import mask_url
from .inputs import BatchInput

TMP_MARK = ".tmp-"
PROGRESS_EVERY = 25   # frames between progress reports to the driver


def temp_dir_for(out_root: Path, name: str, pid: Optional[int] = None) -> Path:
    """``DIR/.<name>.tmp-<pid>``: hidden, and named after the worker process that writes it."""
    return out_root / f".{name}{TMP_MARK}{os.getpid() if pid is None else pid}"


def row(item: BatchInput, status: str, frames: int = 0, fps: float = 0.0, tracks: int = 0,
        seconds: float = 0.0, error: str = "") -> dict:
    """One line of fleet.csv."""
    return {"source": item.label, "name": item.name, "status": status, "frames": int(frames),
            "fps": round(float(fps), 2), "tracks": int(tracks), "seconds": round(float(seconds), 2),
            "error": mask_url(error).replace("\n", " ")}


def completed_row(item: BatchInput, folder: Path, status: str = "skipped") -> dict:
    """The row of an input whose folder is already complete (numbers from its summary.json)."""
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        summary = {}
    return row(item, status, summary.get("frames", 0), summary.get("processing_fps", 0.0),
               summary.get("unique_tracks", 0), summary.get("run_time_s", 0.0))


def _relocate(tmp: Path, final: Path) -> None:
    """summary.json and config.yaml name their own folder: point them at the final one."""
    summary_path = tmp / "summary.json"
    text = summary_path.read_text().replace(str(tmp), str(final))
    summary_path.write_text(text)
    config_path = tmp / "config.yaml"
    if config_path.exists():
        config_path.write_text(config_path.read_text().replace(str(tmp), str(final)))


def _move_into_place(tmp: Path, final: Path) -> None:
    """Rename ``tmp`` to ``final``; an older ``final`` (``--force``) is swapped out first and removed
    only after the new one is in place."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.rename(final, old)
    os.rename(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def track_one(item: BatchInput, out_root: Path, cfg: Config, detections: Optional[str] = None,
              detector=None, progress: Optional[Callable[[int], None]] = None) -> dict:
    """Track one input into ``out_root/<item.name>/``; returns its fleet.csv row (never raises for
    a problem of the input itself: that is a ``failed`` row with its error)."""
    from ..run import Run

    started = time.time()
    if item.error:
        return row(item, "failed", error=item.error)
    final = out_root / item.name
    tmp = temp_dir_for(out_root, item.name)
    shutil.rmtree(tmp, ignore_errors=True)
    task_cfg = copy.deepcopy(cfg)
    task_cfg.output.dir = str(tmp)
    task_cfg.quiet = True
    if detections is not None:
        task_cfg.detector.detections = detections
        detector = None   # a det file belongs to one video
    try:
        run = Run([item.spec], task_cfg, save=True, detector=detector)
        frames = 0
        for frames, _result in enumerate(run, 1):
            if progress is not None and frames % PROGRESS_EVERY == 0:
                progress(frames)
        if progress is not None:
            progress(frames)
        _relocate(tmp, final)
        _move_into_place(tmp, final)
    except UserError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        return row(item, "failed", seconds=time.time() - started, error=str(err))
    except Exception as err:  # a bug or an odd file: this input fails, the batch goes on
        shutil.rmtree(tmp, ignore_errors=True)
        last = traceback.extract_tb(err.__traceback__)[-1]
        where = f" (at {Path(last.filename).name}:{last.lineno})" if last else ""
        return row(item, "failed", seconds=time.time() - started,
                   error=f"{type(err).__name__}: {err}{where}")
    return completed_row(item, final, status="done")


def shared_detector(cfg: Config):
    """The detector a worker loads once and reuses for every video; None for det files (per video)."""
    from ..detectors import make_detector

    d = cfg.detector
    if d.detections or d.name == "precomputed":
        return None
    return make_detector(d.name, d.model, None, d.imgsz, d.conf, d.iou, d.classes, d.device, d.half,
                         d.weights_dir, threads=d.threads)


class VideoWorker:
    """A Ray actor (``ray.remote(VideoWorker)``): tracks one input per call with the detector it
    loaded when it started. ``progress`` is the driver's ``FleetProgress`` actor."""

    def __init__(self, cfg: Config, out_root: str, progress=None) -> None:
        os.environ.setdefault("YOLO_VERBOSE", "False")
        self.cfg = cfg
        self.out_root = Path(out_root)
        self.progress = progress
        self.detector, self.load_error = None, None
        try:
            self.detector = shared_detector(cfg)
        except UserError as err:   # e.g. weights missing on this machine: every video says so
            self.load_error = f"worker could not load the detector: {err}"

    def pid(self) -> int:
        return os.getpid()

    def track(self, item: BatchInput, detections: Optional[str] = None) -> dict:
        if self.load_error:
            return dict(row(item, "failed", error=self.load_error), worker_pid=os.getpid())
        report = None
        if self.progress is not None:
            def report(frames: int) -> None:
                self.progress.set.remote(item.name, frames)
        result = track_one(item, self.out_root, self.cfg, detections, self.detector, report)
        result["worker_pid"] = os.getpid()
        return result


class FleetProgress:
    """A Ray actor holding the frames done per input, for the driver's fleet frames/s."""

    def __init__(self) -> None:
        self.frames = {}

    def set(self, name: str, frames: int) -> None:
        self.frames[name] = frames   # a retry starts its input again from 0

    def total(self) -> int:
        return sum(self.frames.values())
