"""``track analyze``: lines and zones counted again from an existing tracks file, without re-tracking.

Reads ``tracks.csv`` (columns by name; extra columns are ignored), a MOTChallenge ``tracks.txt``,
or a run folder (its tracks.csv, else tracks.txt; its summary.json for the frame rate and its
frame.jpg or video for the frame size). Frames without any track are not in those files; they are
filled in (frame step and times from their neighbours) so the counting rules see the same frames
the live run saw and ``track analyze`` on a run's tracks gives the live run's events.

Example:
    >>> frames, meta = load_tracks("runs/track/exp")                          # doctest: +SKIP
    >>> analyze(frames, AnalyticsSetup.from_config({"lines": ["a=0,0.5,1,0.5"]}), "out", meta)  # doctest: +SKIP
"""
from __future__ import annotations

import csv
import json
import math
from functools import reduce
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import cv2
import numpy as np

from ..errors import UserError
from ..types import Frame, Tracks

REQUIRED_CSV = ("frame", "track_id", "x1", "y1", "x2", "y2")
# one frame's tracks: (1-based frame, time_s, ids, xyxy, class names)
TrackFrame = Tuple[int, float, np.ndarray, np.ndarray, List[str]]


def find_tracks_file(path: Path) -> Path:
    if path.is_dir():
        for name in ("tracks.csv", "tracks.txt"):
            if (path / name).is_file():
                return path / name
        raise UserError(f"no tracks.csv or tracks.txt in {path}")
    if not path.is_file():
        raise UserError(f"tracks file not found: {path}")
    return path


def frame_size_of(run_dir: Path) -> Optional[Tuple[int, int]]:
    """(width, height) of a run's frames: its frame.jpg, else its video."""
    image = cv2.imread(str(run_dir / "frame.jpg")) if (run_dir / "frame.jpg").is_file() else None
    if image is not None:
        return int(image.shape[1]), int(image.shape[0])
    for video in sorted(run_dir.glob("*.mp4")) + sorted(run_dir.glob("*.avi")):
        cap = cv2.VideoCapture(str(video))
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        cap.release()
        if w > 0 and h > 0:
            return w, h
    return None


def _read_csv(path: Path) -> Tuple[Dict[int, list], Dict[int, float]]:
    rows: Dict[int, list] = {}
    times: Dict[int, float] = {}
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED_CSV if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(f"{path}: not a tracks.csv (missing column{'s' * (len(missing) > 1)} "
                            f"{', '.join(missing)})")
        for n, row in enumerate(reader, 2):
            try:
                f = int(row["frame"])
                box = [float(row[k]) for k in ("x1", "y1", "x2", "y2")]
                tid = int(row["track_id"])
                if row.get("time_s") not in (None, ""):
                    times[f] = float(row["time_s"])
            except (TypeError, ValueError):
                raise UserError(f"{path}:{n}: malformed row") from None
            if not all(math.isfinite(v) for v in box):
                raise UserError(f"{path}:{n}: box is not finite")
            name = row.get("class_name") or row.get("class_id") or "object"
            rows.setdefault(f, []).append((tid, box, name))
    return rows, times


def _read_mot(path: Path) -> Dict[int, list]:
    from ..formats.mot import read_mot_results

    arr = read_mot_results(path)
    rows: Dict[int, list] = {}
    for r in arr:
        x, y, w, h = r[2:6]
        rows.setdefault(int(r[0]), []).append((int(r[1]), [x, y, x + w, y + h], "object"))
    return rows


def load_tracks(path, fps: Optional[float] = None) -> Tuple[List[TrackFrame], dict]:
    """Frames of tracks (gaps filled) and ``meta`` (``fps``, ``frame_size``, ``run_dir``)."""
    path = Path(path)
    file = find_tracks_file(path)
    run_dir = file.parent
    summary = {}
    if (run_dir / "summary.json").is_file():
        try:
            summary = json.loads((run_dir / "summary.json").read_text())
        except (OSError, ValueError):
            summary = {}
    fps = fps or summary.get("source_fps") or None
    if file.suffix == ".csv":
        rows, times = _read_csv(file)
    else:
        rows, times = _read_mot(file), {}
    if not rows:
        return [], dict(fps=fps or 30.0, frame_size=frame_size_of(run_dir), run_dir=run_dir)
    numbers = sorted(rows)
    step = reduce(math.gcd, np.diff(numbers).tolist(), 0) or 1
    if not fps:
        spans = [(times[b] - times[a]) / (b - a) for a, b in zip(numbers, numbers[1:]) if a in times and b in times]
        fps = 1.0 / float(np.median(spans)) if spans and np.median(spans) > 0 else 30.0
    first, last = numbers[0], numbers[-1]
    run_frames = summary.get("frames")   # the live run's frame count, when the tracks are a run's
    if isinstance(run_frames, int) and run_frames > 0 and (first - 1) % step == 0:
        # the run's frames without tracks, before the first and after the last, count too: bins end
        # and occupancy rows run where the live run's did
        first, last = 1, max(last, 1 + (run_frames - 1) * step)
    frames: List[TrackFrame] = []
    known = sorted(times)
    for f in range(first, last + 1, step):
        if f in times:
            t = times[f]
        elif known:   # a frame without tracks: time from its neighbours
            i = int(np.searchsorted(known, f))
            a, b = known[max(i - 1, 0)], known[min(i, len(known) - 1)]
            t = times[a] + (f - a) * ((times[b] - times[a]) / (b - a) if b != a else 1.0 / fps)
        else:
            t = (f - 1) / fps
        items = rows.get(f, [])
        ids = np.array([i[0] for i in items], np.int64)
        xyxy = np.array([i[1] for i in items], np.float64).reshape(-1, 4)
        # + 0.0: frames before the first track would read "-0.000"
        frames.append((f, round(t, 3) + 0.0, ids, xyxy, [str(i[2]) for i in items]))
    return frames, dict(fps=fps, frame_size=frame_size_of(run_dir), run_dir=run_dir)


def replay(frames: List[TrackFrame]) -> Iterator[Tuple[Frame, Tracks, Dict[int, str]]]:
    """Frames and Tracks as the live sinks saw them (no images); class names become ids."""
    names: Dict[str, int] = {}
    for f, t, ids, xyxy, cls_names in frames:
        cls = np.array([names.setdefault(n, len(names)) for n in cls_names], np.int64)
        yield (Frame(f - 1, t, None), Tracks(xyxy.astype(np.float32), ids, np.ones(len(ids), np.float32), cls),
               {v: k for k, v in names.items()})


def analyze(frames: List[TrackFrame], setup, out_dir, meta: dict) -> dict:
    """Write events.jsonl, counts.csv, occupancy.csv and summary.json into ``out_dir``; return the totals."""
    from ..run import prepare_dir, write_json_atomic

    out = prepare_dir(Path(out_dir))
    names: Dict[int, str] = {}
    sink = setup.sink(out, names, meta.get("frame_size"))
    try:
        for frame, tracks, current in replay(frames):
            names.update(current)
            sink.write(frame, tracks)
    finally:
        sink.close()
    totals = sink.summary()
    totals.pop("slowest_frames", None)   # timing of this replay means nothing
    write_json_atomic(out / "summary.json", {"tracks": str(meta.get("tracks", "")), "frames": len(frames),
                                             "source_fps": meta.get("fps"), "analytics": totals})
    return totals


def unfinished_summary(run_dir) -> dict:
    """A summary for a run folder without ``summary.json`` (killed, or still running), from its logs:
    frames and tracks from its tracks file, and the line/zone totals recounted from those tracks with
    the lines and zones of its ``config.yaml`` (the same counting as the live run: the totals equal
    what its ``events.jsonl`` holds). The run's own files are not touched."""
    import tempfile

    from ..config import load_config
    from . import AnalyticsSetup

    run_dir = Path(run_dir)
    frames, meta = load_tracks(run_dir)
    summary = {"frames": frames[-1][0] if frames else 0, "source_fps": round(float(meta["fps"]), 3),
               "unique_tracks": len({int(t) for f in frames for t in f[2]}), "status": "unfinished",
               "analytics": {}}
    config = run_dir / "config.yaml"
    if config.is_file():
        setup = AnalyticsSetup.from_config(load_config(str(config), use_default_file=False).analytics)
        if setup.lines or setup.zones:
            with tempfile.TemporaryDirectory() as tmp:
                summary["analytics"] = analyze(frames, setup, tmp, meta)
    return summary
