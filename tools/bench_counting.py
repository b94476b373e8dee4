#!/usr/bin/env python
"""Line-counting accuracy against crossings of ground-truth trajectories (MOT17-dev, no images).

    python tools/bench_counting.py ../shared/data/MOT17-dev                  # tables for docs/benchmarks.md
    python tools/bench_counting.py ../shared/data/MOT17-dev --search         # + grid search on the tune split
    python tools/bench_counting.py ../shared/data/MOT17-dev --truths         # every reading of the truth
    python tools/bench_counting.py ../shared/data/MOT17-dev /work/variants/strong ... --cache /tmp/c.pkl
        # several roots (the robustness variant families): one summary table, family by family

True crossings: every ground-truth pedestrian (class 1, considered) whose bottom-centre path crosses
the segment, once per id, line and direction. Counted crossings: our tracker (and ultralytics'
BoT-SORT) run on the public detections, counted by

* ``ours``: ``tracker.analytics.Counter`` with its default rules (hysteresis, steps, U-turns, id
  switches, short tracks);
* ``first-crossing``: ultralytics ObjectCounter's rule: each id once, on its first step over the line;
* ``once-per-direction``: each id once per direction, on a step over the line.

Tracks: our tracker (``--trackers``) as a counting run sets it up (its own settings by default) and
with lost tracks reported 45 frames (``analytics.report_lost_frames: 45``), ultralytics' BoT-SORT (its
default YAML, no camera-motion compensation), and ``oracle ids``: the public detections matched to ground
truth (IoU >= 0.5) with the true ids: a perfect tracker on the same boxes, i.e. what the counting rules
alone can do.

Truths: the full truth, crossings "in view" and crossings "visible" (``truth_counts``), each table three times.
``--truths``: one table over seven readings of "crossings computed from ground-truth trajectories"
(``TRUTH_DEFINITIONS``), with every rule over oracle ids, as they are and with each id's misses filled
in (``fill_gaps``): the error a perfect tracker would have.

Error = sum over (sequence, line, direction) of |counted - true|, divided by the true crossings.
Lines: the fixed sets (fractions of the frame, the same on every sequence) and the walkway lines
derived per sequence from where the ground-truth people walk (``walkway_lines``).
Splits: rule parameters are chosen on the *tune* split (MOT17-02, -09 with the TUNE_LINES / the odd-ranked
walkway lines) and confirmed on the others (MOT17-04, -05 with all lines, and MOT17-02, -09 with the
CONFIRM_LINES / the even-ranked walkway lines). ``--explain``: every missed and extra count by cause.
"""
from __future__ import annotations

import argparse
import itertools
import pickle
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker.analytics.counting import Counter, CountingRules  # noqa: E402
from tracker.analytics.geometry import Line, anchor_points, parse_line  # noqa: E402
from tracker.eval.cli import find_sequences, read_gt  # noqa: E402
from tracker.formats.mot import read_det_file, read_seqinfo  # noqa: E402
from tracker.trackers import make_tracker  # noqa: E402
from tracker.types import Detections  # noqa: E402

# fractions of the frame: full-width/-height lines across the walkways, and partial/diagonal ones
TUNE_LINES = ["v30=0.3,0,0.3,1", "v50=0.5,0,0.5,1", "v70=0.7,0,0.7,1", "h60=0,0.6,1,0.6", "h80=0,0.8,1,0.8"]
CONFIRM_LINES = ["v40=0.4,0,0.4,1", "v60=0.6,0,0.6,1", "h50=0,0.5,1,0.5", "h70=0,0.7,1,0.7",
                 "h90=0,0.9,1,0.9", "diag=0.2,0.4,0.8,1", "vhalf=0.5,0.5,0.5,1", "hhalf=0.25,0.75,0.75,0.75"]
TUNE_SEQS = ("MOT17-02", "MOT17-09")
MOVING_SEQS = ("MOT17-05",)
# walkway lines (the "lines drawn across the walkways"), derived per sequence from where the
# ground-truth people walk (see walkway_lines); on the tune sequences the odd-ranked ones tune, the
# even-ranked ones confirm
WALKWAY_COUNT = 6           # lines per sequence, at most
WALKWAY_GRID = 6            # the frame is cut into WALKWAY_GRID x WALKWAY_GRID cells
WALKWAY_MIN_PEOPLE = 3      # a cell is a walkway when at least this many people walk through it ...
WALKWAY_MIN_COHERENCE = 0.7  # ... along one axis (resultant length of their doubled headings)
WALKWAY_HALF_LENGTH = 1.0   # half the line's length, in median box heights of the people there
STANDING_BAND = 0.1         # --explain: a true crossing by someone never this many box heights off the line   # filmed from a walking camera: fixed image lines sweep over everyone
# "in view" truth: a crossing counts only when the person is at least this visible (MOT17 gt column 9)
# at some frame before the crossing and at some frame after it: people who stay hidden (interpolated
# by the annotators) on one side cross too, but no detector sees that. Reported beside the full truth.
IN_VIEW_VISIBILITY = 0.25
# "visible" truth: only steps with the person at least this visible at both of the step's frames (a
# crossing a camera operator would see; of our truths, the one closest to the first-crossing
# figure on MOT17's FRCNN boxes). Reported beside the full truth, never instead.
VISIBLE_VISIBILITY = 0.5
TRUTHS = ("full truth", "true crossings in view", "true crossings visible")
LOST_45 = "(lost 45)"   # the run whose tracker reports lost tracks 45 frames (analytics.report_lost_frames: 45)

Frames = List[Tuple[int, np.ndarray, np.ndarray]]   # (frame, ids, xyxy) per frame
Counts = Dict[Tuple[str, str], int]                 # (line, direction) -> count


# -- trajectories ---------------------------------------------------------------------------------
def gt_visibility(gt: np.ndarray) -> Dict[Tuple[int, int], float]:
    """(frame, id) -> visibility of the ground-truth pedestrians (class 1, considered)."""
    keep = gt[(gt[:, 6] == 1) & (gt[:, 7] == 1)]
    return {(int(f), int(i)): float(v) for f, i, v in zip(keep[:, 0], keep[:, 1], keep[:, 8])}


def gt_frames(gt: np.ndarray, length: int) -> Frames:
    """Ground-truth pedestrians (class 1, considered) as per-frame (ids, xyxy)."""
    keep = gt[(gt[:, 6] == 1) & (gt[:, 7] == 1)]
    frames = []
    for f in range(1, length + 1):
        rows = keep[keep[:, 0] == f]
        xyxy = rows[:, 2:6].copy()
        xyxy[:, 2:] += xyxy[:, :2]
        frames.append((f, rows[:, 1].astype(np.int64), xyxy))
    return frames


def oracle_ids(truth: Frames, dets: Dict[int, Detections]) -> Frames:
    """A perfect tracker on these detections: each detection matched (IoU >= 0.5) to a ground-truth
    box gets that person's id; the box stays the detection's. What the counting rules alone can do."""
    from tracker.boxes import iou_matrix

    out = []
    for f, ids, xyxy in truth:
        det = dets.get(f)
        if det is None or len(det) == 0 or len(ids) == 0:
            out.append((f, ids[:0], xyxy[:0]))
            continue
        iou = iou_matrix(xyxy, det.xyxy.astype(np.float64))
        keep = iou.max(axis=1) >= 0.5
        out.append((f, ids[keep], det.xyxy.astype(np.float64)[iou.argmax(axis=1)][keep]))
    return out


def fill_gaps(frames: Frames) -> Frames:
    """Each id's box interpolated linearly over the frames it is missing between two of its frames:
    on oracle ids, a perfect tracker that also bridges every miss of the detector."""
    boxes: Dict[int, Dict[int, np.ndarray]] = {}
    for f, ids, xyxy in frames:
        for tid, box in zip(ids.tolist(), xyxy):
            boxes.setdefault(tid, {})[f] = box
    rows: Dict[int, List[Tuple[int, np.ndarray]]] = {}
    for tid, by_frame in boxes.items():
        seen = sorted(by_frame)
        for a, b in zip(seen, seen[1:] + [None]):
            rows.setdefault(a, []).append((tid, by_frame[a]))
            for g in range(a + 1, a if b is None else b):
                w = (g - a) / (b - a)
                rows.setdefault(g, []).append((tid, (1 - w) * by_frame[a] + w * by_frame[b]))
    return [(f, np.array([t for t, _ in rows.get(f, [])], np.int64),
             np.array([box for _, box in rows.get(f, [])], np.float64).reshape(-1, 4)) for f, _, _ in frames]


def counting_params(name: str) -> dict:
    """Tracker parameters of a counting run (a run with lines), as ``track`` sets them."""
    from tracker.analytics import AnalyticsSetup
    from tracker.config import AnalyticsConfig

    return AnalyticsSetup.from_config(AnalyticsConfig(lines=["any=0,0,1,1"])).tracker_params(name, {})


def track_ours(name: str, dets: Dict[int, Detections], fps: float, length: int, params=None) -> Frames:
    tracker = make_tracker(name, params, frame_rate=fps)
    empty = Detections.empty()
    out = []
    for f in range(1, length + 1):
        t = tracker.update(dets.get(f, empty))
        out.append((f, t.track_id.copy(), t.xyxy.astype(np.float64)))
    return out


def track_ultralytics(name: str, dets: Dict[int, Detections], fps: float, length: int) -> Frames:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_trackers import UltralyticsAdapter

    adapter = UltralyticsAdapter(name, fps)
    empty = Detections.empty()
    out = []
    for f in range(1, length + 1):
        ids, xyxy, _ = adapter.step(adapter.prepare(dets.get(f, empty)))
        out.append((f, np.asarray(ids, np.int64), np.asarray(xyxy, np.float64)))
    return out


# -- counting rules -------------------------------------------------------------------------------
def step_crossings(frames: Frames, lines: Sequence[Line], fps: float, with_frames: bool = False):
    """(line, track_id, direction) for every step of a track over a segment (no hysteresis), from
    where the track was last seen to where it is now, in time order (``with_frames``: prefixed by
    the frames the step is from and to)."""
    paths: Dict[int, list] = {}
    for f, ids, xyxy in frames:
        for tid, point in zip(ids.tolist(), anchor_points(xyxy)):
            paths.setdefault(tid, []).append((f, point[0], point[1]))
    found = []
    for tid, rows in paths.items():
        arr = np.array(rows)
        pts = arr[:, 1:]
        for line in lines:
            d = line.signed_distance(pts)
            step = np.flatnonzero((d[1:] < 0) != (d[:-1] < 0))
            if len(step) == 0:
                continue
            t = line.crossing_param(pts[step], pts[step + 1])
            for i in step[(t >= 0) & (t <= 1)]:
                found.append((int(arr[i, 0]), int(arr[i + 1, 0]), line.name, tid, "in" if d[i + 1] >= 0 else "out"))
    found.sort(key=lambda x: x[1])
    return found if with_frames else [x[2:] for x in found]


def count_first_crossing(frames: Frames, lines, fps) -> Counts:
    counts: Counts = {}
    done = set()
    for name, tid, direction in step_crossings(frames, lines, fps):
        if (name, tid) not in done:
            done.add((name, tid))
            counts[name, direction] = counts.get((name, direction), 0) + 1
    return counts


def count_once_per_direction(frames: Frames, lines, fps) -> Counts:
    counts: Counts = {}
    done = set()
    for name, tid, direction in step_crossings(frames, lines, fps):
        if (name, tid, direction) not in done:
            done.add((name, tid, direction))
            counts[name, direction] = counts.get((name, direction), 0) + 1
    return counts


def events_ours(frames: Frames, lines, fps, rules: CountingRules) -> List[dict]:
    """Our counter's line crossings, ``finish`` included (as the run's sink calls it at the end)."""
    counter = Counter(lines, [], rules)
    events = []
    for f, ids, xyxy in frames:
        events += counter.update(f, (f - 1) / fps, ids, xyxy, ["person"] * len(ids))
    return [e for e in events + counter.finish() if e["event"] == "line_cross"]


def count_ours(frames: Frames, lines, fps, rules: CountingRules) -> Counts:
    counts: Counts = {}
    for e in events_ours(frames, lines, fps, rules):
        counts[e["name"], e["direction"]] = counts.get((e["name"], e["direction"]), 0) + 1
    return counts


def abs_error(counted: Counts, truth: Counts, lines) -> Tuple[int, int]:
    err = sum(abs(counted.get((ln.name, d), 0) - truth.get((ln.name, d), 0)) for ln in lines for d in ("in", "out"))
    return err, sum(truth.get((ln.name, d), 0) for ln in lines for d in ("in", "out"))


# -- the benchmark --------------------------------------------------------------------------------
def load(root: str, trackers: Sequence[str], cache: str = "") -> dict:
    if cache and Path(cache).is_file():
        with open(cache, "rb") as fh:
            data = pickle.load(fh)
        for seq_dir in find_sequences(root):   # caches written before the visibility was kept
            if seq_dir.name in data and "visibility" not in data[seq_dir.name]:
                data[seq_dir.name]["visibility"] = gt_visibility(read_gt(seq_dir))
        return data
    data = {}
    for seq_dir in find_sequences(root):
        info = read_seqinfo(seq_dir)
        gt = read_gt(seq_dir)
        if gt is None:
            continue
        dets = read_det_file(seq_dir / "det" / "det.txt")
        start = time.perf_counter()
        runs = {}
        for name in trackers:   # as a counting run tracks, and with lost tracks reported 45 frames
            runs[f"ours/{name}"] = track_ours(name, dets, info.fps, info.length, counting_params(name))
            runs[f"ours/{name} {LOST_45}"] = track_ours(name, dets, info.fps, info.length,
                                                       {**counting_params(name), "report_lost_frames": 45})
        runs["ultralytics/botsort"] = track_ultralytics("botsort", dets, info.fps, info.length)
        print(f"{seq_dir.name}: tracked in {time.perf_counter() - start:.1f}s", flush=True)
        truth = gt_frames(gt, info.length)
        runs["oracle ids"] = oracle_ids(truth, dets)
        data[seq_dir.name] = dict(info=info, truth=truth, runs=runs, visibility=gt_visibility(gt))
    if cache:
        with open(cache, "wb") as fh:
            pickle.dump(data, fh)
    return data


def walkway_lines(d: dict) -> List[str]:
    """Lines across the walkways of one sequence, from the ground truth only (never a tracker's output).

    Every ground-truth person at least IN_VIEW_VISIBILITY visible now and one second later, who moved
    at least 0.3 box heights in that second, is a sample (feet position, heading, box height). The
    frame is cut into WALKWAY_GRID x WALKWAY_GRID cells; a cell's score is the number of people
    walking through it times how much their headings agree on one axis (either way along it). The best
    cells (not next to an already chosen one, at least WALKWAY_MIN_PEOPLE people, coherence at least
    WALKWAY_MIN_COHERENCE) get a line through their samples' mean, perpendicular to the walking axis,
    WALKWAY_HALF_LENGTH median box heights either side, clipped to the frame: what a person drawing a
    line across the path people take would draw. Specs are fractions of the frame, best cell first.
    """
    info = d["info"]
    width, height, step = float(info.width), float(info.height), max(int(round(info.fps)), 1)
    visible = d["visibility"]
    feet: Dict[int, Dict[int, Tuple[float, float, float]]] = {}   # id -> frame -> (x, y, box height)
    for f, ids, xyxy in d["truth"]:
        for tid, (x1, y1, x2, y2) in zip(ids.tolist(), xyxy.tolist()):
            if visible.get((f, tid), 0.0) >= IN_VIEW_VISIBILITY:
                feet.setdefault(tid, {})[f] = ((x1 + x2) / 2, y2, y2 - y1)
    samples = []   # x, y, heading angle, box height, id
    for tid, path in feet.items():
        for f, (x, y, h) in path.items():
            later = path.get(f + step)
            if later is None or np.hypot(later[0] - x, later[1] - y) < 0.3 * h:
                continue
            samples.append((x, y, np.arctan2(later[1] - y, later[0] - x), (h + later[2]) / 2, tid))
    if not samples:
        return []
    s = np.array(samples)
    cell_x = np.clip((s[:, 0] / width * WALKWAY_GRID).astype(int), 0, WALKWAY_GRID - 1)
    cell_y = np.clip((s[:, 1] / height * WALKWAY_GRID).astype(int), 0, WALKWAY_GRID - 1)
    cells = []
    for gx, gy in itertools.product(range(WALKWAY_GRID), repeat=2):
        c = s[(cell_x == gx) & (cell_y == gy)]
        people = len(np.unique(c[:, 4]))
        if people < WALKWAY_MIN_PEOPLE:
            continue
        cos, sin = np.cos(2 * c[:, 2]).mean(), np.sin(2 * c[:, 2]).mean()   # doubled: a walking axis
        coherence = float(np.hypot(cos, sin))
        if coherence >= WALKWAY_MIN_COHERENCE:
            cells.append((people * coherence, gx, gy, np.arctan2(sin, cos) / 2, c[:, 0].mean(), c[:, 1].mean(),
                          float(np.median(c[:, 3]))))
    cells.sort(key=lambda c: -c[0])
    chosen: list = []
    for cell in cells:
        if all(max(abs(cell[1] - o[1]), abs(cell[2] - o[2])) > 1 for o in chosen):
            chosen.append(cell)
    specs = []
    for k, (_, _, _, axis, x, y, h) in enumerate(chosen[:WALKWAY_COUNT], 1):
        along = np.array([-np.sin(axis), np.cos(axis)]) * WALKWAY_HALF_LENGTH * h   # across the walking axis
        ends = np.clip(np.array([[x, y]]) + np.array([[-1.0], [1.0]]) * along, 0, [width, height]) / [width, height]
        specs.append(f"w{k}=" + ",".join(f"{v:.4f}" for v in ends.reshape(-1)))
    return specs


def lines_for(specs: Sequence[str], info) -> List[Line]:
    return [parse_line(s).scaled(info.width, info.height) for s in specs]


def truth_counts(d: dict, lines, truth: str = TRUTHS[0]) -> Counts:
    """True crossings: each ground-truth id once per line and direction; "in view": only steps with
    the person at least IN_VIEW_VISIBILITY visible at some frame before and some frame after;
    "visible": only steps with the person at least VISIBLE_VISIBILITY visible at both of its frames.
    The other names of TRUTH_DEFINITIONS (``--truths``) are other readings of "crossings computed from
    ground-truth trajectories"."""
    return TRUTH_DEFINITIONS[truth](d, lines)


def _in_view(d: dict, lines) -> Counts:
    seen: Dict[int, List[int]] = {}   # id -> frames it is visible enough on
    for (f, tid), v in d["visibility"].items():
        if v >= IN_VIEW_VISIBILITY:
            seen.setdefault(tid, []).append(f)
    return _count_steps(d, lines, lambda f0, f1, tid: bool(seen.get(tid)) and min(seen[tid]) <= f0
                        and max(seen[tid]) >= f1)


def _visible(threshold: float, once_per_line: bool = False):
    def counts(d: dict, lines) -> Counts:
        vis = d["visibility"]
        return _count_steps(d, lines, lambda f0, f1, tid: min(vis.get((f0, tid), 0.0), vis.get((f1, tid), 0.0))
                            >= threshold, once_per_line)
    return counts


def _count_steps(d: dict, lines, keep, once_per_line: bool = False) -> Counts:
    """Ground-truth crossings, each id once per line and direction (``once_per_line``: once per line,
    in the direction of its first kept step), of the steps ``keep(f0, f1, id)``."""
    counts: Counts = {}
    done = set()
    for f0, f1, name, tid, direction in step_crossings(d["truth"], lines, d["info"].fps, with_frames=True):
        key = (name, tid) if once_per_line else (name, tid, direction)
        if key not in done and keep(f0, f1, tid):
            done.add(key)
            counts[name, direction] = counts.get((name, direction), 0) + 1
    return counts


TRUTH_DEFINITIONS = {
    TRUTHS[0]: lambda d, lines: count_once_per_direction(d["truth"], lines, d["info"].fps),
    TRUTHS[1]: _in_view,
    TRUTHS[2]: _visible(VISIBLE_VISIBILITY),
    "steps of people >= 25 % visible": _visible(IN_VIEW_VISIBILITY),
    "each id once per line (first-crossing on the ground truth)":
        lambda d, lines: count_first_crossing(d["truth"], lines, d["info"].fps),
    "each id once per line, >= 50 % visible": _visible(VISIBLE_VISIBILITY, once_per_line=True),
    "our rules on the ground truth": lambda d, lines: count_ours(d["truth"], lines, d["info"].fps, CountingRules()),
}


def split(data: dict, tune: bool, walkway: bool = False) -> List[Tuple[str, List[str]]]:
    """(sequence, line specs) pairs of the tune or the confirm split: the fixed lines, or
    (``walkway``) each sequence's walkway lines (on the tune sequences, odd ranks tune, even confirm)."""
    pairs = []
    for seq in data:
        is_tune_seq = seq.startswith(TUNE_SEQS)
        if walkway:
            specs = walkway_lines(data[seq])
            tune_specs, confirm_specs, all_specs = specs[0::2], specs[1::2], specs
        else:
            tune_specs, confirm_specs, all_specs = TUNE_LINES, CONFIRM_LINES, TUNE_LINES + CONFIRM_LINES
        if tune and is_tune_seq:
            pairs.append((seq, tune_specs))
        if not tune:
            pairs.append((seq, confirm_specs if is_tune_seq else all_specs))
    return [(seq, specs) for seq, specs in pairs if specs]


def score(data, pairs, run: str, rule, counted_too: bool = False, truth: str = TRUTHS[0]):
    """(sum of |counted - true| over sequence, line and direction; true crossings[; counted])."""
    err = total = n = 0
    for seq, specs in pairs:
        d = data[seq]
        lines = lines_for(specs, d["info"])
        counts = rule(d["runs"][run], lines, d["info"].fps)
        e, t = abs_error(counts, truth_counts(d, lines, truth), lines)
        err, total, n = err + e, total + t, n + sum(counts.values())
    return (err, total, n) if counted_too else (err, total)


def search(data, pairs, run: str) -> CountingRules:
    grid = dict(margin=[0.0, 0.02, 0.05, 0.1], u_turn_s=[0.0, 0.5, 1.0, 2.0], relink_s=[0.0, 1.0, 2.0, 3.0],
                relink_dist=[0.5, 1.0, 2.0], min_frames=[1, 3])
    results = []
    for values in itertools.product(*grid.values()):
        rules = CountingRules(**dict(zip(grid, values)))
        if rules.relink_s == 0 and rules.relink_dist != 1.0:
            continue
        err, total = score(data, pairs, run, lambda fr, ln, fps, r=rules: count_ours(fr, ln, fps, r))
        results.append((err / max(total, 1), rules))
    results.sort(key=lambda x: x[0])
    print("best rules on the tune split:")
    for err, rules in results[:10]:
        print(f"  {100 * err:5.1f}%  {rules}")
    return results[0][1]


# -- where the errors come from ---------------------------------------------------------------------
CAUSES_MISSED = ("not tracked near it", "tracked on one side only", "id changed over the line", "same id, rules dropped it")
CAUSES_EXTRA = ("track of no person", "person's feet passed beside the segment", "person made no such crossing",
                "crossing already counted")


def standing_crossings(d: dict, lines) -> int:
    """True crossings of people who stay within STANDING_BAND box heights of the line for a second either
    side: people standing on it whose annotated feet wobble over it (no counting rule with hysteresis
    counts them, and nobody drawing a line would call that a crossing; they stay in the truth)."""
    fps = d["info"].fps
    by_line = {ln.name: ln for ln in lines}
    boxes = {(f, tid): box for f, ids, xyxy in d["truth"] for tid, box in zip(ids.tolist(), xyxy)}
    done, n = set(), 0
    for f0, f1, name, tid, direction in step_crossings(d["truth"], lines, fps, with_frames=True):
        if (name, tid, direction) in done:
            continue
        done.add((name, tid, direction))
        near = [boxes[g, tid] for g in range(int(f0 - fps), int(f1 + fps) + 1) if (g, tid) in boxes]
        xyxy = np.array(near)
        dist = by_line[name].signed_distance(anchor_points(xyxy)) / np.maximum(xyxy[:, 3] - xyxy[:, 1], 1.0)
        n += int(np.abs(dist).max() < STANDING_BAND)
    return n


def passes_line(feet: Dict[int, np.ndarray], line: Line, frames) -> bool:
    """Whether these annotated feet (frame -> point) change side of the infinite line within ``frames``:
    a count credited to no true crossing although the person did cross the line's extension, past an end
    of the segment (often below the frame: the annotated feet of a person cut off by the frame's edge
    are outside it, the box a detector sees is not)."""
    points = [feet[f] for f in frames if f in feet]
    if len(points) < 2:
        return False
    d = line.signed_distance(np.array(points))
    return bool(d.min() < 0 <= d.max())


def explain_errors(d: dict, run: str, lines, rules: CountingRules) -> Dict[str, int]:
    """Every true crossing missed and every count made in excess, by cause. A track is the person it
    overlaps (IoU >= 0.5, greedy by IoU) in a frame; a count is credited to the true crossing of that
    person on that line and direction nearest in time (within 2 s); "one side" / "id changed" look at
    the tracks on that person within 1 s before and after the crossing."""
    from tracker.boxes import iou_matrix

    fps = d["info"].fps
    person: Dict[Tuple[int, int], int] = {}   # (frame, track id) -> ground-truth id
    tracks_on: Dict[Tuple[int, int], int] = {}   # (frame, ground-truth id) -> track id
    runs = dict((f, (ids, xyxy)) for f, ids, xyxy in d["runs"][run])
    for f, gt_ids, gt_xyxy in d["truth"]:
        ids, xyxy = runs.get(f, (np.zeros(0, np.int64), np.zeros((0, 4))))
        if len(ids) == 0 or len(gt_ids) == 0:
            continue
        iou = iou_matrix(xyxy, gt_xyxy)
        for k in np.argsort(-iou, axis=None):
            i, j = divmod(int(k), iou.shape[1])
            if iou[i, j] < 0.5:
                break
            if (f, int(ids[i])) in person or (f, int(gt_ids[j])) in tracks_on:
                continue
            person[f, int(ids[i])] = int(gt_ids[j])
            tracks_on[f, int(gt_ids[j])] = int(ids[i])
    true = {}   # (line, gt id, direction) -> (frame before, frame after), the first such step
    for f0, f1, name, tid, direction in step_crossings(d["truth"], lines, fps, with_frames=True):
        true.setdefault((name, tid, direction), (f0, f1))
    credited = set()
    causes = dict.fromkeys(CAUSES_MISSED + CAUSES_EXTRA, 0)
    by_line = {ln.name: ln for ln in lines}
    feet: Dict[int, Dict[int, np.ndarray]] = {}   # ground-truth id -> frame -> annotated feet
    for f, gt_ids, gt_xyxy in d["truth"]:
        for gid, point in zip(gt_ids.tolist(), anchor_points(gt_xyxy)):
            feet.setdefault(gid, {})[f] = point
    window = int(round(fps))
    for e in sorted(events_ours(d["runs"][run], lines, fps, rules), key=lambda e: e["frame"]):
        f = e["frame"]
        gid = next((person[g, e["track_id"]] for g in sorted(range(f - window, f + window + 1), key=lambda g: abs(g - f))
                    if (g, e["track_id"]) in person), None)
        key = (e["name"], gid, e["direction"])
        if gid is None:
            causes["track of no person"] += 1
        elif key not in true or abs(true[key][0] - f) > 2 * fps:
            on_segment = any(k in true and abs(true[k][0] - f) <= 2 * fps for k in ((e["name"], gid, "in"), (e["name"], gid, "out")))
            beside = not on_segment and passes_line(feet.get(gid, {}), by_line[e["name"]], range(f - 2 * window, f + 2 * window + 1))
            causes["person's feet passed beside the segment" if beside else "person made no such crossing"] += 1
        elif key in credited:
            causes["crossing already counted"] += 1
        else:
            credited.add(key)
    for key, (f0, f1) in true.items():
        if key in credited:
            continue
        gid = key[1]
        before = {tracks_on[g, gid] for g in range(f0 - window, f0 + 1) if (g, gid) in tracks_on}
        after = {tracks_on[g, gid] for g in range(f1, f1 + window + 1) if (g, gid) in tracks_on}
        if not before and not after:
            causes["not tracked near it"] += 1
        elif not before or not after:
            causes["tracked on one side only"] += 1
        elif not before & after:
            causes["id changed over the line"] += 1
        else:
            causes["same id, rules dropped it"] += 1
    return causes


def cache_for(cache: str, root: str, roots: Sequence[str]) -> str:
    """The cache file of one data root: ``cache`` itself for a single root, else one file per root
    (``/tmp/c.pkl`` -> ``/tmp/c.strong.pkl`` for ``/work/variants/strong``)."""
    if not cache or len(roots) == 1:
        return cache
    path = Path(cache)
    return str(path.with_name(f"{path.stem}.{Path(root).name}{path.suffix or '.pkl'}"))


def family_table(families: Dict[str, dict], columns, rules, ours: str, truth: str) -> None:
    """One row per (family, lines, split): counted / error % of every column, summed over the family's
    sequences (the robustness variants of ``tools/make_variants.py``: one folder of sequences each)."""
    print(f"\nby family, counted / error %, {truth}:\n")
    print("| family | lines | split | true | " + " | ".join(column_name(run, rule, ours) for run, rule in columns) + " |")
    print("|---|---|---|---:|" + "---:|" * len(columns))
    for walkway in (False, True):
        for family, data in families.items():
            for split_name, tune in (("tune", True), ("confirm", False)):
                total, cells = row_cells(data, split(data, tune, walkway), columns, rules, truth)
                print(f"| {family} | {'walkway' if walkway else 'fixed'} | {split_name} | {total} | " + " | ".join(cells)
                      + " |", flush=True)


def row_cells(data, pairs, columns, rules, truth: str):
    """The true crossings of ``pairs`` and one "counted / error %" cell per (tracks, rule) column."""
    cells = []
    for run, rule in columns:
        err, total, counted = score(data, pairs, run, rules[rule], counted_too=True, truth=truth)
        cells.append(f"{counted} / {100 * err / max(total, 1):.1f}")
    return total, cells


def truths_table(families: Dict[str, dict], rules, ours: str) -> None:
    """Error % of ours, the peers' rules over ultralytics' tracks and every rule over oracle ids (a
    perfect tracker on the same boxes), with and without its gaps filled (``fill_gaps``), under each
    reading of the truth: what the detections allow."""
    filled = "oracle ids, gaps filled"
    for data in families.values():
        for d in data.values():
            d["runs"].setdefault(filled, fill_gaps(d["runs"]["oracle ids"]))
    columns = [(ours, "ours"), ("ultralytics/botsort", "first-crossing"), ("ultralytics/botsort", "once-per-direction"),
               ("oracle ids", "ours"), ("oracle ids", "first-crossing"), ("oracle ids", "once-per-direction"),
               (filled, "ours"), (filled, "first-crossing"), (filled, "once-per-direction")]
    print("\nerror % under each reading of the truth (tune + confirm splits):\n")
    print("| family | lines | truth | true | " + " | ".join(column_name(run, rule, ours) for run, rule in columns)
          + " | best of the perfect trackers |")
    print("|---|---|---|---:|" + "---:|" * (len(columns) + 1))
    for family, data in families.items():
        for walkway in (False, True):
            pairs = split(data, True, walkway) + split(data, False, walkway)
            for truth in TRUTH_DEFINITIONS:
                errors = []
                for run, rule in columns:
                    err, total = score(data, pairs, run, rules[rule], truth=truth)
                    errors.append(100 * err / max(total, 1))
                print(f"| {family} | {'walkway' if walkway else 'fixed'} | {truth} | {total} | "
                      + " | ".join(f"{e:.1f}" for e in errors) + f" | {min(errors[3:]):.1f} |", flush=True)


def column_name(run: str, rule: str, ours: str) -> str:
    if run == ours:
        return rule
    if run.startswith(ours):
        return "ours, lost tracks reported 45 frames"
    return f"{rule}, {run.split('/')[0]}{' tracks' if not run.startswith('oracle ids') else ''}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_root", nargs="+", help="folders of sequences (several: a summary table by family, "
                    "e.g. /work/variants/<family> of tools/make_variants.py)")
    ap.add_argument("--per-sequence", action="store_true", help="with several roots: also every sequence's tables")
    ap.add_argument("--trackers", default="botsort", help="our trackers, comma-separated (default botsort)")
    ap.add_argument("--cache", default="", help="pickle of the tracked sequences: written once, then read")
    ap.add_argument("--search", action="store_true", help="grid-search the rule parameters on the tune split")
    ap.add_argument("--explain", action="store_true", help="also: missed and extra counts by cause")
    ap.add_argument("--truths", action="store_true", help="only: every reading of the truth (TRUTH_DEFINITIONS) "
                    "against ours, the peers and a perfect tracker under each rule, both splits together")
    args = ap.parse_args(argv)
    trackers = [t for t in args.trackers.split(",") if t]
    roots = args.data_root
    families = {Path(r).name: load(r, trackers, cache_for(args.cache, r, roots)) for r in roots}
    data = {seq: d for fam in families.values() for seq, d in fam.items()}
    defaults = CountingRules()
    if args.search:
        best = search(data, split(data, tune=True), f"ours/{trackers[0]}")
        print(f"defaults in tracker/analytics/counting.py: {defaults}\nbest on tune: {best}")
    ours = f"ours/{trackers[0]}"
    rules = {
        "ours": lambda fr, ln, fps: count_ours(fr, ln, fps, defaults),
        "first-crossing": count_first_crossing,
        "once-per-direction": count_once_per_direction,
    }
    columns = [(ours, "ours"), (f"{ours} {LOST_45}", "ours"), (ours, "first-crossing"), (ours, "once-per-direction"),
               ("ultralytics/botsort", "ours"), ("ultralytics/botsort", "first-crossing"),
               ("ultralytics/botsort", "once-per-direction"), ("oracle ids", "ours")]
    if args.truths:
        truths_table(families, rules, ours)
        return 0
    if len(families) > 1:
        for truth in TRUTHS:
            family_table(families, columns, rules, ours, truth)
    for walkway in ((False, True) if len(families) == 1 or args.per_sequence else ()):
        if walkway:
            print("\nwalkway lines (fractions of the frame, best first):")
            for seq in data:
                print(f"  {seq}: " + " ".join(walkway_lines(data[seq])))
        for truth in TRUTHS:
            print(f"\n{'walkway' if walkway else 'fixed'} lines, counted / error %, {truth}:\n")
            print("| split | sequence | lines | true | " + " | ".join(column_name(run, rule, ours) for run, rule in columns)
                  + " |")
            print("|---|---|---:|---:|" + "---:|" * len(columns))
            for split_name, tune in (("tune", True), ("confirm", False)):
                pairs = split(data, tune, walkway)
                static = [p for p in pairs if not p[0].startswith(MOVING_SEQS)]
                groups = [(seq, [(seq, specs)]) for seq, specs in pairs] + [("static cameras", static), ("all", pairs)]
                for seq, sel in groups:
                    total, cells = row_cells(data, sel, columns, rules, truth)
                    print(f"| {split_name} | {seq} | {sum(len(s) for _, s in sel)} | {total} | " + " | ".join(cells)
                          + " |", flush=True)
    if args.explain:
        causes = CAUSES_MISSED + CAUSES_EXTRA
        print("\nwhere the errors come from (our rules; missed: " + ", ".join(CAUSES_MISSED) + "; extra: "
              + ", ".join(CAUSES_EXTRA) + "):\n")
        print("| lines | split | tracks | true | of which standing on the line | counted | " + " | ".join(causes) + " |")
        print("|---|---|---|---:|---:|---:|" + "---:|" * len(causes))
        for walkway in (False, True):
            for split_name, tune in (("tune", True), ("confirm", False)):
                for run in (ours, f"{ours} {LOST_45}", "oracle ids"):
                    total = dict.fromkeys(causes, 0)
                    n_true = n_counted = n_standing = 0
                    for seq, specs in split(data, tune, walkway):
                        d = data[seq]
                        lines = lines_for(specs, d["info"])
                        n_standing += standing_crossings(d, lines)
                        for k, v in explain_errors(d, run, lines, defaults).items():
                            total[k] += v
                        n_true += sum(truth_counts(d, lines).values())
                        n_counted += len(events_ours(d["runs"][run], lines, d["info"].fps, defaults))
                    print(f"| {'walkway' if walkway else 'fixed'} | {split_name} | {run} | {n_true} | {n_standing} | {n_counted} | "
                          + " | ".join(str(total[k]) for k in causes) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
