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
    assert bench.truth_counts(d, line, in_view=True) == {("l", "in"): 1}
    visibility[1, 2] = bench.IN_VIEW_VISIBILITY              # seen before it crossed too (hidden while crossing)
    assert bench.truth_counts(d, line, in_view=True) == {("l", "in"): 2}
