"""The analytics sink: counting events, per-bin counts, zone occupancy and totals of one source.

Files in the run folder, each written as things happen:

* ``events.jsonl``: one JSON object per event, flushed per event
  (``{"event": "line_cross", "name": "door", "direction": "in", "track_id": 3, "class_name": "person",
  "frame": 41, "time_s": 4.0, ...}``; ``zone_exit`` adds ``dwell_s``);
* ``counts.csv``: ``bin_start_s,bin_end_s,name,kind,direction,class_name,count`` per time bin,
  written when a bin closes (``class_name`` ``all`` = every class);
* ``occupancy.csv``: ``frame,time_s,zone,count`` per frame (only with zones);
* ``frame.jpg``: the first frame, clean (the background of the report's trajectory plot).

``summary()`` gives the totals for ``summary.json``; ``overlay`` draws lines, zones and the live
counters on the annotated video (it runs in the video thread: each frame's counters are handed
over as a snapshot, never shared state).
"""
from __future__ import annotations

import heapq
import json
import os
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..errors import UserError
from ..types import Frame, Tracks
from .counting import Counter, CountingRules
from .geometry import Line, Zone, all_names

COUNTS_HEADER = "bin_start_s,bin_end_s,name,kind,direction,class_name,count\n"
SLOWEST_KEPT = 10
FRAME_JPG_MIN_FREE = 64 * 1024 * 1024


def _free_bytes(folder: Path) -> int:
    try:
        st = os.statvfs(folder)
    except OSError:
        return 0
    return st.f_bavail * st.f_frsize


def parse_duration(text) -> float:
    """``"60s"``, ``"5m"``, ``"1h"`` or a number of seconds -> seconds (> 0).

    >>> parse_duration("5m"), parse_duration(30)
    (300.0, 30.0)
    """
    raw = str(text).strip().lower()
    scale = {"s": 1.0, "m": 60.0, "h": 3600.0}
    try:
        value = float(raw[:-1]) * scale[raw[-1]] if raw and raw[-1] in scale else float(raw)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value) or value <= 0:
        raise UserError(f"--count-bin must be a duration like 60s, 5m or 1h, got {text!r}")
    return value


def round_like_csv(xyxy: np.ndarray) -> np.ndarray:
    """Boxes as tracks.csv stores them (2 decimals), so ``track analyze`` on the CSV sees what the live
    sink saw and both give the same events."""
    return np.array([float(f"{v:.2f}") for v in np.asarray(xyxy).ravel()], np.float64).reshape(-1, 4)


class AnalyticsSink:
    """Counts lines and zones for one source and writes the files above into ``out_dir``.

    Args:
        out_dir: the source's output folder.
        lines, zones: from ``geometry.parse_line`` / ``parse_zone`` (pixels or fractions).
        names: class id -> name.
        rules: counting rules.
        count_bin_s: width of the ``counts.csv`` time bins.
        frame_size: (width, height) for fractional coordinates; default: the first frame's.
    """

    def __init__(self, out_dir, lines: Sequence[Line], zones: Sequence[Zone], names: Mapping[int, str],
                 rules: Optional[CountingRules] = None, count_bin_s: float = 60.0,
                 frame_size: Optional[Tuple[int, int]] = None) -> None:
        all_names(lines, zones)
        self.dir = Path(out_dir)
        self.raw_lines, self.raw_zones = list(lines), list(zones)
        self.lines: List[Line] = []
        self.zones: List[Zone] = []
        self.names = names
        self.rules = rules or CountingRules()
        self.bin_s = float(count_bin_s)
        self.frame_size = frame_size
        self.counter: Optional[Counter] = None
        self.enabled = bool(self.raw_lines or self.raw_zones)
        self._events = open(self.dir / "events.jsonl", "w", buffering=1) if self.enabled else None
        self._counts = open(self.dir / "counts.csv", "w", buffering=1) if self.enabled else None
        if self._counts:
            self._counts.write(COUNTS_HEADER)
        self._occupancy = (open(self.dir / "occupancy.csv", "w", buffering=1)
                           if self.raw_zones else None)
        if self._occupancy:
            self._occupancy.write("frame,time_s,zone,count\n")
        self.totals: Dict[Tuple[str, str, str], int] = defaultdict(int)     # (name, direction, class)
        self._bin_counts: Dict[Tuple[str, str, str], int] = defaultdict(int)
        self._bin_index = 0
        self._classes: set = set()
        self.max_occupancy: Dict[str, int] = {}
        self.dwell: Dict[str, List[float]] = defaultdict(list)
        self.frames = 0
        self._last_time: Optional[float] = None
        self._last_write: Optional[float] = None
        self._slowest: List[Tuple[float, int, int]] = []   # min-heap of (ms, frame, tracks)
        self._snapshots: Dict[int, Tuple[Dict[Tuple[str, str], int], Dict[str, int]]] = {}
        self._lock = threading.Lock()
        self.closed = False

    # -- per frame ---------------------------------------------------------------------------------
    def _setup(self, frame: Frame) -> None:
        if self.frame_size is None and frame.image is not None:
            self.frame_size = (int(frame.image.shape[1]), int(frame.image.shape[0]))
        needs_size = any(x.points.max() <= 1.0 for x in self.raw_lines + self.raw_zones)
        if needs_size and self.frame_size is None:
            raise UserError("lines/zones given as fractions of the frame need the frame size: pass --size WxH")
        w, h = self.frame_size or (1, 1)
        self.lines = [x.scaled(w, h) for x in self.raw_lines]
        self.zones = [z.scaled(w, h) for z in self.raw_zones]
        self.counter = Counter(self.lines, self.zones, self.rules)
        if frame.image is not None and _free_bytes(self.dir) > FRAME_JPG_MIN_FREE:
            cv2.imwrite(str(self.dir / "frame.jpg"), frame.image)   # a nicety: never the file that fills a disk

    def write(self, frame: Frame, tracks: Tracks) -> None:
        now = time.perf_counter()
        if self._last_write is not None:   # the slowest frames: longest waits between frames
            item = (1000.0 * (now - self._last_write), frame.index + 1, len(tracks))
            if len(self._slowest) < SLOWEST_KEPT:
                heapq.heappush(self._slowest, item)
            elif item > self._slowest[0]:
                heapq.heapreplace(self._slowest, item)
        self._last_write = now
        if self.counter is None:
            self._setup(frame)
        self.frames += 1
        time_s = round(float(frame.time_s), 3)   # as tracks.csv stores it
        self._close_bins(time_s)
        self._last_time = time_s
        if not self.enabled:
            return
        names = [self.names.get(int(c), str(int(c))) for c in tracks.cls]
        events = self.counter.update(frame.index + 1, time_s, tracks.track_id, round_like_csv(tracks.xyxy), names)
        self._record(events)
        occupancy = dict(self.counter.occupancy)
        if self._occupancy is not None:
            self._occupancy.write("".join(f"{frame.index + 1},{time_s:.3f},{z},{n}\n" for z, n in occupancy.items()))
        for z, n in occupancy.items():
            self.max_occupancy[z] = max(self.max_occupancy.get(z, 0), n)
        with self._lock:
            self._snapshots[frame.index] = (self.live_counts(), occupancy)
            if len(self._snapshots) > 256:   # no video sink is taking them
                self._snapshots.pop(next(iter(self._snapshots)))

    def _record(self, events: List[dict]) -> None:
        for e in events:
            direction = e.get("direction") or ("enter" if e["event"] == "zone_enter" else "exit")
            key = (e["name"], direction, e["class_name"])
            self.totals[key] += 1
            self._classes.add(e["class_name"])
            self._bin_counts[key] += 1   # the current bin (also for an exit written late, of a lost track)
            if e["event"] == "zone_exit":
                self.dwell[e["name"]].append(e["dwell_s"])
            self._events.write(json.dumps(e) + "\n")
            self._events.flush()

    def _close_bins(self, time_s: float) -> None:
        while self.enabled and time_s >= (self._bin_index + 1) * self.bin_s:
            self._write_bin()
            self._bin_index += 1

    def _write_bin(self, end: Optional[float] = None) -> None:
        start = self._bin_index * self.bin_s
        stop = end if end is not None else start + self.bin_s
        rows = []
        for kind, items, directions in (("line", self.raw_lines, ("in", "out")),
                                        ("zone", self.raw_zones, ("enter", "exit"))):
            for item in items:
                for d in directions:
                    total = sum(n for (name, dd, _), n in self._bin_counts.items() if name == item.name and dd == d)
                    rows.append(f"{start:.3f},{stop:.3f},{item.name},{kind},{d},all,{total}\n")
                    for cls in sorted(self._classes):
                        n = self._bin_counts.get((item.name, d, cls), 0)
                        if n:
                            rows.append(f"{start:.3f},{stop:.3f},{item.name},{kind},{d},{cls},{n}\n")
        self._counts.write("".join(rows))
        self._bin_counts.clear()

    # -- live counters for the video -------------------------------------------------------------
    def live_counts(self) -> Dict[Tuple[str, str], int]:
        counts: Dict[Tuple[str, str], int] = defaultdict(int)
        for (name, direction, _), n in self.totals.items():
            counts[name, direction] += n
        return dict(counts)

    def overlay(self, image: np.ndarray, frame: Frame) -> np.ndarray:
        """Draw lines, zones and this frame's counters (called by the video sink, in its thread)."""
        from .overlay import draw_analytics

        with self._lock:
            snapshot = self._snapshots.pop(frame.index, None)
        if snapshot is None or not self.enabled:
            return image
        return draw_analytics(image, self.lines, self.zones, *snapshot)

    # -- end -------------------------------------------------------------------------------------
    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.enabled:
            if self.counter is not None:
                self._record(self.counter.finish())
            self._write_bin(end=self._last_time if self._last_time is not None else 0.0)
        for fh in (self._events, self._counts, self._occupancy):
            if fh is not None:
                fh.close()

    def summary(self) -> dict:
        """Totals for summary.json: per line in/out (and per class), per zone enters/exits/dwell/occupancy."""
        out: dict = {"lines": {}, "zones": {}}
        for line in self.raw_lines:
            entry = {d: sum(n for (name, dd, _), n in self.totals.items() if name == line.name and dd == d)
                     for d in ("in", "out")}
            entry["per_class"] = {cls: {d: self.totals.get((line.name, d, cls), 0) for d in ("in", "out")}
                                  for cls in sorted(self._classes)
                                  if any(self.totals.get((line.name, d, cls), 0) for d in ("in", "out"))}
            entry["points"] = [[round(float(v), 2) for v in p] for p in (self.lines[self.raw_lines.index(line)].points
                                                             if self.lines else line.points)]
            out["lines"][line.name] = entry
        for i, zone in enumerate(self.raw_zones):
            dwell = self.dwell.get(zone.name, [])
            entry = {d: sum(n for (name, dd, _), n in self.totals.items() if name == zone.name and dd == d)
                     for d in ("enter", "exit")}
            entry.update(max_occupancy=self.max_occupancy.get(zone.name, 0),
                         mean_dwell_s=round(float(np.mean(dwell)), 3) if dwell else 0.0,
                         max_dwell_s=round(float(np.max(dwell)), 3) if dwell else 0.0,
                         points=[[round(float(v), 2) for v in p] for p in (self.zones[i].points if self.zones else zone.points)])
            out["zones"][zone.name] = entry
        out["count_bin_s"] = self.bin_s
        out["rules"] = dict(vars(self.rules))
        out["slowest_frames"] = [{"frame": f, "ms": round(ms, 1), "tracks": n}
                                 for ms, f, n in sorted(self._slowest, reverse=True)]
        return out
