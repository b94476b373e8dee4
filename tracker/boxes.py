"""Box formats and overlaps: the one place where boxes change representation.

Formats (all arrays of shape (N, 4)):
    xyxy   : x1, y1, x2, y2 (corners)
    tlwh   : x, y, w, h (top-left corner + size; MOTChallenge files)
    xyah   : cx, cy, w/h, h (centre, aspect, height; DeepSORT/ByteTrack Kalman state)
    xywh   : cx, cy, w, h (centre + size; BoT-SORT Kalman state)

Example:
    >>> import numpy as np
    >>> tlwh_to_xyxy(np.array([[10., 20., 30., 40.]]))
    array([[10., 20., 40., 60.]])
"""
from __future__ import annotations

import numpy as np


def _2d(b) -> np.ndarray:
    if type(b) is np.ndarray and b.ndim == 2 and b.shape[1] == 4 and b.dtype in (np.float32, np.float64):
        return b  # already in shape (the trackers' case, several times a frame): skip the conversions
    return np.asarray(b, dtype=np.float64 if np.asarray(b).dtype == np.float64 else np.float32).reshape(-1, 4)


def xyxy_to_tlwh(b) -> np.ndarray:
    b = _2d(b).copy()
    b[:, 2:] -= b[:, :2]
    return b


def tlwh_to_xyxy(b) -> np.ndarray:
    b = _2d(b).copy()
    b[:, 2:] += b[:, :2]
    return b


def xyxy_to_xywh(b) -> np.ndarray:
    b = _2d(b)
    wh = b[:, 2:] - b[:, :2]
    return np.concatenate([b[:, :2] + wh / 2, wh], axis=1)


def xywh_to_xyxy(b) -> np.ndarray:
    b = _2d(b)
    half = b[:, 2:] / 2
    return np.concatenate([b[:, :2] - half, b[:, :2] + half], axis=1)


def xyxy_to_xyah(b) -> np.ndarray:
    c = xyxy_to_xywh(b)
    c[:, 2] = c[:, 2] / np.maximum(c[:, 3], 1e-6)
    return c


def xyah_to_xyxy(b) -> np.ndarray:
    b = _2d(b).copy()
    b[:, 2] = b[:, 2] * b[:, 3]
    return xywh_to_xyxy(b)


def box_area(b) -> np.ndarray:
    b = _2d(b)
    return np.maximum(b[:, 2] - b[:, 0], 0) * np.maximum(b[:, 3] - b[:, 1], 0)


def iou_matrix(a, b) -> np.ndarray:
    """Pairwise IoU between boxes ``a`` (N, 4) and ``b`` (M, 4) in xyxy; returns (N, M) float64.

    Degenerate (zero-area) boxes have IoU 0 with everything.

    >>> iou_matrix(np.array([[0, 0, 2, 2]]), np.array([[1, 1, 3, 3], [0, 0, 2, 2]])).round(3)
    array([[0.143, 1.   ]])
    """
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float64)
    # trackers call this several times a frame on a few dozen boxes, where the cost is the number
    # of NumPy calls, not their size: hence in-place steps and np.maximum (np.clip costs 3x more)
    ax1, ay1, ax2, ay2 = a.T
    bx1, by1, bx2, by2 = b.T
    inter = np.minimum(ax2[:, None], bx2)
    inter -= np.maximum(ax1[:, None], bx1)
    height = np.minimum(ay2[:, None], by2)
    height -= np.maximum(ay1[:, None], by1)
    np.maximum(inter, 0, out=inter)
    inter *= np.maximum(height, 0, out=height)
    area_a = np.maximum(ax2 - ax1, 0) * np.maximum(ay2 - ay1, 0)
    union = area_a[:, None] + np.maximum(bx2 - bx1, 0) * np.maximum(by2 - by1, 0)
    union -= inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def iou_pairs(a, b) -> np.ndarray:
    """IoU of row i of ``a`` with row i of ``b`` (element-wise, not all pairs), xyxy; returns (N,).

    >>> iou_pairs(np.array([[0, 0, 2, 2], [0, 0, 1, 1]]), np.array([[1, 1, 3, 3], [5, 5, 6, 6]])).round(3)
    array([0.143, 0.   ])
    """
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    inter = _intersection_pairs(a, b)
    union = box_area(a) + box_area(b) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _intersection_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Area of the intersection of row i of ``a`` with row i of ``b`` (either may be one box), xyxy."""
    w = np.maximum(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0)
    h = np.maximum(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0)
    return w * h


def overlap_fraction(xyxy, chunk: int = 512) -> np.ndarray:
    """For each box, the largest fraction of its own area covered by any *other* box, (N,).

    Intersection over the box's *own* area, not IoU: a small box lying inside a large one scores
    1.0 (its crop is mostly the other object), while IoU would call it low. Computed in chunks of
    rows so that thousands of boxes need no N x N x 3 temporaries at once.

    >>> overlap_fraction(np.array([[0, 0, 10, 10], [5, 0, 15, 10], [50, 50, 60, 60]])).tolist()
    [0.5, 0.5, 0.0]
    """
    b = np.asarray(xyxy, np.float64).reshape(-1, 4)
    n = len(b)
    out = np.zeros(n)
    if n < 2:
        return out
    area = np.maximum(box_area(b), 1e-9)
    for start in range(0, n, chunk):
        a = b[start:start + chunk]
        iw = np.maximum(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0)
        ih = np.maximum(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0)
        inter = iw * ih
        rows = np.arange(len(a))
        inter[rows, start + rows] = 0.0    # a box does not occlude itself
        out[start:start + chunk] = (inter / area[start:start + chunk, None]).max(axis=1)
    return out


def inside_fraction(xyxy, region) -> np.ndarray:
    """For each box, the fraction of its area inside ``region`` (one xyxy box, e.g. the image), (N,).

    >>> inside_fraction(np.array([[0, 0, 10, 10], [-5, 0, 5, 10]]), [0, 0, 100, 100]).tolist()
    [1.0, 0.5]
    """
    b = _2d(xyxy)
    return _intersection_pairs(b, np.asarray(region, np.float64)) / np.maximum(box_area(b), 1e-9)


def clip_xyxy(b, width: int, height: int) -> np.ndarray:
    """Clip xyxy boxes to the image ``[0, width] x [0, height]``."""
    b = _2d(b).copy()
    b[:, [0, 2]] = np.clip(b[:, [0, 2]], 0, width)
    b[:, [1, 3]] = np.clip(b[:, [1, 3]], 0, height)
    return b


def finite_rows(b) -> np.ndarray:
    """Boolean mask of boxes whose four coordinates are finite and that have positive size."""
    b = _2d(b)
    return np.isfinite(b).all(axis=1) & (b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])
