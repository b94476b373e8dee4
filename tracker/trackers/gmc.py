"""Camera-motion compensation (GMC): how the whole image moved since the previous frame.

Returns a 2x3 affine matrix mapping previous-frame pixels to current-frame pixels; trackers apply it
to their predicted boxes before matching, so a panning camera does not look like every object
jumping sideways. All methods work on a grey frame downscaled by ``downscale`` (cost grows with
pixels; peers spend about half of their per-frame tracking time here).

Methods: ``sparseOptFlow`` (corners + pyramidal Lucas-Kanade, the BoT-SORT default), ``ecc``
(OpenCV's enhanced correlation coefficient, slowest, most precise), ``orb`` (ORB keypoints +
brute-force matching), ``none``.
"""
from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

from ..errors import UserError

GMC_METHODS = ("sparseOptFlow", "ecc", "orb", "none")
MIN_SIDE = 16  # smallest side (pixels, after downscaling) GMC works on; smaller frames: no GMC


class CameraMotion:
    """Estimate frame-to-frame camera motion with one of :data:`GMC_METHODS`.

    Args:
        method: one of ``sparseOptFlow``, ``ecc``, ``orb``, ``none``.
        downscale: work on an image this many times smaller in each direction.
    """

    def __init__(self, method: str = "sparseOptFlow", downscale: int = 2) -> None:
        if method not in GMC_METHODS:
            raise UserError(f"unknown gmc_method {method!r}: choose one of {', '.join(GMC_METHODS)}")
        self.method = method
        self.downscale = max(1, int(downscale))
        self.prev: Optional[np.ndarray] = None
        self.prev_points: Optional[np.ndarray] = None
        self.prev_keypoints = None
        self.prev_desc = None
        self._current = None  # (keypoints, descriptors) of the frame being processed (ORB)
        if method == "orb":
            self.fast = cv2.FastFeatureDetector_create(20)  # FAST corners are cheaper than ORB's own
            self.orb = cv2.ORB_create()
            self.matcher = cv2.BFMatcher(cv2.NORM_HAMMING)

    def reset(self) -> None:
        self.prev = None
        self.prev_points = None
        self.prev_keypoints = self.prev_desc = None

    def apply(self, image: Optional[np.ndarray]) -> np.ndarray:
        """Affine (2, 3) from the previous frame to ``image`` (identity for the first frame)."""
        eye = np.eye(2, 3)
        if self.method == "none" or image is None:
            return eye
        h, w = image.shape[:2]
        if min(h, w) // self.downscale < MIN_SIDE:
            return eye   # a tiny frame (1x1, or a huge downscale) has no texture to estimate motion from
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        if self.downscale > 1:
            grey = cv2.resize(grey, (w // self.downscale, h // self.downscale))  # bilinear: cheapest
        if self.prev is None or self.prev.shape != grey.shape:
            self._remember(grey)
            return eye
        warp = {"sparseOptFlow": self._flow, "ecc": self._ecc, "orb": self._orb}[self.method](grey)
        self._remember(grey)
        if warp is None:
            return eye
        warp = warp.astype(np.float64)
        warp[:, 2] *= self.downscale  # translation back to full-resolution pixels
        return warp

    def _remember(self, grey: np.ndarray) -> None:
        self.prev = grey
        if self.method == "sparseOptFlow":
            self.prev_points = cv2.goodFeaturesToTrack(grey, maxCorners=1000, qualityLevel=0.01,
                                                       minDistance=1, blockSize=3)
        elif self.method == "orb":  # _orb already described this frame, except the first one
            self.prev_keypoints, self.prev_desc = self._current or self._describe(grey)
            self._current = None

    def _describe(self, grey: np.ndarray):
        return self.orb.compute(grey, self.fast.detect(grey, None))

    def _flow(self, grey: np.ndarray) -> Optional[np.ndarray]:
        if self.prev_points is None or len(self.prev_points) < 4:
            return None
        nxt, status, _ = cv2.calcOpticalFlowPyrLK(self.prev, grey, self.prev_points, None)
        ok = status.reshape(-1).astype(bool)
        if ok.sum() < 4:
            return None
        warp, _ = cv2.estimateAffinePartial2D(self.prev_points[ok], nxt[ok], method=cv2.RANSAC)
        return warp

    def _ecc(self, grey: np.ndarray) -> Optional[np.ndarray]:
        warp = np.eye(2, 3, dtype=np.float32)
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)
        try:
            _, warp = cv2.findTransformECC(self.prev, grey, warp, cv2.MOTION_EUCLIDEAN, criteria, None, 1)
        except cv2.error:
            return None
        return warp

    def _orb(self, grey: np.ndarray) -> Optional[np.ndarray]:
        kp, desc = self._current = self._describe(grey)
        if desc is None or self.prev_desc is None or len(kp) < 4:
            return None
        pairs = self.matcher.match(self.prev_desc, desc)
        if len(pairs) < 4:
            return None
        src = np.float32([self.prev_keypoints[p.queryIdx].pt for p in pairs])
        dst = np.float32([kp[p.trainIdx].pt for p in pairs])
        warp, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC)
        return warp


def warp_states(mean: np.ndarray, cov: np.ndarray, warp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply an affine camera motion to Kalman states ``cx, cy, w, h, vx, vy, vw, vh`` (BoT-SORT).

    The 2x2 linear part acts on every (x, y)-like pair of the state; the translation moves the centre.
    """
    if len(mean) == 0 or np.allclose(warp, np.eye(2, 3)):
        return mean, cov
    rot = warp[:, :2]
    big = np.kron(np.eye(4), rot)  # (8, 8): the same 2x2 on each pair
    mean = mean @ big.T
    mean[:, :2] += warp[:, 2]
    cov = big @ cov @ big.T
    return mean, cov
