"""Assignment on known matrices (lap and the SciPy fallback agree) and the cost helpers."""
import numpy as np
import pytest

from tracker.trackers import matching
from tracker.trackers.matching import (cosine_cost, expand_boxes, gallery_cosine_cost, gate_classes,
                                       height_iou, iou_cost, linear_assignment)


@pytest.mark.parametrize("use_lap", [True, False])
def test_known_optimum(use_lap):
    cost = np.array([[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]])
    m, ur, uc = linear_assignment(cost, max_cost=10, use_lap=use_lap)
    # greedy would take (1,1)=0 first; the optimum (total 5) is 0->1, 1->0, 2->2
    assert sorted(map(tuple, m.tolist())) == [(0, 1), (1, 0), (2, 2)]
    assert len(ur) == 0 and len(uc) == 0


@pytest.mark.parametrize("use_lap", [True, False])
def test_threshold_rectangular_and_inf(use_lap):
    cost = np.array([[0.1, 0.9, 0.95, 0.2], [0.3, 0.8, np.inf, 0.9]])
    m, ur, uc = linear_assignment(cost, max_cost=0.5, use_lap=use_lap)
    assert sorted(map(tuple, m.tolist())) == [(0, 3), (1, 0)]
    assert ur.tolist() == [] and uc.tolist() == [1, 2]
    m, ur, uc = linear_assignment(np.full((2, 2), np.inf), max_cost=0.5, use_lap=use_lap)
    assert len(m) == 0 and ur.tolist() == [0, 1] and uc.tolist() == [0, 1]


def test_empty_inputs():
    m, ur, uc = linear_assignment(np.zeros((0, 3)), 0.5)
    assert m.shape == (0, 2) and ur.tolist() == [] and uc.tolist() == [0, 1, 2]


@pytest.mark.parametrize("use_lap", [True, False])
def test_one_good_pair_beats_two_poor_ones(use_lap):
    """A confident match is not traded for two matches near the limit (lapjv's cost_limit problem:
    each row and column left unmatched costs max_cost / 2)."""
    if use_lap and matching._lap is None:
        pytest.skip("lap not installed")
    cost = np.array([[0.05, 0.55], [0.55, np.inf]])
    m, ur, uc = linear_assignment(cost, max_cost=0.6, use_lap=use_lap)
    assert m.tolist() == [[0, 0]] and ur.tolist() == [1] and uc.tolist() == [1]


def test_lap_and_scipy_agree_on_random_matrices():
    if matching._lap is None:
        pytest.skip("lap not installed")
    rng = np.random.default_rng(1)
    for _ in range(300):
        cost = rng.uniform(0, 1, (rng.integers(1, 8), rng.integers(1, 8)))
        cost[rng.uniform(size=cost.shape) < 0.3] = np.inf   # gated pairs, as trackers make them
        a, _, _ = linear_assignment(cost, 0.6, use_lap=True)
        b, _, _ = linear_assignment(cost, 0.6, use_lap=False)
        # same total cost and same number of pairs (the optimum may not be unique)
        assert len(a) == len(b)
        assert cost[a[:, 0], a[:, 1]].sum() == pytest.approx(cost[b[:, 0], b[:, 1]].sum())


def test_cost_helpers():
    a = np.array([[0.0, 0, 10, 10]])
    b = np.array([[0.0, 0, 10, 10], [5.0, 0, 15, 10], [20.0, 20, 30, 30]])
    assert np.allclose(iou_cost(a, b), [[0.0, 1 - 50 / 150, 1.0]])
    assert np.allclose(expand_boxes(a, 0.5), [[-5, -5, 15, 15]])
    assert np.allclose(height_iou(a, b), [[1.0, 1.0, 0.0]])
    assert np.isinf(gate_classes(np.zeros((1, 2)), np.array([0]), np.array([0, 2])))[0].tolist() == [False, True]
    f = np.eye(3, dtype=np.float32)
    assert np.allclose(cosine_cost(f[:2], f), [[0, 1, 1], [1, 0, 1]])
    gallery = np.zeros((1, 3, 3), np.float32)
    gallery[0, 0], gallery[0, 1] = f[0], f[1]
    # smallest distance over the two valid gallery rows; the third (zero) row is ignored
    assert np.allclose(gallery_cosine_cost(gallery, np.array([2]), f), [[0, 0, 1]])


def test_large_sparse_problems_split_into_groups_give_the_same_optimum():
    from tracker.boxes import iou_matrix
    from tracker.trackers.matching import SPLIT_ABOVE, _solve, box_iou
    rng = np.random.default_rng(3)
    n = 400
    assert n * n > SPLIT_ABOVE  # exercises the split path
    centre = rng.uniform(0, 2500, (n, 2))
    size = rng.uniform(10, 80, (n, 2))
    moved = centre + rng.normal(0, 12, (n, 2))
    a = np.c_[centre - size / 2, centre + size / 2]
    b = np.c_[moved - size / 2, moved + size / 2][rng.permutation(n)]
    assert np.allclose(box_iou(a, b), iou_matrix(a, b))
    cost = 1 - iou_matrix(a, b)
    split, _, _ = linear_assignment(cost, 0.8)
    whole = _solve(cost, 0.8, use_lap=True)
    assert len(split) == len(whole) > n // 2
    assert cost[split[:, 0], split[:, 1]].sum() == pytest.approx(cost[whole[:, 0], whole[:, 1]].sum())


def test_scipy_fallback_never_leaves_a_feasible_pair_unmatched():
    # costs just above the threshold must not look cheaper than "infeasible" to the Hungarian solver
    cost = np.array([[0.0, 0.55], [0.55, np.inf]])
    m, ur, uc = linear_assignment(cost, max_cost=0.5, use_lap=False)
    assert m.tolist() == [[0, 0]] and ur.tolist() == [1] and uc.tolist() == [1]
