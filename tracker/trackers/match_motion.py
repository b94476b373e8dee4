"""Camera motion without images: the global motion that moves predicted track boxes onto their detections.

When the camera pans, zooms or shakes, every track's Kalman prediction misses its object by the same
similarity transform. Given pairs (predicted box, matched detection) of confident matches, a robust
fit of ``x' = s * x + tx``, ``y' = s * y + ty``, ``w' = s * w``, ``h' = s * h`` recovers it: a median
start, inliers within ``inlier_tol`` box heights, then weighted least squares on the inliers. The
simplest model the matches support wins (chi-square tests under the fit's noise, at least
``noise_floor``): a zoom only if it explains significantly more than a pan, a pan only if
significantly non-zero — so a static scene changes nothing, and a pan's noisy "zoom" does not shift
far-away lost tracks. The result is the same 2x3 affine that pixel GMC
returns (:func:`tracker.trackers.gmc.warp_states` applies either).

Example:
    >>> pred = np.array([[100., 200, 40, 100], [400, 220, 50, 120], [800, 300, 30, 80], [600, 500, 60, 140]])
    >>> det = pred.copy(); det[:, :2] = 1.1 * pred[:, :2] + [12, -5]; det[:, 2:] *= 1.1
    >>> fit = fit_box_motion(pred, det)
    >>> fit.reliable, np.round(fit.warp, 3).tolist()
    (True, [[1.1, 0.0, 12.0], [0.0, 1.1, -5.0]])
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

NOISE_FLOOR = 0.03  # box heights: the least per-coordinate noise assumed (a few matches can agree by chance)
CHI2_1DOF_99 = 6.63  # 99% quantiles of chi-square with 1 and 2 degrees of freedom
CHI2_2DOF_99 = 9.21
IDENTITY = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))   # the 2x3 identity as a tuple: cheap to compare with


def is_identity(warp: np.ndarray) -> bool:
    """``np.array_equal(warp, np.eye(2, 3))`` at a twentieth of the cost (called several times a frame)."""
    return tuple(map(tuple, np.asarray(warp).tolist())) == IDENTITY


@dataclass
class BoxMotion:
    """A fitted frame motion: ``warp`` (2, 3), whether enough matches agreed (``reliable``), how many;
    ``fitted``: the least-squares scale + translation before the simplest-model tests (the warp to
    use when the camera is already known to move)."""

    warp: np.ndarray = field(default_factory=lambda: np.eye(2, 3))
    reliable: bool = False
    inliers: int = 0
    fitted: np.ndarray = field(default_factory=lambda: np.eye(2, 3))

    @property
    def is_identity(self) -> bool:
        return is_identity(self.warp)


def _median(x: np.ndarray):
    """Median along axis 0 (``np.median`` costs ~15x more on the few dozen values of one frame)."""
    x = np.sort(x, axis=0)
    n = len(x)
    return (x[(n - 1) // 2] + x[n // 2]) / 2


def fit_box_motion(pred_xywh: np.ndarray, det_xywh: np.ndarray, min_matches: int = 4,
                   inlier_tol: float = 0.15, min_inlier_fraction: float = 0.5,
                   noise_floor: float = NOISE_FLOOR) -> BoxMotion:
    """Fit the scale + translation taking predicted boxes onto matched ones (centre x, y, w, h rows).

    ``reliable`` is False (and the warp the identity) with fewer than ``min_matches`` inliers or
    when under ``min_inlier_fraction`` of the pairs agree. ``noise_floor`` (box heights) is the least
    detector noise the significance tests assume.
    """
    n = len(pred_xywh)
    if n < min_matches:
        return BoxMotion(inliers=0)
    p, d = np.asarray(pred_xywh, np.float64), np.asarray(det_xywh, np.float64)
    h2 = p[:, 3] ** 2
    # robust start: median height ratio, then median translation given that scale
    s0 = _median(d[:, 3] / p[:, 3])
    off = d[:, :2] - s0 * p[:, :2]
    r = off - _median(off)
    inl = (r * r).sum(1) < inlier_tol ** 2 * h2
    k = int(inl.sum())
    if k < min_matches or k < min_inlier_fraction * n:
        return BoxMotion(inliers=k)
    # weighted least squares on the inliers: unknowns (s, tx, ty), rows x, y, w, h of every pair,
    # residuals in box heights (weight 1/h^2). Closed form: t = mean(d) - s mean(p) over the centres
    # (weighted), s from the centred sums.
    p, d, w = p[inl], d[inl], 1.0 / h2[inl]
    sw = w.sum()
    swp, swd = w @ p[:, :2], w @ d[:, :2]
    spp = w @ (p * p).sum(1)
    scale = float((w @ (p * d).sum(1) - swp @ swd / sw) / (spp - swp @ swp / sw))

    def misfit(s: float) -> tuple[np.ndarray, np.ndarray]:  # best translation for scale s, weighted SSE per column
        t = (swd - s * swp) / sw
        err = s * p - d
        err[:, :2] += t
        return w @ (err * err), t

    sse, (tx, ty) = misfit(scale)
    fitted = np.array([[scale, 0.0, tx], [0.0, scale, ty]])
    sse_pan, (px, py) = misfit(1.0)
    # noise per coordinate differs (a box's height is noisier than its width, in pixels and in box
    # heights); the tests assume the noisiest one, and at least the floor
    sigma2 = max(float(sse.max()) / max(k - 1, 1), noise_floor ** 2)
    sse, sse_pan = float(sse.sum()), float(sse_pan.sum())
    # keep the simplest model the data support (the detector's noise is not camera motion): the
    # scale only if it explains significantly more than a pure translation, the translation only
    # if it is significantly non-zero (chi-square tests under the fit's noise)
    if (sse_pan - sse) / sigma2 < CHI2_1DOF_99:
        scale, tx, ty = 1.0, px, py
        if sw * (tx * tx + ty * ty) / sigma2 < CHI2_2DOF_99:
            return BoxMotion(np.eye(2, 3), True, k, fitted)
    warp = np.array([[scale, 0.0, tx], [0.0, scale, ty]])
    return BoxMotion(warp, True, k, fitted)


def warp_xywh(xywh: np.ndarray, warp: np.ndarray) -> np.ndarray:
    """Move boxes (centre x, y, w, h) with a camera motion (2x3 affine): centres by the affine, sizes
    by its scale. Used for boxes outside the Kalman state, e.g. a lost track's last observed box.

    >>> warp_xywh(np.array([[10., 20, 4, 8]]), np.array([[2., 0, 1], [0, 2, -1]])).tolist()
    [[21.0, 39.0, 8.0, 16.0]]
    """
    if len(xywh) == 0:
        return xywh
    if is_identity(warp):
        return np.array(xywh, np.float64)
    out = np.array(xywh, np.float64)
    out[:, :2] = out[:, :2] @ warp[:, :2].T + warp[:, 2]
    (a, b), (c, d) = warp[0, :2].tolist(), warp[1, :2].tolist()
    out[:, 2:] *= math.sqrt(abs(a * d - b * c))   # sqrt |det|: the area scale (np.linalg.det costs 10x)
    return out


def _as_3x3(warp: np.ndarray) -> np.ndarray:
    return np.vstack([warp, [0.0, 0.0, 1.0]])


def compose(after: np.ndarray, before: np.ndarray) -> np.ndarray:
    """The 2x3 affine doing ``before`` then ``after``.

    >>> compose(np.array([[2., 0, 1], [0, 2, 0]]), np.array([[1., 0, 3], [0, 1, 0]])).tolist()
    [[2.0, 0.0, 7.0], [0.0, 2.0, 0.0]]
    """
    if is_identity(before):
        return np.array(after, np.float64)
    return (_as_3x3(after) @ _as_3x3(before))[:2]


def invert(warp: np.ndarray) -> np.ndarray:
    """The 2x3 affine undoing ``warp``."""
    if is_identity(warp):   # most frames: no camera motion expected
        return np.eye(2, 3)
    return np.linalg.inv(_as_3x3(warp))[:2]
