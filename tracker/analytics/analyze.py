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
from array import array
from functools import reduce
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

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


class _Rows:
    """A tracks file's rows in compact arrays: a day of a busy camera is millions of rows (measured on
    a 1M-row tracks.csv, ``track analyze`` peaked at 530 bytes a row with a Python tuple per row, at
    150 with these). ``time_frame`` / ``time_s``: the frames whose time the file gives."""

    def __init__(self, frame, ids, xyxy, cls, names: List[str], time_frame=(), time_s=()) -> None:
        self.frame, self.ids = _int64(frame), _int64(ids)
        self.xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
        self.cls, self.names = _int64(cls), names
        self.time_frame, self.time_s = _int64(time_frame), np.asarray(time_s, np.float64).reshape(-1)


def _int64(values) -> np.ndarray:
    return np.asarray(values, np.int64).reshape(-1)


def _read_csv(path: Path) -> _Rows:
    # array.array while reading: 8 bytes a value, where a list holds a Python object per value
    frame, ids, boxes, cls = array("q"), array("q"), array("d"), array("q")
    time_frame, time_s = array("q"), array("d")
    names: Dict[str, int] = {}
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        missing = [c for c in REQUIRED_CSV if c not in header]
        if missing:
            raise UserError(f"{path}: not a tracks.csv (missing column{'s' * (len(missing) > 1)} "
                            f"{', '.join(missing)})")
        col: Dict[str, int] = {}
        for i, name in enumerate(header):
            col.setdefault(name, i)   # the first column of a name
        c_frame, c_id = col["frame"], col["track_id"]
        c_box = [col[k] for k in ("x1", "y1", "x2", "y2")]
        c_time, c_name, c_cls = col.get("time_s"), col.get("class_name"), col.get("class_id")
        for n, row in enumerate(reader, 2):
            if not row:
                continue   # a blank line
            try:
                f = int(row[c_frame])
                box = [float(row[k]) for k in c_box]
                tid = int(row[c_id])
                t = row[c_time] if c_time is not None and c_time < len(row) else ""
                if t != "":
                    t = float(t)
            except (IndexError, TypeError, ValueError):
                raise UserError(f"{path}:{n}: malformed row") from None
            if not all(math.isfinite(v) for v in box):
                raise UserError(f"{path}:{n}: box is not finite")
            name = next((row[c] for c in (c_name, c_cls) if c is not None and c < len(row) and row[c]), "object")
            frame.append(f)
            ids.append(tid)
            boxes.extend(box)
            cls.append(names.setdefault(name, len(names)))
            if t != "":
                time_frame.append(f)
                time_s.append(t)
    return _Rows(frame, ids, boxes, cls, list(names), time_frame, time_s)


def _read_mot(path: Path) -> _Rows:
    from ..boxes import tlwh_to_xyxy
    from ..formats.mot import read_mot_results

    arr = read_mot_results(path)
    return _Rows(arr[:, 0], arr[:, 1], tlwh_to_xyxy(arr[:, 2:6]), np.zeros(len(arr)), ["object"])


class TrackFrames:
    """The frames of a tracks file, in order, gaps filled: ``(frame, time_s, ids, xyxy, class names)``
    for each, made as they are read (``len``, iteration, ``[i]``)."""

    def __init__(self, numbers: np.ndarray, times: np.ndarray, rows: _Rows) -> None:
        self.numbers, self.times = numbers, times
        order = np.argsort(rows.frame, kind="stable")   # a frame's rows keep the file's order
        self._frame, self._ids, self._xyxy, self._cls = (rows.frame[order], rows.ids[order], rows.xyxy[order],
                                                         rows.cls[order])
        self._names = rows.names
        self._start = np.searchsorted(self._frame, numbers, "left")
        self._end = np.searchsorted(self._frame, numbers, "right")

    @property
    def track_ids(self) -> np.ndarray:
        return np.unique(self._ids)

    def rows(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every row at once, in frame order: (time_s, track id, xyxy) arrays (for the plots)."""
        return self.times[np.searchsorted(self.numbers, self._frame)], self._ids, self._xyxy

    def counts(self) -> np.ndarray:
        """Tracks in each frame."""
        return self._end - self._start

    def __len__(self) -> int:
        return len(self.numbers)

    def _item(self, i: int) -> TrackFrame:
        a, b = int(self._start[i]), int(self._end[i])
        # + 0.0: frames before the first track would read "-0.000"
        return (int(self.numbers[i]), round(float(self.times[i]), 3) + 0.0, self._ids[a:b].copy(),
                self._xyxy[a:b].copy(), [self._names[c] for c in self._cls[a:b].tolist()])

    def __getitem__(self, i: int) -> TrackFrame:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self._item(i % len(self))

    def __iter__(self) -> Iterator[TrackFrame]:
        return (self._item(i) for i in range(len(self)))


def load_tracks(path, fps: Optional[float] = None) -> Tuple[TrackFrames, dict]:
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
    rows = _read_csv(file) if file.suffix == ".csv" else _read_mot(file)
    if not len(rows.frame):
        return TrackFrames(rows.frame, np.zeros(0), rows), dict(fps=fps or 30.0, frame_size=frame_size_of(run_dir),
                                                                run_dir=run_dir)
    numbers = np.unique(rows.frame)
    step = reduce(math.gcd, np.diff(numbers).tolist(), 0) or 1
    # the time of each frame that has one (the last row's, when rows disagree)
    known, last_of = np.unique(rows.time_frame[::-1], return_index=True)
    known_t = rows.time_s[::-1][last_of]
    if not fps:
        has = np.isin(numbers, known)
        pair = has[:-1] & has[1:]
        a, b = numbers[:-1][pair], numbers[1:][pair]
        ta, tb = known_t[np.searchsorted(known, a)], known_t[np.searchsorted(known, b)]
        spans = (tb - ta) / (b - a)
        fps = 1.0 / float(np.median(spans)) if len(spans) and np.median(spans) > 0 else 30.0
    first, last = int(numbers[0]), int(numbers[-1])
    run_frames = summary.get("frames")   # the live run's frame count, when the tracks are a run's
    if isinstance(run_frames, int) and run_frames > 0 and (first - 1) % step == 0:
        # the run's frames without tracks, before the first and after the last, count too: bins end
        # and occupancy rows run where the live run's did
        first, last = 1, max(last, 1 + (run_frames - 1) * step)
    frames = np.arange(first, last + 1, step, dtype=np.int64)
    if len(known):   # a frame without a time: from its neighbours'
        i = np.searchsorted(known, frames)
        exact = (i < len(known)) & (known[np.minimum(i, len(known) - 1)] == frames)
        a_i, b_i = np.maximum(i - 1, 0), np.minimum(i, len(known) - 1)
        a, b = known[a_i], known[b_i]
        ta, tb = known_t[a_i], known_t[b_i]
        slope = np.where(b != a, (tb - ta) / np.where(b != a, b - a, 1), 1.0 / fps)
        times = np.where(exact, known_t[np.minimum(i, len(known) - 1)], ta + (frames - a) * slope)
    else:
        times = (frames - 1) / fps
    return TrackFrames(frames, times, rows), dict(fps=fps, frame_size=frame_size_of(run_dir), run_dir=run_dir)


def replay(frames: Iterable[TrackFrame]) -> Iterator[Tuple[Frame, Tracks, Dict[int, str]]]:
    """Frames and Tracks as the live sinks saw them (no images); class names become ids."""
    names: Dict[str, int] = {}
    for f, t, ids, xyxy, cls_names in frames:
        cls = np.array([names.setdefault(n, len(names)) for n in cls_names], np.int64)
        yield (Frame(f - 1, t, None), Tracks(xyxy.astype(np.float32), ids, np.ones(len(ids), np.float32), cls),
               {v: k for k, v in names.items()})


def analyze(frames: TrackFrames, setup, out_dir, meta: dict) -> dict:
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
               "unique_tracks": len(frames.track_ids), "status": "unfinished",
               "analytics": {}}
    config = run_dir / "config.yaml"
    if config.is_file():
        setup = AnalyticsSetup.from_config(load_config(str(config), use_default_file=False).analytics)
        if setup.lines or setup.zones:
            with tempfile.TemporaryDirectory() as tmp:
                summary["analytics"] = analyze(frames, setup, tmp, meta)
    return summary
