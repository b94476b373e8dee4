"""Camera motion without images: the global motion that moves predicted track boxes onto their detections.

When the camera pans, zooms or shakes, every track's Kalman prediction misses its object by the same
similarity transform. Given pairs (predicted box, matched detection) of confident matches, a robust
fit of ``x' = s * x + tx``, ``y' = s * y + ty``, ``w' = s * w``, ``h' = s * h`` recovers it: a median
start, inliers within ``inlier_tol`` box heights, then weighted least squares on the inliers. A fit
that is not significantly different from "no motion" (a chi-square test on its own covariance) *is*
no motion, so a static scene changes nothing. The result is the same 2x3 affine that pixel GMC
returns (:func:`tracker.trackers.gmc.warp_states` applies either).

Example:
    >>> pred = np.array([[100., 200, 40, 100], [400, 220, 50, 120], [800, 300, 30, 80], [600, 500, 60, 140]])
    >>> det = pred.copy(); det[:, :2] = 1.1 * pred[:, :2] + [12, -5]; det[:, 2:] *= 1.1
    >>> fit = fit_box_motion(pred, det)
    >>> fit.reliable, np.round(fit.warp, 3).tolist()
    (True, [[1.1, 0.0, 12.0], [0.0, 1.1, -5.0]])
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CHI2_3DOF_99 = 11.34  # 99% quantile of chi-square with 3 degrees of freedom


@dataclass
class BoxMotion:
    """A fitted frame motion: ``warp`` (2, 3), whether enough matches agreed (``reliable``), how many."""

    warp: np.ndarray = field(default_factory=lambda: np.eye(2, 3))
    reliable: bool = False
    inliers: int = 0

    @property
    def is_identity(self) -> bool:
        return bool(np.array_equal(self.warp, np.eye(2, 3)))


def fit_box_motion(pred_xywh: np.ndarray, det_xywh: np.ndarray, min_matches: int = 4,
                   inlier_tol: float = 0.15, min_inlier_fraction: float = 0.5) -> BoxMotion:
    """Fit the scale + translation taking predicted boxes onto matched ones (centre x, y, w, h rows).

    ``reliable`` is False (and the warp the identity) with fewer than ``min_matches`` inliers or
    when under ``min_inlier_fraction`` of the pairs agree.
    """
    n = len(pred_xywh)
    if n < min_matches:
        return BoxMotion(inliers=0)
    p, d = np.asarray(pred_xywh, np.float64), np.asarray(det_xywh, np.float64)
    h = np.maximum(p[:, 3], 1e-6)
    # robust start: median size ratio, then median translation given that scale
    s0 = float(np.median(np.sqrt(d[:, 2] * d[:, 3] / np.maximum(p[:, 2] * p[:, 3], 1e-12))))
    t0 = np.median(d[:, :2] - s0 * p[:, :2], axis=0)
    resid = np.linalg.norm(d[:, :2] - (s0 * p[:, :2] + t0), axis=1) / h
    inl = resid < inlier_tol
    k = int(inl.sum())
    if k < min_matches or k < min_inlier_fraction * n:
        return BoxMotion(inliers=k)
    # weighted least squares on the inliers: unknowns (s, tx, ty); residuals in box heights
    pi, di, wi = p[inl], d[inl], 1.0 / h[inl]
    zeros, ones = np.zeros(k), np.ones(k)
    a = np.concatenate([np.stack([pi[:, 0], ones, zeros], 1), np.stack([pi[:, 1], zeros, ones], 1),
                        np.stack([pi[:, 2], zeros, zeros], 1), np.stack([pi[:, 3], zeros, zeros], 1)])
    b = np.concatenate([di[:, 0], di[:, 1], di[:, 2], di[:, 3]])
    w = np.tile(wi, 4)
    aw, bw = a * w[:, None], b * w
    sol, *_ = np.linalg.lstsq(aw, bw, rcond=None)
    dof = max(len(bw) - 3, 1)
    sigma2 = float(np.sum((aw @ sol - bw) ** 2)) / dof
    warp = np.array([[sol[0], 0.0, sol[1]], [0.0, sol[0], sol[2]]])
    # "no motion" unless significantly different from it (noise of the detector, not the camera)
    delta = np.array([sol[0] - 1.0, sol[1], sol[2]])
    normal = aw.T @ aw
    stat = float(delta @ normal @ delta) / max(sigma2, 1e-12)
    if stat < CHI2_3DOF_99:
        warp = np.eye(2, 3)
    return BoxMotion(warp, True, k)


def warp_xywh(xywh: np.ndarray, warp: np.ndarray) -> np.ndarray:
    """Move boxes (centre x, y, w, h) with a camera motion (2x3 affine): centres by the affine, sizes
    by its scale. Used for boxes outside the Kalman state, e.g. a lost track's last observed box.

    >>> warp_xywh(np.array([[10., 20, 4, 8]]), np.array([[2., 0, 1], [0, 2, -1]])).tolist()
    [[21.0, 39.0, 8.0, 16.0]]
    """
    if len(xywh) == 0:
        return xywh
    out = np.array(xywh, np.float64)
    out[:, :2] = out[:, :2] @ warp[:, :2].T + warp[:, 2]
    out[:, 2:] *= np.sqrt(abs(np.linalg.det(warp[:, :2])))
    return out
