#!/usr/bin/env python
"""Line-counting accuracy against crossings of ground-truth trajectories (MOT17-dev, no images).

    python tools/bench_counting.py ../shared/data/MOT17-dev                  # tables for docs/benchmarks.md
    python tools/bench_counting.py ../shared/data/MOT17-dev --search         # + grid search on the tune split

True crossings: every ground-truth pedestrian (class 1, considered) whose bottom-centre path crosses
the segment, once per id, line and direction. Counted crossings: our tracker (and ultralytics'
BoT-SORT) run on the public detections, counted by

* ``ours``: ``tracker.analytics.Counter`` with its default rules (hysteresis, steps, U-turns, id
  switches, short tracks);
* ``first-crossing``: ultralytics ObjectCounter's rule: each id once, on its first step over the line;
* ``once-per-direction``: each id once per direction, on a step over the line.

Tracks: our tracker (``--trackers``), ultralytics' BoT-SORT (its default YAML, no camera-motion
compensation), and ``oracle ids``: the public detections matched to ground truth (IoU >= 0.5) with the
true ids: a perfect tracker on the same boxes, i.e. what the counting rules alone can do.

Error = sum over (sequence, line, direction) of |counted - true|, divided by the true crossings.
Splits: rule parameters are chosen on the *tune* split (MOT17-02, -09 with the TUNE_LINES) and
confirmed on the others (MOT17-04, -05, and every sequence with the CONFIRM_LINES).
"""
from __future__ import annotations

import argparse
from dataclasses import replace
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
MOVING_SEQS = ("MOT17-05",)   # filmed from a walking camera: fixed image lines sweep over everyone
# "in view" truth: a crossing counts only when the person is at least this visible (MOT17 gt column 9)
# at some frame before the crossing and at some frame after it: people who stay hidden (interpolated
# by the annotators) on one side cross too, but no detector sees that. Reported beside the full truth.
IN_VIEW_VISIBILITY = 0.25

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


def track_ours(name: str, dets: Dict[int, Detections], fps: float, length: int) -> Frames:
    tracker = make_tracker(name, frame_rate=fps)
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


def count_ours(frames: Frames, lines, fps, rules: CountingRules) -> Counts:
    counter = Counter(lines, [], rules)
    counts: Counts = {}
    for f, ids, xyxy in frames:
        for e in counter.update(f, (f - 1) / fps, ids, xyxy, ["person"] * len(ids)):
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
        runs = {f"ours/{name}": track_ours(name, dets, info.fps, info.length) for name in trackers}
        runs["ultralytics/botsort"] = track_ultralytics("botsort", dets, info.fps, info.length)
        print(f"{seq_dir.name}: tracked in {time.perf_counter() - start:.1f}s", flush=True)
        truth = gt_frames(gt, info.length)
        runs["oracle ids"] = oracle_ids(truth, dets)
        data[seq_dir.name] = dict(info=info, truth=truth, runs=runs, visibility=gt_visibility(gt))
    if cache:
        with open(cache, "wb") as fh:
            pickle.dump(data, fh)
    return data


def lines_for(specs: Sequence[str], info) -> List[Line]:
    return [parse_line(s).scaled(info.width, info.height) for s in specs]


def truth_counts(d: dict, lines, in_view: bool = False) -> Counts:
    """True crossings: each ground-truth id once per line and direction; ``in_view``: only steps
    with the person at least IN_VIEW_VISIBILITY visible at some frame before and some frame after."""
    if not in_view:
        return count_once_per_direction(d["truth"], lines, d["info"].fps)
    seen: Dict[int, List[int]] = {}   # id -> frames it is visible enough on
    for (f, tid), v in d["visibility"].items():
        if v >= IN_VIEW_VISIBILITY:
            seen.setdefault(tid, []).append(f)
    counts: Counts = {}
    done = set()
    for f0, f1, name, tid, direction in step_crossings(d["truth"], lines, d["info"].fps, with_frames=True):
        if (name, tid, direction) in done:
            continue
        frames = seen.get(tid, [])
        if frames and min(frames) <= f0 and max(frames) >= f1:
            done.add((name, tid, direction))
            counts[name, direction] = counts.get((name, direction), 0) + 1
    return counts


def split(data: dict, tune: bool) -> List[Tuple[str, List[str]]]:
    """(sequence, line specs) pairs of the tune or the confirm split."""
    pairs = []
    for seq in data:
        is_tune_seq = seq.startswith(TUNE_SEQS)
        if tune and is_tune_seq:
            pairs.append((seq, TUNE_LINES))
        if not tune:
            pairs.append((seq, CONFIRM_LINES if is_tune_seq else TUNE_LINES + CONFIRM_LINES))
    return pairs


def score(data, pairs, run: str, rule, counted_too: bool = False, in_view: bool = False):
    """(sum of |counted - true| over sequence, line and direction; true crossings[; counted])."""
    err = total = n = 0
    for seq, specs in pairs:
        d = data[seq]
        lines = lines_for(specs, d["info"])
        counts = rule(d["runs"][run], lines, d["info"].fps)
        e, t = abs_error(counts, truth_counts(d, lines, in_view), lines)
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_root")
    ap.add_argument("--trackers", default="botsort", help="our trackers, comma-separated (default botsort)")
    ap.add_argument("--cache", default="", help="pickle of the tracked sequences: written once, then read")
    ap.add_argument("--search", action="store_true", help="grid-search the rule parameters on the tune split")
    args = ap.parse_args(argv)
    trackers = [t for t in args.trackers.split(",") if t]
    data = load(args.data_root, trackers, args.cache)
    defaults = CountingRules()
    if args.search:
        best = search(data, split(data, tune=True), f"ours/{trackers[0]}")
        print(f"defaults in tracker/analytics/counting.py: {defaults}\nbest on tune: {best}")
    rules = {
        "ours": lambda fr, ln, fps: count_ours(fr, ln, fps, defaults),
        "ours without relinking": lambda fr, ln, fps: count_ours(fr, ln, fps, replace(defaults, relink_s=0.0)),
        "ours without hysteresis": lambda fr, ln, fps: count_ours(fr, ln, fps, replace(defaults, margin=0.0)),
        "first-crossing (ultralytics)": count_first_crossing,
        "once-per-direction": count_once_per_direction,
    }
    print("\n| split | sequence | lines | true crossings | tracks | rule | counted | abs error | error % "
          "| true in view | error % in view |")
    print("|---|---|---|---:|---|---|---:|---:|---:|---:|---:|")
    for split_name, tune in (("tune", True), ("confirm", False)):
        pairs = split(data, tune)
        static = [p for p in pairs if not p[0].startswith(MOVING_SEQS)]
        groups = [(seq, [(seq, specs)]) for seq, specs in pairs] + [("static cameras", static), ("all", pairs)]
        for seq, sel in groups:
            for run in data[next(iter(data))]["runs"]:
                for rule_name, rule in rules.items():
                    err, total, counted = score(data, sel, run, rule, counted_too=True)
                    err_v, total_v = score(data, sel, run, rule, in_view=True)
                    n_lines = sum(len(s) for _, s in sel)
                    print(f"| {split_name} | {seq} | {n_lines} | {total} | {run} | {rule_name} | {counted} | {err} | "
                          f"{100 * err / max(total, 1):.1f} | {total_v} | {100 * err_v / max(total_v, 1):.1f} |",
                          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
