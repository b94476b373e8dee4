"""Track state shared by all trackers: one table of parallel arrays, one row per live track.

A track is a row, not an object, so predicting, matching and reporting 1000 tracks costs the
same handful of NumPy calls as 10 tracks.

Life cycle (the same for SORT, ByteTrack, BoT-SORT and DeepSORT)::

    new detection ──▶ TENTATIVE ──(min_hits matches in a row)──▶ TRACKED ◀──(matched)── LOST
                         │ missed once                              │ missed            │ missed for
                         ▼                                          ▼                   ▼ max_lost frames
                      deleted                                      LOST              deleted

Ids are given when a track is confirmed (TENTATIVE -> TRACKED), so reported ids count up without
gaps from 1 and are never reused.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

TENTATIVE, TRACKED, LOST = 0, 1, 2

# per-row fields and how to build an empty column for them (feature columns are created lazily)
_FIELDS = {
    "track_id": lambda: np.zeros(0, np.int64),  # 0 while tentative
    "state": lambda: np.zeros(0, np.int8),
    "mean": lambda: np.zeros((0, 8)),  # Kalman state cx, cy, w, h, vx, vy, vw, vh
    "cov": lambda: np.zeros((0, 8, 8)),
    "hits": lambda: np.zeros(0, np.int64),  # matched detections so far
    "start_frame": lambda: np.zeros(0, np.int64),
    "last_frame": lambda: np.zeros(0, np.int64),  # frame of the last matched detection
    "score": lambda: np.zeros(0, np.float32),  # score of the last matched detection
    "cls": lambda: np.zeros(0, np.int64),  # majority class so far
    "cls_votes": lambda: np.zeros(0, np.int64),  # Boyer-Moore majority counter for ``cls``
    "det_index": lambda: np.zeros(0, np.int64),  # detection matched this frame, -1 if none
    "obs_xywh": lambda: np.zeros((0, 4)),  # last observed box (cx, cy, w, h)
    "obs_mean": lambda: np.zeros((0, 8)),  # Kalman state right after the last observation
    "obs_cov": lambda: np.zeros((0, 8, 8)),  # (for observation-centric re-update, OC-SORT)
}


class TrackTable:
    """The live tracks of one tracker as parallel arrays (see module docstring).

    Optional appearance columns: ``feat`` (N, D) smoothed embedding, ``gallery`` (N, B, D) the last
    ``B`` embeddings (DeepSORT) with ``gallery_len`` valid rows; created when the first detection
    with an embedding arrives.
    """

    def __init__(self) -> None:
        for name, make in _FIELDS.items():
            setattr(self, name, make())
        self.feat: Optional[np.ndarray] = None
        self.gallery: Optional[np.ndarray] = None
        self.gallery_len = np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self.state)

    def _columns(self) -> list[str]:
        cols = list(_FIELDS)
        if self.feat is not None:
            cols.append("feat")
        if self.gallery is not None:
            cols += ["gallery", "gallery_len"]
        return cols

    def keep(self, mask_or_index: np.ndarray) -> None:
        """Keep only the given rows (boolean mask or index array), dropping the others."""
        for name in self._columns():
            setattr(self, name, getattr(self, name)[mask_or_index])

    def append(self, mean: np.ndarray, cov: np.ndarray, xywh: np.ndarray, score: np.ndarray,
               cls: np.ndarray, det_index: np.ndarray, frame: int, state: np.ndarray,
               feat: Optional[np.ndarray] = None, gallery_budget: int = 0) -> None:
        """Add new tracks (ids are assigned later by :meth:`confirm`)."""
        n = len(mean)
        if n == 0:
            return
        new = {
            "track_id": np.zeros(n, np.int64), "state": np.asarray(state, np.int8),
            "mean": mean, "cov": cov, "hits": np.ones(n, np.int64),
            "start_frame": np.full(n, frame, np.int64), "last_frame": np.full(n, frame, np.int64),
            "score": np.asarray(score, np.float32), "cls": np.asarray(cls, np.int64),
            "cls_votes": np.ones(n, np.int64), "det_index": np.asarray(det_index, np.int64),
            "obs_xywh": np.asarray(xywh, np.float64), "obs_mean": mean.copy(), "obs_cov": cov.copy(),
        }
        if feat is not None:
            self._ensure_feat(feat.shape[1], gallery_budget)
            new["feat"] = feat.astype(np.float32)
            if self.gallery is not None:
                g = np.zeros((n,) + self.gallery.shape[1:], np.float32)
                g[:, 0] = feat
                new["gallery"], new["gallery_len"] = g, np.ones(n, np.int64)
        elif self.feat is not None:  # this frame has no embeddings: start with blank ones
            new["feat"] = np.zeros((n, self.feat.shape[1]), np.float32)
            if self.gallery is not None:
                new["gallery"] = np.zeros((n,) + self.gallery.shape[1:], np.float32)
                new["gallery_len"] = np.zeros(n, np.int64)
        for name in self._columns():
            setattr(self, name, np.concatenate([getattr(self, name), new[name]]))

    def _ensure_feat(self, dim: int, gallery_budget: int) -> None:
        if self.feat is None:
            self.feat = np.zeros((len(self), dim), np.float32)
            if gallery_budget > 0:
                self.gallery = np.zeros((len(self), gallery_budget, dim), np.float32)
                self.gallery_len = np.zeros(len(self), np.int64)

    def record_match(self, rows: np.ndarray, mean: np.ndarray, cov: np.ndarray, xywh: np.ndarray,
                     score: np.ndarray, cls: np.ndarray, det_index: np.ndarray, frame: int,
                     feat: Optional[np.ndarray] = None, feat_momentum: float = 0.9,
                     feat_ok: Optional[np.ndarray] = None) -> None:
        """Store the Kalman update and the matched detection's data for tracks ``rows``.

        ``feat_ok`` (bool per row) limits the appearance update to clean views of the object.
        """
        self.mean[rows], self.cov[rows] = mean, cov
        self.obs_mean[rows], self.obs_cov[rows] = mean, cov
        self.obs_xywh[rows] = xywh
        self.hits[rows] += 1
        self.last_frame[rows] = frame
        self.score[rows] = score
        self.det_index[rows] = det_index
        # Boyer-Moore majority vote: the class held by more than half of the matches wins
        same = self.cls[rows] == cls
        if same.all():  # the usual case (one class, or no change): one more vote each, no flip
            self.cls_votes[rows] += 1
        else:
            votes = self.cls_votes[rows] + np.where(same, 1, -1)
            flip = votes < 0
            self.cls[rows] = np.where(flip, cls, self.cls[rows])
            self.cls_votes[rows] = np.where(flip, 1, votes)
        if feat is not None and self.feat is not None:
            if feat_ok is not None:
                rows, feat = rows[feat_ok], feat[feat_ok]
            if len(rows):
                self._update_appearance(rows, feat, feat_momentum)

    def _update_appearance(self, rows: np.ndarray, feat: np.ndarray, momentum: float) -> None:
        """Exponential moving average of unit embeddings (BoT-SORT), plus a ring buffer (DeepSORT)."""
        old = self.feat[rows]
        blank = ~old.any(axis=1)
        smoothed = np.where(blank[:, None], feat, momentum * old + (1 - momentum) * feat)
        self.feat[rows] = smoothed / np.maximum(np.linalg.norm(smoothed, axis=1, keepdims=True), 1e-12)
        if self.gallery is not None:
            budget = self.gallery.shape[1]
            slot = self.hits[rows] % budget  # hits was just incremented: ring position
            self.gallery[rows, slot] = feat
            self.gallery_len[rows] = np.minimum(self.gallery_len[rows] + 1, budget)

    def confirm(self, rows: np.ndarray, next_id: int) -> int:
        """Make ``rows`` TRACKED, giving ids to those that have none; returns the next free id."""
        fresh = rows[self.track_id[rows] == 0]
        self.track_id[fresh] = np.arange(next_id, next_id + len(fresh))
        self.state[rows] = TRACKED
        return next_id + len(fresh)
