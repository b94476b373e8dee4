"""Line crossings and zone visits from per-frame tracks, robust to what trackers really output.

The rules (chosen by measurement against crossings of ground-truth trajectories, see
``tools/bench_counting.py`` and docs/benchmarks.md):

* **Hysteresis.** A track's side of a line changes only when its anchor is more than
  ``margin`` x its box height beyond the line, so a box jittering on the line is no crossing.
* **Steps count.** The path between two frames is tested against the segment, so a fast object
  that jumps over the line between frames is counted; one passing beside the segment is not.
* **Once per track, line and direction**, and a crossing back within ``u_turn_s`` seconds of the
  last one (a box that swings back over the line) is not counted.
* **Id switches.** A new id that appears within ``relink_s`` seconds and ``relink_dist`` box heights
  (of the smaller box; the two heights within ``RELINK_SIZE_RATIO``) of where a lost track of the same
  class would be by now (at its last pace) continues that track's state (its side of each
  line, what it has counted, its zone visits): a switch in the middle of a crossing neither loses
  the crossing nor counts it twice.
* **Lost on the line.** A track lost just after it crossed the segment, before it was ``margin``
  beyond it, is counted when it has been gone ``relink_s`` (at the frame it was last seen).
* **Coasting.** A track lost while heading for a line, that
  at its last pace would be ``margin`` beyond it within ``coast_s`` seconds, is counted when it
  expires (at the frame it was last seen), as if the tracker had kept predicting it.
* **Short tracks.** Events of a track are held back until it has been seen ``min_frames`` times
  (a tentative track that dies early counts nothing); they keep their own frame and time.

Example:
    >>> from tracker.analytics.geometry import parse_line
    >>> counter = Counter([parse_line("l=0,50,100,50")], [])
    >>> box = lambda y: np.array([[45.0, y - 20, 55.0, y]])       # anchor = bottom centre
    >>> for f, y in enumerate([30, 40, 49.8, 50.2, 49.8, 50.2, 70], 1):  # jitter on the line, then across
    ...     events = counter.update(f, f / 10, np.array([7]), box(y), ["person"])
    ...     if events: print(f, events[0]["direction"])
    7 in
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

from .geometry import Line, Zone, anchor_points

# the state of an id unseen this long is forgotten (bounded memory on endless streams)
FORGET_AFTER_S = 60.0
# a new id continues a lost one only when their box heights differ by at most this factor
RELINK_SIZE_RATIO = 1.5


@dataclass
class CountingRules:
    """Parameters of the counting rules (``analytics:`` in configs/default.yaml)."""

    margin: float = 0.02       # box heights beyond the line before a side counts (hysteresis)
    u_turn_s: float = 0.5      # a crossing back within this many seconds is not counted
    relink_s: float = 0.5      # a new id this soon after a lost one, nearby, continues it (id switches)
    relink_dist: float = 1.0   # ... within this many box heights of where the lost one was
    min_frames: int = 3        # events wait until a track has been seen this many frames
    coast_s: float = 0.25      # a lost track that would cross a line this soon, at its last pace, is counted
    anchor: str = "bottom_center"


@dataclass
class _Track:
    """Counting state of one id."""

    track_id: int
    class_name: str
    hits: int = 0
    last_frame: int = 0
    last_time: float = 0.0
    anchor: Optional[np.ndarray] = None
    velocity: Optional[np.ndarray] = None   # anchor pixels per second (smoothed), to predict a lost track
    height: float = 0.0
    claimed: bool = False      # a later id continued this one
    expired: bool = False      # gone longer than relink_s: its open crossings and visits are closed
    side: Dict[str, int] = field(default_factory=dict)             # line -> -1 / +1 (settled side)
    dist: Dict[str, float] = field(default_factory=dict)           # line -> signed distance of ``anchor``
    crossed: Dict[str, bool] = field(default_factory=dict)         # line -> crossed the segment since settling
    firm: Dict[str, bool] = field(default_factory=dict)            # line -> has been margin beyond it on ``side``
    counted: Dict[str, Set[str]] = field(default_factory=dict)     # line -> directions counted
    last_cross: Dict[str, Tuple[float, str]] = field(default_factory=dict)  # line -> (time, direction)
    inside: Dict[str, Tuple[int, float]] = field(default_factory=dict)      # zone -> (enter frame, time)
    pending: List[dict] = field(default_factory=list)              # events held until min_frames


class Counter:
    """Turns per-frame tracks into ``line_cross`` / ``zone_enter`` / ``zone_exit`` events.

    ``update`` is called once per frame (frames in order, 1-based numbers); ``finish`` at the end
    closes visits still open. ``occupancy`` holds the last frame's count of tracks in each zone.
    """

    def __init__(self, lines: Sequence[Line], zones: Sequence[Zone], rules: Optional[CountingRules] = None) -> None:
        self.lines = list(lines)
        self.zones = list(zones)
        self.rules = rules or CountingRules()
        self.tracks: Dict[int, _Track] = {}
        self.occupancy: Dict[str, int] = {z.name: 0 for z in self.zones}
        self._time = 0.0

    # -- per frame -----------------------------------------------------------------------------
    def update(self, frame: int, time_s: float, track_ids: np.ndarray, xyxy: np.ndarray,
               class_names: Sequence[str]) -> List[dict]:
        """Events caused by this frame's tracks (plus exits of tracks that have gone)."""
        r = self.rules
        ids = [int(t) for t in np.asarray(track_ids).reshape(-1)]
        boxes = np.asarray(xyxy, np.float64).reshape(-1, 4)
        anchors = anchor_points(boxes, r.anchor)
        heights = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
        line_d = {ln.name: ln.signed_distance(anchors).tolist() for ln in self.lines}
        zone_d = {z.name: z.signed_distance(anchors).tolist() for z in self.zones}
        events: List[dict] = []
        self._time = time_s
        seen = set(ids)
        for k, tid in enumerate(ids):
            state = self.tracks.get(tid)
            if state is None:
                state = self._start(tid, class_names[k], frame, anchors[k], heights[k], seen)
            out: List[dict] = []
            for line in self.lines:
                self._line_step(state, line, anchors[k], line_d[line.name][k], heights[k], frame, time_s, out)
            for zone in self.zones:
                self._zone_step(state, zone.name, zone_d[zone.name][k], heights[k], frame, time_s, out)
            state.hits += 1
            state.expired = False   # seen again (a tracker found it back)
            if state.anchor is not None and time_s > state.last_time:
                v = (anchors[k] - state.anchor) / (time_s - state.last_time)
                state.velocity = v if state.velocity is None else 0.7 * state.velocity + 0.3 * v
            state.last_frame, state.last_time = frame, time_s
            state.anchor, state.height = anchors[k], float(heights[k])
            events.extend(self._release(state, out))
        events.extend(self._expire(frame, time_s, seen))
        self.occupancy = {z.name: sum(1 for tid in ids if z.name in self.tracks[tid].inside
                                      and self.tracks[tid].hits >= r.min_frames) for z in self.zones}
        return events

    def finish(self) -> List[dict]:
        """Close the zone visits of tracks still inside (at the frame they were last seen)."""
        events = []
        for state in self.tracks.values():
            if not state.claimed and state.hits >= self.rules.min_frames:
                events.extend(self._lost_crossings(state))
                events.extend(self._close_visits(state, end=True))
        self.tracks.clear()
        return events

    # -- rules -------------------------------------------------------------------------------------
    def _start(self, tid: int, class_name: str, frame: int, anchor: np.ndarray, height: float,
               seen: set) -> _Track:
        """A new id: continue a track of the same class lost nearby moments ago, if there is one."""
        r = self.rules
        state = _Track(tid, str(class_name))
        best, best_dist = None, None
        for old in self.tracks.values():
            if (old.claimed or old.track_id in seen or old.class_name != state.class_name
                    or old.anchor is None or self._time - old.last_time > r.relink_s):
                continue
            # where the lost track would be now, had it kept its pace
            gone = self._time - old.last_time
            expected = old.anchor + (old.velocity * gone if old.velocity is not None else 0.0)
            dist = float(np.hypot(*(anchor - expected)))
            # the same person: a similar size, and near in units of the smaller box (a big box near the
            # camera would otherwise reach across the frame to any small new one)
            similar = max(height, old.height) <= RELINK_SIZE_RATIO * min(height, old.height)
            if similar and dist <= r.relink_dist * min(height, old.height) and (best is None or dist < best_dist):
                best, best_dist = old, dist
        if best is not None:
            best.claimed = True
            state.hits = best.hits
            state.anchor, state.velocity = best.anchor, best.velocity
            state.last_frame, state.last_time = best.last_frame, best.last_time
            state.side = dict(best.side)
            state.dist = dict(best.dist)
            state.crossed = dict(best.crossed)
            state.firm = dict(best.firm)
            state.counted = {k: set(v) for k, v in best.counted.items()}
            state.last_cross = dict(best.last_cross)
            state.inside, best.inside = best.inside, {}
            state.pending, best.pending = best.pending, []
        self.tracks[tid] = state
        return state

    def _line_step(self, state: _Track, line: Line, anchor: np.ndarray, d: float, height: float,
                   frame: int, time_s: float, out: List[dict]) -> None:
        name = line.name
        side = state.side.get(name)
        d_prev, state.dist[name] = state.dist.get(name), d
        if side is None:   # first sight: the side it is on, however close to the line
            state.side[name] = 1 if d >= 0 else -1
            state.crossed[name] = False
            return
        if d_prev is not None and (d_prev < 0) != (d < 0):   # the step crossed the infinite line
            t = float(line.crossing_param(state.anchor[None], anchor[None])[0])
            if 0.0 <= t <= 1.0:
                state.crossed[name] = True
        margin = self.rules.margin * height
        settled = 1 if d > margin else -1 if d < -margin else side
        if settled == side:
            if abs(d) > margin:
                state.crossed[name] = False   # back on its side: an earlier wobble over the line is void
                state.firm[name] = True
            return
        state.side[name] = settled
        state.firm[name] = True
        crossed, state.crossed[name] = state.crossed.get(name, False), False
        if not crossed:
            return   # it went round the end of the segment
        self._count(state, name, "in" if settled > 0 else "out", frame, time_s, anchor, out)

    def _count(self, state: _Track, name: str, direction: str, frame: int, time_s: float, anchor: np.ndarray,
               out: List[dict]) -> None:
        """Count a crossing unless this track already counted the direction or is swinging back."""
        counted = state.counted.setdefault(name, set())
        last = state.last_cross.get(name)
        if direction in counted:
            return
        if last is not None and last[1] != direction and time_s - last[0] < self.rules.u_turn_s:
            return   # swung back over the line moments after crossing it
        counted.add(direction)
        state.last_cross[name] = (time_s, direction)
        out.append({"event": "line_cross", "name": name, "direction": direction,
                    "track_id": state.track_id, "class_name": state.class_name, "frame": frame,
                    "time_s": round(float(time_s), 3),
                    "x": round(float(anchor[0]), 1), "y": round(float(anchor[1]), 1)})

    def _lost_crossings(self, state: _Track) -> List[dict]:
        """A track that crossed a segment and was lost on the far side before it got ``margin`` beyond
        it (walked out of view, behind something) did cross: counted at the frame it was last seen."""
        out: List[dict] = []
        for name, crossed in state.crossed.items():
            d = state.dist.get(name)
            # only from a side it was firmly on: a box that jittered on the line all its life proves nothing
            if crossed and state.firm.get(name) and d is not None and (1 if d >= 0 else -1) != state.side.get(name):
                state.crossed[name] = False
                self._count(state, name, "in" if d >= 0 else "out", state.last_frame, state.last_time,
                            state.anchor, out)
        # coasting is for tracks that were lost, not for those still in view when the video ended
        if (self.rules.coast_s > 0 and state.velocity is not None and state.anchor is not None
                and state.last_time < self._time):
            end = state.anchor + state.velocity * self.rules.coast_s   # where it was heading
            for line in self.lines:
                side, d_end = state.side.get(line.name), float(line.signed_distance(end[None])[0])
                if (side is None or not state.firm.get(line.name) or (1 if d_end >= 0 else -1) == side
                        or abs(d_end) <= self.rules.margin * state.height):
                    continue
                if 0.0 <= float(line.crossing_param(state.anchor[None], end[None])[0]) <= 1.0:
                    state.side[line.name] = -side
                    self._count(state, line.name, "in" if d_end >= 0 else "out", state.last_frame,
                                state.last_time, state.anchor, out)
        return out

    def _zone_step(self, state: _Track, name: str, d: float, height: float, frame: int, time_s: float,
                   out: List[dict]) -> None:
        margin = self.rules.margin * height
        inside = name in state.inside
        if not inside and (d > margin or (state.hits == 0 and d >= 0)):
            state.inside[name] = (frame, time_s)
            out.append({"event": "zone_enter", "name": name, "track_id": state.track_id,
                        "class_name": state.class_name, "frame": frame, "time_s": round(float(time_s), 3)})
        elif inside and d < -margin:
            out.append(self._exit_event(state, name, frame, time_s))

    def _exit_event(self, state: _Track, name: str, frame: int, time_s: float, end: bool = False) -> dict:
        enter_frame, enter_time = state.inside.pop(name)
        event = {"event": "zone_exit", "name": name, "track_id": state.track_id,
                 "class_name": state.class_name, "frame": frame, "time_s": round(float(time_s), 3),
                 "dwell_s": round(float(time_s - enter_time), 3), "enter_frame": enter_frame}
        if end:
            event["lost"] = True   # last seen inside: exit at the frame it was last seen
        return event

    def _close_visits(self, state: _Track, end: bool) -> List[dict]:
        return [self._exit_event(state, name, state.last_frame, state.last_time, end)
                for name in list(state.inside)]

    def _release(self, state: _Track, out: List[dict]) -> List[dict]:
        """Hold a young track's events until it has been seen ``min_frames`` times."""
        if state.hits < self.rules.min_frames:
            state.pending.extend(out)
            return []
        if state.pending:
            out, state.pending = state.pending + out, []
        return out

    def _expire(self, frame: int, time_s: float, seen: set) -> List[dict]:
        """Tracks gone longer than ``relink_s``: their visits end where they were last seen; ids gone
        for ``FORGET_AFTER_S`` are forgotten."""
        events: List[dict] = []
        forget = []
        for tid, state in self.tracks.items():
            if tid in seen:
                continue
            gone = time_s - state.last_time
            if gone > self.rules.relink_s and not state.claimed and not state.expired:
                state.expired = True   # not continued by a new id: it is gone
                closed = self._lost_crossings(state) + self._close_visits(state, end=True)
                if state.hits >= self.rules.min_frames:
                    events.extend(closed)
            if gone > max(FORGET_AFTER_S, self.rules.relink_s, self.rules.u_turn_s):
                forget.append(tid)
        for tid in forget:
            del self.tracks[tid]
        return events
