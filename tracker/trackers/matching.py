"""Association costs and the one assignment function every tracker uses.

Costs are (tracks x detections) float arrays where lower is better and ``>= 1`` (or ``inf``)
means "cannot match". :func:`linear_assignment` solves the rectangular assignment with ``lap``
(Jonker-Volgenant, fast) or SciPy's Hungarian implementation when ``lap`` is missing.
"""
from __future__ import annotations

import numpy as np

from ..boxes import iou_matrix, iou_pairs

try:  # lap is an optional speed-up; the SciPy fallback solves the same problem
    import lap as _lap
except ImportError:  # pragma: no cover - exercised in tests by forcing the fallback
    _lap = None

from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

_EMPTY = np.zeros((0, 2), np.int64)
# above this many (rows x cols) entries, split the problem into independent groups first
SPLIT_ABOVE = 20_000


def linear_assignment(cost: np.ndarray, max_cost: float, use_lap: bool = True
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimum-cost one-to-one matching of rows to columns, ignoring pairs with cost > ``max_cost``.

    Returns:
        matches: (K, 2) int64 ``[row, col]`` pairs,
        unmatched_rows, unmatched_cols: int64 index arrays.

    >>> m, ur, uc = linear_assignment(np.array([[0.1, 0.9], [0.2, 0.3]]), 0.5)
    >>> m.tolist(), ur.tolist(), uc.tolist()
    ([[0, 0], [1, 1]], [], [])
    """
    n_rows, n_cols = cost.shape
    if n_rows == 0 or n_cols == 0:
        return _EMPTY, np.arange(n_rows), np.arange(n_cols)
    if n_rows * n_cols > SPLIT_ABOVE:
        matches = _split_assignment(cost, max_cost, use_lap)
    else:
        matches = _solve(cost, max_cost, use_lap)
    free_rows = np.ones(n_rows, bool)
    free_rows[matches[:, 0]] = False
    free_cols = np.ones(n_cols, bool)
    free_cols[matches[:, 1]] = False
    return matches, np.nonzero(free_rows)[0], np.nonzero(free_cols)[0]


def _split_assignment(cost: np.ndarray, max_cost: float, use_lap: bool) -> np.ndarray:
    """Large, sparse problems (thousands of boxes, each overlapping a few): rows and columns that
    share no feasible pair cannot affect each other, so solve each connected group on its own.
    One-to-one groups (the common case) are matched without a solver call."""
    n_rows, n_cols = cost.shape
    rows, cols = np.nonzero(cost <= max_cost)
    if len(rows) == 0:
        return _EMPTY
    graph = coo_matrix((np.ones(len(rows)), (rows, n_rows + cols)), shape=(n_rows + n_cols,) * 2)
    _, label = connected_components(graph, directed=False)
    row_label, col_label = label[:n_rows], label[n_rows:]
    edges_per_group = np.bincount(row_label[rows], minlength=label.max() + 1)
    single = edges_per_group[row_label[rows]] == 1  # one row, one column, one feasible pair
    out = [np.stack([rows[single], cols[single]], axis=1)]
    for group in np.unique(row_label[rows[~single]]):
        r = np.flatnonzero(row_label == group)
        c = np.flatnonzero(col_label == group)
        m = _solve(cost[np.ix_(r, c)], max_cost, use_lap)
        out.append(np.stack([r[m[:, 0]], c[m[:, 1]]], axis=1))
    return np.concatenate(out).astype(np.int64)


def _solve(cost: np.ndarray, max_cost: float, use_lap: bool) -> np.ndarray:
    """Dense solver: lap (Jonker-Volgenant) or SciPy; returns (K, 2) pairs with cost <= max_cost."""
    cost = np.where(np.isfinite(cost), cost, max_cost + 1.0)
    if _lap is not None and use_lap:
        # extend_cost handles rectangular matrices; cost_limit makes "no match" an option per row
        _, row_to_col, _ = _lap.lapjv(cost, extend_cost=True, cost_limit=max_cost)
        rows = np.flatnonzero(row_to_col >= 0)
        matches = np.stack([rows, row_to_col[rows]], axis=1).astype(np.int64)
    else:
        # the problem lapjv solves with cost_limit: every row and column may instead go unmatched at
        # max_cost / 2 (a square matrix, dummy columns for the rows and dummy rows for the columns),
        # so a pair is worth making only below max_cost. Hungarian over the bare matrix would rather
        # make two poor pairs than one good one and leave the other row and column free.
        n_rows, n_cols = cost.shape
        extended = np.full((n_rows + n_cols,) * 2, max_cost / 2.0)
        extended[n_rows:, n_cols:] = 0.0
        extended[:n_rows, :n_cols] = cost
        rows, cols = linear_sum_assignment(extended)
        keep = (rows < n_rows) & (cols < n_cols)
        rows, cols = rows[keep], cols[keep]
        keep = cost[rows, cols] <= max_cost
        matches = np.stack([rows[keep], cols[keep]], axis=1).astype(np.int64)
    return matches


def iou_cost(track_xyxy: np.ndarray, det_xyxy: np.ndarray) -> np.ndarray:
    """``1 - IoU`` cost matrix."""
    return 1.0 - box_iou(track_xyxy, det_xyxy)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU (N, M) like :func:`tracker.boxes.iou_matrix`, but for thousands of boxes only the
    pairs that overlap along x are computed (sort-and-sweep), the rest are 0."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    if len(a) * len(b) <= SPLIT_ABOVE:
        return iou_matrix(a, b)
    order = np.argsort(b[:, 0], kind="stable")
    bx1 = b[order, 0]
    widest = float((b[:, 2] - b[:, 0]).max())
    # b overlaps a along x only if a.x1 - widest < b.x1 < a.x2
    lo = np.searchsorted(bx1, a[:, 0] - widest, side="right")
    hi = np.searchsorted(bx1, a[:, 2], side="left")
    counts = np.maximum(hi - lo, 0)
    rows = np.repeat(np.arange(len(a)), counts)
    starts = np.repeat(lo - np.cumsum(np.r_[0, counts[:-1]]), counts)
    cols = order[np.arange(len(rows)) + starts]
    out = np.zeros((len(a), len(b)))
    pair_iou = iou_pairs(a[rows], b[cols])
    out[rows, cols] = pair_iou
    return out


def expand_boxes(xyxy: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
    """Grow boxes by ``scale`` times their width/height on every side (C-BIoU's buffered box).

    ``scale`` may be per box, e.g. growing with the time a track has been lost, so that a
    re-appearing object that moved during its occlusion still overlaps its old track.
    """
    xyxy = np.asarray(xyxy, np.float64)
    scale = np.broadcast_to(np.asarray(scale, np.float64), (len(xyxy),))[:, None]
    wh = xyxy[:, 2:] - xyxy[:, :2]
    return np.concatenate([xyxy[:, :2] - scale * wh, xyxy[:, 2:] + scale * wh], axis=1)


def height_iou(track_xyxy: np.ndarray, det_xyxy: np.ndarray) -> np.ndarray:
    """Overlap of the vertical extents (Hybrid-SORT's height IoU, HMIoU = IoU * height IoU).

    Two people at different depths can overlap in the image but have different heights; the
    height term pulls such pairs apart.
    """
    a = np.asarray(track_xyxy, np.float64)
    b = np.asarray(det_xyxy, np.float64)
    top = np.maximum(a[:, None, 1], b[None, :, 1])
    bottom = np.minimum(a[:, None, 3], b[None, :, 3])
    union = np.maximum(a[:, None, 3], b[None, :, 3]) - np.minimum(a[:, None, 1], b[None, :, 1])
    return np.clip(bottom - top, 0, None) / np.maximum(union, 1e-9)


def fuse_score(cost: np.ndarray, det_score: np.ndarray) -> np.ndarray:
    """ByteTrack's score fusion: similarity ``(1 - cost) * score`` so weak detections match last."""
    return 1.0 - (1.0 - cost) * np.asarray(det_score, np.float64)[None, :]


def cosine_cost(track_feat: np.ndarray, det_feat: np.ndarray) -> np.ndarray:
    """Cosine distance ``1 - a·b`` between unit-norm embeddings, clipped to [0, 2]."""
    if len(track_feat) == 0 or len(det_feat) == 0:
        return np.zeros((len(track_feat), len(det_feat)))
    return np.clip(1.0 - track_feat.astype(np.float64) @ det_feat.astype(np.float64).T, 0.0, 2.0)


def gallery_cosine_cost(gallery: np.ndarray, gallery_len: np.ndarray, det_feat: np.ndarray
                        ) -> np.ndarray:
    """DeepSORT's appearance cost: the smallest cosine distance to any of a track's stored embeddings.

    ``gallery`` is (N, B, D) with the first ``gallery_len[i]`` rows of track ``i`` valid.
    """
    n, budget, _ = gallery.shape
    if n == 0 or len(det_feat) == 0:
        return np.zeros((n, len(det_feat)))
    dist = 1.0 - np.einsum("nbd,md->nbm", gallery, det_feat.astype(gallery.dtype))
    valid = np.arange(budget)[None, :] < gallery_len[:, None]
    dist = np.where(valid[:, :, None], dist, np.inf)
    return np.clip(dist.min(axis=1), 0.0, 2.0)


def gate_classes(cost: np.ndarray, track_cls: np.ndarray, det_cls: np.ndarray) -> np.ndarray:
    """Forbid matches between different classes (per-class association)."""
    return np.where(track_cls[:, None] == det_cls[None, :], cost, np.inf)
