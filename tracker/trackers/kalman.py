"""Constant-velocity Kalman filter for boxes, batched over tracks.

State (8): ``cx, cy, w, h, vx, vy, vw, vh`` — box centre and size plus their per-frame velocities
(the BoT-SORT choice: width and height are filtered separately, which follows size changes better
than DeepSORT's aspect ratio). Measurement (4): ``cx, cy, w, h``.

Noise model (why): the uncertainty of a box scales with its size, so every standard deviation is a
fraction of the box's width/height — a 20 px jitter is nothing for a 400 px pedestrian and everything
for a 20 px one. ``std_pos = 1/20`` and ``std_vel = 1/160`` of the size are the values used by
DeepSORT/ByteTrack/BoT-SORT.

NSA (from GIAOTracker/StrongSORT, optional): the measurement noise is scaled by ``1 - score`` so a
confident detection pulls the estimate harder than a weak one.

Why batched: the transition ``F`` and observation ``H`` matrices (and the filter equations) are the
ones of a filterpy ``KalmanFilter`` built once in :func:`make_filterpy_template`; we then apply the
same predict/update equations to all tracks at once with NumPy (``(N, 8)`` means, ``(N, 8, 8)``
covariances). One filterpy object per track costs ~20 µs per call in Python overhead, i.e. most of a
frame's budget with 50 tracks; the batched form costs the same few NumPy calls for 1 or 1000 tracks.
``tests/test_kalman.py`` checks that both give identical numbers.
"""
from __future__ import annotations

import numpy as np
from filterpy.kalman import KalmanFilter

# 0.95 quantile of the chi-square distribution with 4 degrees of freedom (DeepSORT's gate).
CHI2_GATE_4DOF = 9.4877


def make_filterpy_template(dt: float = 1.0) -> KalmanFilter:
    """The filterpy constant-velocity filter whose ``F`` and ``H`` every track shares."""
    kf = KalmanFilter(dim_x=8, dim_z=4)
    kf.F = np.eye(8)
    kf.F[:4, 4:] = dt * np.eye(4)  # position += velocity * dt
    kf.H = np.eye(4, 8)  # we observe the box, not its velocity
    return kf


class BoxKalman:
    """Batched predict/update for many tracks sharing one filterpy model.

    Args:
        std_pos: position/size noise as a fraction of box width/height.
        std_vel: velocity noise as a fraction of box width/height.
        nsa: scale measurement noise by ``(1 - score)`` (confident detections are trusted more).
    """

    def __init__(self, std_pos: float = 1 / 20, std_vel: float = 1 / 160, nsa: bool = False) -> None:
        template = make_filterpy_template()
        self.F: np.ndarray = template.F.copy()
        self.H: np.ndarray = template.H.copy()
        self.std_pos = std_pos
        self.std_vel = std_vel
        self.nsa = nsa
        # F = [[I, dt I], [0, I]] with dt = 1: then F x and F P Fᵀ are block sums, which predict()
        # computes directly — the same numbers as the matrix products (every other term of those
        # is an exact 0) for a fraction of the cost of batched 8x8 products
        self._unit_step = bool(np.array_equal(self.F, make_filterpy_template(1.0).F))

    # -- noise covariances (diagonal, size-proportional) -------------------------------------------
    def _wh4(self, w: np.ndarray, h: np.ndarray) -> np.ndarray:
        """(N, 4) of ``w, h, w, h`` — the scale of cx, cy, w, h errors."""
        return np.stack([w, h, w, h], axis=1)

    def initial_cov(self, xywh: np.ndarray) -> np.ndarray:
        wh = self._wh4(xywh[:, 2], xywh[:, 3])
        std = np.concatenate([2 * self.std_pos * wh, 10 * self.std_vel * wh], axis=1)
        return _diag(std**2)

    def process_noise(self, mean: np.ndarray) -> np.ndarray:
        return _diag(self._process_var(mean))

    def measurement_noise(self, mean: np.ndarray, score: np.ndarray | None = None) -> np.ndarray:
        return _diag(self._measurement_var(mean, score))

    # the diagonals alone: the filter equations add them to the diagonal instead of building matrices
    def _process_var(self, mean: np.ndarray, std_vel: np.ndarray | None = None) -> np.ndarray:
        if std_vel is None:
            scale = np.array([self.std_pos] * 4 + [self.std_vel] * 4)
        else:  # one velocity noise per row
            scale = np.empty((len(mean), 8))
            scale[:, :4] = self.std_pos
            scale[:, 4:] = np.asarray(std_vel, np.float64)[:, None]
        return (mean[:, _WH8] * scale) ** 2

    def _measurement_var(self, mean: np.ndarray, score: np.ndarray | None = None) -> np.ndarray:
        var = (mean[:, _WH4] * self.std_pos) ** 2
        if self.nsa and score is not None:
            # keep a floor so a score of 1.0 does not make the filter ignore its own prediction entirely
            var = var * np.clip(1.0 - np.asarray(score, np.float64), 0.05, 1.0)[:, None]
        return var

    # -- filter equations --------------------------------------------------------------------------
    def initiate(self, xywh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New tracks from measurements (N, 4) ``cx, cy, w, h``: zero velocity, wide velocity prior."""
        xywh = np.asarray(xywh, np.float64).reshape(-1, 4)
        mean = np.concatenate([xywh, np.zeros_like(xywh)], axis=1)
        return mean, self.initial_cov(xywh)

    def predict(self, mean: np.ndarray, cov: np.ndarray, std_vel: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """x' = F x ; P' = F P Fᵀ + Q  (filterpy ``KalmanFilter.predict``), for all rows at once.
        ``std_vel`` (N,), optional: each row's own velocity noise instead of ``self.std_vel``."""
        if len(mean) == 0:
            return mean, cov
        var = self._process_var(mean, std_vel)
        if not self._unit_step:
            return mean @ self.F.T, self.F @ cov @ self.F.T + _diag(var)
        new_mean = mean.copy()
        new_mean[:, :4] += mean[:, 4:]  # position += velocity
        new_cov = cov.copy()
        new_cov[:, :4] += cov[:, 4:]  # F P: rows
        new_cov[:, :, :4] += new_cov[:, :, 4:]  # (F P) Fᵀ: columns
        new_cov[:, _D8, _D8] += var  # + Q
        return new_mean, new_cov

    def project(self, mean: np.ndarray, cov: np.ndarray, score: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted measurement ``H x`` and its covariance ``S = H P Hᵀ + R``."""
        s = cov[:, :4, :4].copy()  # H = [I 0], so H P Hᵀ is the top-left block
        s[:, _D4, _D4] += self._measurement_var(mean, score)  # + R (diagonal)
        return mean[:, :4], s

    def update(self, mean: np.ndarray, cov: np.ndarray, xywh: np.ndarray,
               score: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Kalman update of rows ``mean[i]`` with measurement ``xywh[i]`` (filterpy ``update``).

        K = P Hᵀ S⁻¹ ; x = x + K (z - H x) ; P = (I - K H) P
        """
        if len(mean) == 0:
            return mean, cov
        z = np.asarray(xywh, np.float64).reshape(-1, 4)
        proj_mean, s = self.project(mean, cov, score)
        pht = cov[:, :, :4]  # P Hᵀ (first four columns of P)
        gain = np.linalg.solve(s, pht.transpose(0, 2, 1)).transpose(0, 2, 1)  # (N, 8, 4), S symmetric
        innovation = z - proj_mean
        mean = mean + np.einsum("nij,nj->ni", gain, innovation)
        cov = cov - gain @ pht.transpose(0, 2, 1)  # P - K H P
        return mean, cov

    def innovation_distance(self, mean: np.ndarray, cov: np.ndarray, xywh: np.ndarray,
                            score: np.ndarray | None = None) -> np.ndarray:
        """(N,) squared Mahalanobis distance of each row's own measurement ``xywh[i]`` from its
        predicted one: the normalized innovation squared, about 4 on average (4 values compared)
        when the filter's noise model fits the data."""
        if len(mean) == 0:
            return np.zeros(0)
        proj_mean, s = self.project(mean, cov, score)
        innovation = np.asarray(xywh, np.float64).reshape(-1, 4) - proj_mean
        return np.einsum("ni,ni->n", innovation, np.linalg.solve(s, innovation[:, :, None])[:, :, 0])

    def gating_distance(self, mean: np.ndarray, cov: np.ndarray, xywh: np.ndarray,
                        only_position: bool = False) -> np.ndarray:
        """Squared Mahalanobis distance (N tracks, M measurements) for DeepSORT-style gating."""
        z = np.asarray(xywh, np.float64).reshape(-1, 4)
        if len(mean) == 0 or len(z) == 0:
            return np.zeros((len(mean), len(z)))
        proj_mean, s = self.project(mean, cov)
        dims = 2 if only_position else 4
        s_inv = np.linalg.inv(s[:, :dims, :dims])  # (N, d, d)
        mu, z = proj_mean[:, :dims], z[:, :dims]
        # (z - mu)ᵀ S⁻¹ (z - mu) expanded so that only (N, M) arrays are built, never (N, M, d):
        # zᵀS⁻¹z - 2 (S⁻¹mu)ᵀz + muᵀS⁻¹mu
        zz = (z[:, :, None] * z[:, None, :]).reshape(len(z), -1)  # (M, d*d)
        s_mu = np.einsum("nij,nj->ni", s_inv, mu)  # (N, d)
        return (s_inv.reshape(len(mu), -1) @ zz.T - 2 * s_mu @ z.T
                + np.einsum("ni,ni->n", s_mu, mu)[:, None])


_D4, _D8 = np.arange(4), np.arange(8)  # diagonal indices of 4x4 and 8x8 matrices
_WH4 = np.array([2, 3, 2, 3])  # state columns w, h, w, h: the scale of the cx, cy, w, h errors
_WH8 = np.tile(_WH4, 2)  # ... and of their velocities


def _diag(values: np.ndarray) -> np.ndarray:
    """Stack of diagonal matrices from rows of ``values`` (N, k) -> (N, k, k)."""
    n, k = values.shape
    out = np.zeros((n, k, k))
    idx = np.arange(k)
    out[:, idx, idx] = values
    return out
