"""Offline gap filling for finished tracks (``--interpolate``): never used on live streams.

A track that disappears for a few frames (occlusion, missed detections) and comes back with the same
id is filled in with boxes on the straight line between the two observations ("linear"), optionally
followed by Gaussian smoothing of each track's box trajectory ("gaussian", like StrongSORT's GSI:
smoothing removes the jitter of the per-frame detections). Gaps longer than ``max_gap`` frames are
left empty: over long gaps a straight line is a guess, not a measurement.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

INTERPOLATION_METHODS = ("linear", "gaussian")


def interpolate_tracks(rows: np.ndarray, max_gap: int = 20, method: str = "linear",
                       sigma: float = 2.0, observed: np.ndarray | None = None) -> np.ndarray:
    """Fill gaps of up to ``max_gap`` missing frames in MOTChallenge result rows.

    Args:
        rows: (N, >=6) ``frame, id, x, y, w, h, score, ...`` rows of a whole sequence.
        max_gap: largest number of missing frames to fill.
        method: ``linear`` or ``gaussian`` (linear, then each track's boxes smoothed with a
            Gaussian of ``sigma`` frames over each contiguous run).
        observed: optional (N,) bool, False for rows the tracker predicted without a detection
            (``report_lost_frames``): inside a filled gap they are replaced by the interpolation,
            after a track's last detection they are kept as they are.
    Returns:
        rows sorted by frame then id; filled rows carry the score of the earlier observation.
    """
    if method not in INTERPOLATION_METHODS:
        raise ValueError(f"unknown interpolation method {method!r}")
    rows = np.asarray(rows, np.float64)
    if len(rows) == 0:
        return rows
    predicted = np.zeros((0, rows.shape[1]))
    if observed is not None:
        observed = np.asarray(observed, bool)
        predicted, rows = rows[~observed], rows[observed]
    out = []
    for tid in np.unique(rows[:, 1]):
        track = rows[rows[:, 1] == tid]
        track = track[np.argsort(track[:, 0], kind="stable")]
        frames = track[:, 0].astype(np.int64)
        step = np.diff(frames)
        filled = [track]
        for i in np.flatnonzero((step > 1) & (step <= max_gap + 1)):
            missing = np.arange(frames[i] + 1, frames[i + 1])
            frac = ((missing - frames[i]) / step[i])[:, None]
            new = np.repeat(track[i:i + 1], len(missing), axis=0)
            new[:, 0] = missing
            new[:, 2:6] = track[i, 2:6] + frac * (track[i + 1, 2:6] - track[i, 2:6])
            filled.append(new)
        track = np.concatenate(filled)
        track = track[np.argsort(track[:, 0], kind="stable")]
        if method == "gaussian" and len(track) > 2:
            track[:, 2:6] = _smooth_runs(track[:, 0].astype(np.int64), track[:, 2:6], sigma)
        out.append(track)
    result = np.concatenate(out)
    if len(predicted):  # keep predictions that the interpolation did not replace
        have = set(zip(result[:, 0].astype(np.int64).tolist(), result[:, 1].astype(np.int64).tolist()))
        extra = [i for i, (f, tid) in enumerate(zip(predicted[:, 0].astype(np.int64).tolist(),
                                                    predicted[:, 1].astype(np.int64).tolist()))
                 if (f, tid) not in have]
        result = np.concatenate([result, predicted[extra]])
    return result[np.lexsort((result[:, 1], result[:, 0]))]


def _smooth_runs(frames: np.ndarray, boxes: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-smooth boxes within each run of consecutive frames (runs are not smoothed together)."""
    boxes = boxes.copy()
    breaks = np.flatnonzero(np.diff(frames) > 1) + 1
    for run in np.split(np.arange(len(frames)), breaks):
        if len(run) > 2:
            boxes[run] = gaussian_filter1d(boxes[run], sigma, axis=0, mode="nearest")
    return boxes
