"""The counting benchmark's ground truth: full crossings vs crossings made in view."""
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import bench_counting as bench  # noqa: E402
from tracker.analytics.geometry import parse_line  # noqa: E402


def _walk(ys):
    """Per-frame (frame, ids, xyxy) of two people walking down over y = 50: id 1 and id 2."""
    return [(f, np.array([1, 2]), np.array([[0, y - 20, 10, y], [40, y - 20, 50, y]], float))
            for f, y in enumerate(ys, 1)]


def test_in_view_truth_drops_crossings_made_fully_occluded():
    truth = _walk([30, 40, 60, 70])                       # both cross between frames 2 and 3
    visibility = {(f, 1): 1.0 for f in range(1, 5)}
    visibility.update({(f, 2): 0.0 for f in range(1, 5)})  # id 2 is behind something all along
    visibility[4, 2] = 1.0                                 # ... and seen only after the crossing
    d = dict(truth=truth, visibility=visibility, info=SimpleNamespace(fps=10.0))
    line = [parse_line("l=0,50,100,50")]
    assert bench.truth_counts(d, line) == {("l", "in"): 2}
    assert bench.truth_counts(d, line, "true crossings in view") == {("l", "in"): 1}
    visibility[1, 2] = bench.IN_VIEW_VISIBILITY              # seen before it crossed too (hidden while crossing)
    assert bench.truth_counts(d, line, "true crossings in view") == {("l", "in"): 2}
    # "visible": only a crossing seen at both of its frames; id 2 is hidden at them
    assert bench.truth_counts(d, line, "true crossings visible") == {("l", "in"): 1}
    visibility[2, 2] = visibility[3, 2] = bench.VISIBLE_VISIBILITY
    assert bench.truth_counts(d, line, "true crossings visible") == {("l", "in"): 2}


def test_the_other_readings_of_the_truth():
    # id 1 walks down over y = 50 and back up over it (out, then in); id 2 crosses down once, half hidden
    ys1 = [30, 40, 60, 70, 70, 60, 40, 30]
    frames = [(f, np.array([1, 2]), np.array([[0, y - 20, 10, y], [40, y2 - 20, 50, y2]], float))
              for f, (y, y2) in enumerate(zip(ys1, [30, 40, 60, 70, 80, 90, 100, 110]), 1)]
    visibility = {(f, 1): 1.0 for f in range(1, 9)}
    visibility.update({(f, 2): 0.3 for f in range(1, 9)})
    d = dict(truth=frames, visibility=visibility, info=SimpleNamespace(fps=1.0))
    line = [parse_line("l=0,50,100,50")]
    assert bench.truth_counts(d, line) == {("l", "in"): 2, ("l", "out"): 1}
    assert bench.truth_counts(d, line, "steps of people >= 25 % visible") == {("l", "in"): 2, ("l", "out"): 1}
    assert bench.truth_counts(d, line, "true crossings visible") == {("l", "in"): 1, ("l", "out"): 1}
    # once per line: id 1 only on its way down
    assert bench.truth_counts(d, line, "each id once per line (first-crossing on the ground truth)") == {("l", "in"): 2}
    assert bench.truth_counts(d, line, "each id once per line, >= 50 % visible") == {("l", "in"): 1}
    # our rules: id 1 turned back 3 s after crossing (1 fps), beyond the U-turn window: both directions
    assert bench.truth_counts(d, line, "our rules on the ground truth") == {("l", "in"): 2, ("l", "out"): 1}


def test_fill_gaps_bridges_each_ids_misses_with_a_straight_line():
    frames = [(1, np.array([1, 2]), np.array([[0, 0, 10, 20], [50, 50, 60, 70]], float)),
              (2, np.array([2]), np.array([[52, 50, 62, 70]], float)),
              (3, np.array([], np.int64), np.zeros((0, 4))),
              (4, np.array([1]), np.array([[30, 0, 40, 20]], float))]
    filled = {f: dict(zip(ids.tolist(), xyxy.tolist())) for f, ids, xyxy in bench.fill_gaps(frames)}
    assert filled[2][1] == [10, 0, 20, 20] and filled[3][1] == [20, 0, 30, 20]
    assert 2 not in filled[3] and 2 not in filled[4]            # id 2 is not made up after its last frame
    assert filled[2][2] == [52, 50, 62, 70] and set(filled[1]) == {1, 2}


def test_walkway_lines_lie_across_where_people_walk():
    # a 600 x 600 view at 10 fps: five people walk down a corridor at x = 150 one after another,
    # three stand still at x = 450; every one fully visible
    frames, visibility = [], {}
    for f in range(1, 121):
        ids, boxes = [], []
        for k in range(5):
            y = 10.0 * (f - 10 * k)            # 100 px (2 box heights) a second
            if 50 <= y <= 600:
                ids.append(k + 1)
                boxes.append([140 + 3 * k, y - 50, 160 + 3 * k, y])
        for k in range(3):
            ids.append(10 + k)
            boxes.append([440, 100 + 150 * k, 460, 150 + 150 * k])
        frames.append((f, np.array(ids), np.array(boxes, float)))
        visibility.update({(f, i): 1.0 for i in ids})
    d = dict(truth=frames, visibility=visibility, info=SimpleNamespace(fps=10.0, width=600, height=600))
    specs = bench.walkway_lines(d)
    assert 1 <= len(specs) <= bench.WALKWAY_COUNT
    for spec in specs:
        line = parse_line(spec).scaled(600, 600)
        (x1, y1), (x2, y2) = line.points
        assert abs(y2 - y1) < 1e-6 and min(x1, x2) < 150 < max(x1, x2) < 440   # across the corridor, not at the standing people
        assert sum(bench.truth_counts(d, [line]).values()) == 5      # every walker crosses it
    # nobody walking: no walkway
    still = [(f, ids[ids >= 10], xyxy[ids >= 10]) for f, ids, xyxy in frames]
    assert bench.walkway_lines(dict(d, truth=still)) == []


def test_standing_crossings_are_people_whose_feet_wobble_on_the_line():
    # id 1 walks down over y = 50; id 2 stands on it, its annotated feet 0.5 px either side (box 20 px)
    frames = [(f, np.array([1, 2]), np.array([[0, 10 * f - 20, 10, 10 * f], [40, 30 + (f % 2 - 0.5), 50, 50 + (f % 2 - 0.5)]], float))
              for f in range(1, 11)]
    d = dict(truth=frames, visibility={}, info=SimpleNamespace(fps=5.0))
    line = [parse_line("l=0,50,100,50")]
    assert bench.truth_counts(d, line) == {("l", "in"): 2, ("l", "out"): 1}   # the truth counts both
    assert bench.standing_crossings(d, line) == 2                           # id 2's two


def _write_sequence(root: Path, name: str, walkers: int) -> None:
    """A MOTChallenge sequence (600 x 600, 10 fps, 60 frames): ``walkers`` people walk left to right
    across the whole frame at different heights; the detections are the ground-truth boxes."""
    seq = root / name
    (seq / "gt").mkdir(parents=True)
    (seq / "det").mkdir()
    (seq / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nimDir=img1\nframeRate=10\nseqLength=60\n"
                                     "imWidth=600\nimHeight=600\nimExt=.jpg\n")
    gt, det = [], []
    for f in range(1, 61):
        for k in range(walkers):
            x, y = 12.0 * f - 60, 120.0 + 100 * k       # 12 px a frame: over the frame in 50 frames
            if 0 <= x <= 560:
                gt.append(f"{f},{k + 1},{x:.1f},{y:.1f},40,80,1,1,1.0")
                det.append(f"{f},-1,{x:.1f},{y:.1f},40,80,0.95")
    (seq / "gt" / "gt.txt").write_text("\n".join(gt) + "\n")
    (seq / "det" / "det.txt").write_text("\n".join(det) + "\n")


def test_several_roots_give_one_row_per_family_and_a_cache_each(tmp_path, capsys):
    for family, walkers in (("clean", 3), ("busy", 4)):
        _write_sequence(tmp_path / family, f"MOT17-02-FRCNN-{family}", walkers)
    cache = tmp_path / "c.pkl"
    assert bench.main([str(tmp_path / "clean"), str(tmp_path / "busy"), "--cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "c.clean.pkl").is_file() and (tmp_path / "c.busy.pkl").is_file() and not cache.exists()
    rows = [line.split(" | ") for line in out.splitlines() if line.startswith("| clean |") or line.startswith("| busy |")]
    fixed_tune = {r[0][2:]: r for r in rows if r[1] == "fixed" and r[2] == "tune"}
    # every walker crosses the three vertical tune lines (v30, v50, v70) once, left to right
    assert fixed_tune["clean"][3] == "9" and fixed_tune["busy"][3] == "12"
    # perfect boxes, one id each: our rules count exactly the true crossings on our tracks
    assert fixed_tune["clean"][5] == "9 / 0.0" and fixed_tune["busy"][5] == "12 / 0.0"
    assert "| split | sequence |" not in out   # no per-sequence tables unless --per-sequence
    # --truths: perfect boxes, one id each: every column is exact under every reading of the truth
    assert bench.main([str(tmp_path / "clean"), str(tmp_path / "busy"), "--cache", str(cache), "--truths"]) == 0
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines() if line.startswith("| clean |")]
    assert len(rows) == 2 * len(bench.TRUTH_DEFINITIONS)
    assert all(cell.strip(" |") == "0.0" for row in rows for cell in row[4:]), rows


def test_a_count_of_a_person_whose_annotated_feet_pass_below_the_segment_is_told_apart():
    # a person walks left to right across a vertical line that ends at the frame's bottom (y = 100);
    # the annotated (amodal) feet are at y = 110, below the frame; the tracked box is cut at y = 100
    truth = [(f, np.array([1]), np.array([[10.0 * f - 10, 30, 10.0 * f, 110]])) for f in range(1, 11)]
    track = [(f, np.array([7]), np.array([[10.0 * f - 10, 30, 10.0 * f, 100]])) for f in range(1, 11)]
    d = dict(truth=truth, runs={"t": track}, visibility={}, info=SimpleNamespace(fps=5.0))
    line = [parse_line("v=50,0,50,100")]
    assert bench.truth_counts(d, line) == {}                  # the truth: beside the segment
    causes = bench.explain_errors(d, "t", line, bench.CountingRules())
    assert causes["person's feet passed beside the segment"] == 1 and causes["person made no such crossing"] == 0
