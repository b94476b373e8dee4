"""Association costs and the one assignment function every tracker uses.

Costs are (tracks x detections) float arrays where lower is better and ``>= 1`` (or ``inf``)
means "cannot match". :func:`linear_assignment` solves the rectangular assignment with ``lap``
(Jonker-Volgenant, fast) or SciPy's Hungarian implementation when ``lap`` is missing.
"""
from __future__ import annotations

import numpy as np

from ..boxes import iou_matrix

try:  # lap is an optional speed-up; SciPy gives the same optimum
    import lap as _lap
except ImportError:  # pragma: no cover - exercised in tests by forcing the fallback
    _lap = None

from scipy.optimize import linear_sum_assignment

_EMPTY = np.zeros((0, 2), np.int64)


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
    cost = np.where(np.isfinite(cost), cost, max_cost + 1.0)
    if _lap is not None and use_lap:
        # extend_cost handles rectangular matrices; cost_limit makes "no match" an option per row
        _, row_to_col, _ = _lap.lapjv(cost, extend_cost=True, cost_limit=max_cost)
        rows = np.flatnonzero(row_to_col >= 0)
        matches = np.stack([rows, row_to_col[rows]], axis=1).astype(np.int64)
    else:
        # Hungarian over the full matrix, then drop pairs above the threshold.  Infeasible pairs are
        # priced high so they are only chosen when nothing else is left (and then dropped).
        clipped = np.minimum(cost, max_cost + 1.0)
        rows, cols = linear_sum_assignment(clipped)
        keep = cost[rows, cols] <= max_cost
        matches = np.stack([rows[keep], cols[keep]], axis=1).astype(np.int64)
    unmatched_rows = np.setdiff1d(np.arange(n_rows), matches[:, 0])
    unmatched_cols = np.setdiff1d(np.arange(n_cols), matches[:, 1])
    return matches, unmatched_rows, unmatched_cols


def iou_cost(track_xyxy: np.ndarray, det_xyxy: np.ndarray) -> np.ndarray:
    """``1 - IoU`` cost matrix."""
    return 1.0 - iou_matrix(track_xyxy, det_xyxy)


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
