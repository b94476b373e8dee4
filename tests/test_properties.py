"""Property-based tests (hypothesis): boxes, IoU, assignment, MOT/CSV round trips, and every tracker.

Each property is a guarantee other code relies on; hypothesis looks for the input that breaks it.
"""
from __future__ import annotations

import csv
import itertools
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tracker.boxes import (box_area, clip_xyxy, finite_rows, iou_matrix, tlwh_to_xyxy, xyah_to_xyxy,
                           xywh_to_xyxy, xyxy_to_tlwh, xyxy_to_xyah, xyxy_to_xywh)
from tracker.formats.mot import format_mot_rows, parse_det_text, read_mot_results, write_mot_results
from tracker.sinks import CsvSink, MotSink
from tracker.trackers import TRACKER_NAMES, make_tracker
from tracker.trackers.matching import linear_assignment
from tracker.types import Detections, Frame, Tracks

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

coord = st.floats(-2000, 4000, allow_nan=False, allow_infinity=False)
size = st.floats(0.5, 1500, allow_nan=False, allow_infinity=False)


@st.composite
def tlwh_boxes(draw, min_n=0, max_n=12):
    n = draw(st.integers(min_n, max_n))
    rows = [[draw(coord), draw(coord), draw(size), draw(size)] for _ in range(n)]
    return np.asarray(rows, np.float64).reshape(-1, 4)


def xyxy_boxes(min_n=0, max_n=12):
    return tlwh_boxes(min_n, max_n).map(tlwh_to_xyxy)


def _close(a, b, rel=1e-9):
    scale = max(1.0, float(np.abs(a).max(initial=0)), float(np.abs(b).max(initial=0)))
    return np.allclose(a, b, rtol=0, atol=rel * scale)


# -- box conversions --------------------------------------------------------------------------
@FAST
@given(xyxy_boxes())
def test_box_conversions_round_trip(xyxy):
    assert _close(tlwh_to_xyxy(xyxy_to_tlwh(xyxy)), xyxy)
    assert _close(xywh_to_xyxy(xyxy_to_xywh(xyxy)), xyxy)
    assert _close(xyah_to_xyxy(xyxy_to_xyah(xyxy)), xyxy, rel=1e-7)
    # the formats mean what they say: sizes and centres
    tlwh, xywh = xyxy_to_tlwh(xyxy), xyxy_to_xywh(xyxy)
    assert _close(tlwh[:, 2:], xyxy[:, 2:] - xyxy[:, :2])
    assert _close(xywh[:, :2], (xyxy[:, :2] + xyxy[:, 2:]) / 2)
    assert _close(box_area(xyxy), tlwh[:, 2] * tlwh[:, 3], rel=1e-7)
    # conversions never change their input
    before = xyxy.copy()
    for f in (xyxy_to_tlwh, tlwh_to_xyxy, xyxy_to_xywh, xywh_to_xyxy, xyxy_to_xyah, xyah_to_xyxy):
        f(xyxy)
    assert np.array_equal(before, xyxy)


@FAST
@given(xyxy_boxes(), st.integers(1, 4000), st.integers(1, 4000))
def test_clip_keeps_boxes_inside_the_frame(xyxy, w, h):
    c = clip_xyxy(xyxy, w, h)
    assert c.shape == xyxy.shape
    assert (c[:, [0, 2]] >= 0).all() and (c[:, [0, 2]] <= w).all()
    assert (c[:, [1, 3]] >= 0).all() and (c[:, [1, 3]] <= h).all()
    assert np.array_equal(clip_xyxy(c, w, h), c)          # idempotent
    inside = (xyxy[:, 0] >= 0) & (xyxy[:, 1] >= 0) & (xyxy[:, 2] <= w) & (xyxy[:, 3] <= h)
    assert np.array_equal(c[inside], xyxy[inside])         # boxes already inside are untouched
    # a clipped box is either still a real box or flagged by finite_rows (fully outside)
    keep = finite_rows(c)
    assert (box_area(c[keep]) > 0).all()


@FAST
@given(xyxy_boxes(), st.sampled_from([np.nan, np.inf, -np.inf]), st.data())
def test_finite_rows_flags_every_bad_box(xyxy, bad, data):
    assume(len(xyxy) > 0)
    i = data.draw(st.integers(0, len(xyxy) - 1))
    j = data.draw(st.integers(0, 3))
    b = xyxy.copy()
    b[i, j] = bad
    mask = finite_rows(b)
    assert not mask[i]
    others = np.arange(len(b)) != i
    assert mask[others].all()


# -- IoU ----------------------------------------------------------------------------------------
def _iou_ref(a, b) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@FAST
@given(xyxy_boxes(), xyxy_boxes())
def test_iou_matrix_properties(a, b):
    m = iou_matrix(a, b)
    assert m.shape == (len(a), len(b)) and m.dtype == np.float64
    assert np.isfinite(m).all()
    assert (m >= 0).all() and (m <= 1 + 1e-12).all()
    assert np.allclose(m, iou_matrix(b, a).T)              # symmetric
    for i, j in itertools.product(range(len(a)), range(len(b))):
        assert abs(m[i, j] - _iou_ref(a[i], b[j])) < 1e-9
    if len(a):
        assert np.allclose(np.diag(iou_matrix(a, a)), 1.0)
        far = a + np.array([1e5, 0, 1e5, 0])               # moved right by more than any width
        assert (iou_matrix(a, far) <= np.eye(len(a)) * 0).all()


def test_iou_of_degenerate_boxes_is_zero():
    z = np.array([[5, 5, 5, 9], [0, 0, 0, 0]], np.float64)
    assert (iou_matrix(z, z) == 0).all()
    assert (iou_matrix(z, [[0, 0, 10, 10]]) == 0).all()


# -- assignment -----------------------------------------------------------------------------------
costs = st.integers(0, 6).flatmap(lambda r: st.integers(0, 6).flatmap(lambda c: st.lists(
    st.one_of(st.floats(0, 2, allow_nan=False), st.just(np.inf), st.just(0.5)),
    min_size=r * c, max_size=r * c).map(lambda v: np.asarray(v, np.float64).reshape(r, c))))


def _check_assignment(cost, max_cost, matches, ur, uc):
    n, m = cost.shape
    assert matches.ndim == 2 and matches.shape[1] == 2
    rows, cols = matches[:, 0], matches[:, 1]
    assert len(set(rows.tolist())) == len(rows) and len(set(cols.tolist())) == len(cols)   # one-to-one
    assert (cost[rows, cols] <= max_cost).all()                                          # within the limit
    assert sorted(rows.tolist() + ur.tolist()) == list(range(n))                          # partition
    assert sorted(cols.tolist() + uc.tolist()) == list(range(m))
    # maximal: no unmatched row and unmatched column could still be paired below the limit
    if len(ur) and len(uc):
        assert not (cost[np.ix_(ur, uc)] < max_cost).any()


def _best_gain(cost, max_cost) -> float:
    """Brute force: the largest total ``max_cost - cost`` over one-to-one matchings within the limit."""
    n, m = cost.shape
    best = 0.0
    cols = list(range(m))
    for perm in itertools.permutations(cols + [None] * n, n):
        if any(c is not None and perm.count(c) > 1 for c in cols):
            continue
        gain = sum(max_cost - cost[r, c] for r, c in enumerate(perm) if c is not None and cost[r, c] <= max_cost)
        best = max(best, gain)
    return best


@FAST
@given(costs, st.floats(0.05, 1.5))
@pytest.mark.parametrize("use_lap", [True, False])
def test_linear_assignment_is_valid(use_lap, cost, max_cost):
    matches, ur, uc = linear_assignment(cost.copy(), max_cost, use_lap=use_lap)
    _check_assignment(cost, max_cost, matches, ur, uc)


def test_scipy_fallback_leaves_no_feasible_pair_unmatched():
    """Found by the property above: costs just above the limit once beat a feasible cost-0 pair."""
    cost = np.array([[np.inf, np.inf, np.inf, 0.5], [np.inf, np.inf, 0.5, 0.0]])
    matches, ur, uc = linear_assignment(cost.copy(), 0.25, use_lap=False)
    assert matches.tolist() == [[1, 3]]


@settings(max_examples=20, deadline=None)
@given(st.integers(150, 260), st.integers(140, 200), st.floats(0.002, 0.05), st.integers(0, 2**32 - 1),
       st.floats(0.2, 0.9))
def test_large_sparse_assignment_matches_the_dense_solution(n, m, density, seed, max_cost):
    """Thousands of boxes: the split into independent groups gives the same optimum as one dense solve."""
    from tracker.trackers import matching

    rng = np.random.default_rng(seed)
    cost = np.full((n, m), np.inf)
    feasible = rng.random((n, m)) < density
    cost[feasible] = rng.uniform(0, 1, int(feasible.sum()))
    matches, ur, uc = linear_assignment(cost.copy(), max_cost)
    _check_assignment(cost, max_cost, matches, ur, uc)
    solve = getattr(matching, "_solve", None)
    if solve is not None:
        dense = solve(cost.copy(), max_cost, True)
        gain = lambda mm: sum(max_cost - cost[r, c] for r, c in mm)
        assert abs(gain(matches) - gain(dense)) < 1e-6


@settings(max_examples=40, deadline=None)
@given(costs.filter(lambda c: c.shape[0] <= 4 and c.shape[1] <= 4), st.floats(0.05, 1.5))
def test_lap_assignment_is_optimal(cost, max_cost):
    """lap's ``cost_limit`` = maximise the total slack ``max_cost - cost`` of accepted pairs."""
    matches, _, _ = linear_assignment(cost.copy(), max_cost, use_lap=True)
    gain = sum(max_cost - cost[r, c] for r, c in matches)
    assert gain >= _best_gain(cost, max_cost) - 1e-9


# -- MOT / CSV writers and readers ------------------------------------------------------------------
@st.composite
def tracks_frames(draw):
    """A few frames of Tracks with unique ids per frame, boxes as 2-decimal values (what files keep)."""
    frames = []
    for f in sorted(draw(st.sets(st.integers(1, 10_000), max_size=5))):
        n = draw(st.integers(0, 6))
        ids = draw(st.lists(st.integers(1, 10**9), min_size=n, max_size=n, unique=True))
        tlwh = np.round(draw(tlwh_boxes(n, n)), 2)
        tlwh[:, 2:] = np.maximum(tlwh[:, 2:], 0.5)
        score = np.round(np.asarray(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)), np.float64), 4)
        cls = np.asarray(draw(st.lists(st.integers(0, 90), min_size=n, max_size=n)), np.int64)
        frames.append((f, Tracks(tlwh_to_xyxy(tlwh), ids, score, cls, np.full(n, -1))))
    return frames


@settings(max_examples=40, deadline=None)
@given(tracks_frames(), st.text(min_size=0, max_size=8))
def test_csv_and_mot_writers_round_trip(frames, odd_name):
    names = {0: "person", 1: odd_name or "x", 2: 'a "quoted", name'}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv_sink, mot_sink = CsvSink(tmp / "t.csv", names), MotSink(tmp / "t.txt")
        for f, tracks in frames:
            frame = Frame(f - 1, (f - 1) / 25.0, np.zeros((1, 1, 3), np.uint8))
            csv_sink.write(frame, tracks)
            mot_sink.write(frame, tracks)
        csv_sink.close()
        mot_sink.close()
        write_mot_results(tmp / "w.txt", frames)
        with open(tmp / "t.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        mot = read_mot_results(tmp / "t.txt")
        assert (tmp / "w.txt").read_text() == (tmp / "t.txt").read_text()
    expected = [(f, t[i:i + 1]) for f, t in frames for i in range(len(t))]
    assert len(rows) == len(mot) == len(expected)
    for row, m, (f, t) in zip(rows, mot, expected):
        assert int(row["frame"]) == int(m[0]) == f
        assert int(row["track_id"]) == int(m[1]) == int(t.track_id[0])
        assert int(row["class_id"]) == int(t.cls[0])
        assert row["class_name"] == names.get(int(t.cls[0]), str(int(t.cls[0])))
        xyxy = t.xyxy[0].astype(np.float64)
        got = np.array([float(row[k]) for k in ("x1", "y1", "x2", "y2")])
        assert np.allclose(got, xyxy, atol=0.006 + 1e-6 * np.abs(xyxy).max())
        assert np.allclose(m[2:6], xyxy_to_tlwh(xyxy)[0], atol=0.011 + 1e-6 * np.abs(xyxy).max())
        assert abs(float(row["score"]) - float(t.score[0])) < 6e-5 and abs(m[6] - float(t.score[0])) < 6e-5


@settings(max_examples=40, deadline=None)
@given(tracks_frames())
def test_det_file_round_trip(frames):
    """Tracks written as MOT rows and read back as detections give the same boxes, frame by frame."""
    mot_lines = "".join(format_mot_rows(f, t) for f, t in frames).splitlines()
    text = "".join(",".join([p[0], "-1"] + p[2:7]) + "\n" for p in (line.split(",") for line in mot_lines))
    dets = parse_det_text(text, "roundtrip.txt")
    expected = {f: t for f, t in frames if len(t)}
    assert sorted(dets) == sorted(expected)
    for f, t in expected.items():
        assert np.allclose(dets[f].xyxy, t.xyxy, atol=0.011 + 1e-6 * float(np.abs(t.xyxy).max()))
        assert np.allclose(dets[f].score, t.score, atol=6e-5)


# -- trackers ----------------------------------------------------------------------------------------
@st.composite
def detection_sequences(draw):
    """Frames of valid detections: moving objects that enter, leave, vanish and jitter, plus clutter."""
    n_frames = draw(st.integers(1, 30))
    objects = []
    for _ in range(draw(st.integers(0, 8) | st.integers(3, 8))):
        start = draw(st.integers(0, n_frames - 1))
        objects.append(dict(
            start=start, end=draw(st.integers(start, n_frames)),
            box=np.array([draw(st.floats(0, 600)), draw(st.floats(0, 400)), draw(st.floats(1, 120)),
                          draw(st.floats(1, 200))]),
            vel=np.array([draw(st.floats(-15, 15)), draw(st.floats(-15, 15))]),
            score=draw(st.floats(0.6, 1.0) | st.floats(0.01, 1.0)), cls=draw(st.integers(0, 2))))
    p_miss = draw(st.sampled_from([0.0, 0.1, 0.4]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    miss = rng.random(n_frames * 8) < p_miss
    frames = []
    for f in range(n_frames):
        xyxy, score, cls = [], [], []
        for k, o in enumerate(objects):
            if o["start"] <= f < o["end"] and not miss[f * 8 + k]:
                x, y, w, h = o["box"]
                x, y = x + o["vel"][0] * (f - o["start"]), y + o["vel"][1] * (f - o["start"])
                xyxy.append([x, y, x + w, y + h])
                score.append(o["score"])
                cls.append(o["cls"])
        # clutter: arbitrary valid boxes, duplicates of real ones, tiny and huge boxes
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["random", "duplicate", "tiny", "huge"]))
            if kind == "duplicate" and xyxy:
                xyxy.append(list(xyxy[draw(st.integers(0, len(xyxy) - 1))]))
            elif kind == "tiny":
                x, y = draw(st.floats(0, 600)), draw(st.floats(0, 400))
                xyxy.append([x, y, x + 0.01, y + 0.01])
            elif kind == "huge":
                xyxy.append([-5000.0, -5000.0, 9000.0, 9000.0])
            else:
                x, y = draw(st.floats(-50, 650)), draw(st.floats(-50, 450))
                xyxy.append([x, y, x + draw(st.floats(0.5, 300)), y + draw(st.floats(0.5, 300))])
            score.append(draw(st.floats(0.0, 1.0)))
            cls.append(draw(st.integers(0, 2)))
        frames.append(Detections(np.asarray(xyxy, np.float32).reshape(-1, 4), score, cls))
    return frames


def _run_tracker(name: str, frames, params=None):
    trk = make_tracker(name, overrides=params or {}, frame_rate=30.0)
    seen_ids: set = set()     # every id the tracker ever gave out
    dead_ids: set = set()     # ids whose track has left the tracker's table
    last_max = 0
    for f, dets in enumerate(frames):
        tracks = trk.update(dets, None)
        ids = tracks.track_id.tolist()
        assert len(ids) == len(set(ids)), f"{name}: duplicate id in frame {f + 1}: {ids}"
        assert all(i >= 1 for i in ids), f"{name}: id < 1 in frame {f + 1}: {ids}"
        assert not (set(ids) & dead_ids), f"{name}: id reused in frame {f + 1}: {set(ids) & dead_ids}"
        assert np.isfinite(tracks.xyxy).all() and np.isfinite(tracks.score).all(), f"{name}: NaN in output"
        assert ((tracks.det_index >= -1) & (tracks.det_index < len(dets))).all()
        matched = tracks.det_index[tracks.det_index >= 0].tolist()
        assert len(matched) == len(set(matched)), f"{name}: one detection given to two tracks"
        new = set(ids) - seen_ids
        assert all(i > last_max for i in new), f"{name}: new id {sorted(new)} not above earlier ids"
        table = getattr(trk, "tracks", None)
        if table is not None and hasattr(table, "track_id"):
            live = table.track_id[table.track_id > 0].tolist()
            assert len(live) == len(set(live)), f"{name}: two live tracks share an id"
            assert np.isfinite(table.mean).all() and np.isfinite(table.cov).all(), f"{name}: NaN in Kalman state"
            seen_ids |= set(live)
            dead_ids |= seen_ids - set(live)
        seen_ids |= set(ids)
        last_max = max(seen_ids, default=0)
    return trk


@pytest.mark.parametrize("name", TRACKER_NAMES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=detection_sequences())
def test_tracker_ids_unique_never_reused_no_nan(name, frames):
    _run_tracker(name, frames)


@pytest.mark.parametrize("name", TRACKER_NAMES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=detection_sequences())
def test_tracker_properties_with_short_buffer_and_lost_reporting(name, frames):
    """Tracks die fast and lost tracks are reported: the id rules still hold."""
    _run_tracker(name, frames, {"track_buffer": 1, "report_lost_frames": 5, "min_hits": 1})
