"""DeepSORT (Wojke et al. 2017): appearance gallery, Mahalanobis gating, matching cascade.

Built on the SORT life cycle by replacing the association:
  1. matching cascade: confirmed tracks are matched in order of time since their last detection
     (1 frame, then 2, ...), so a recently seen track wins a detection over one lost long ago.
     Cost = smallest cosine distance to the track's last ``gallery_budget`` embeddings (without
     embeddings: Mahalanobis distance / gate), and pairs outside the Kalman 95% gate are forbidden;
  2. IoU matching of the rest: tentative tracks and tracks seen last frame vs unmatched detections.
"""
from __future__ import annotations

from typing import Optional

from dataclasses import dataclass, field

import numpy as np

from ..boxes import xyxy_to_xywh
from ..types import Detections
from .kalman import CHI2_GATE_4DOF
from .matching import gallery_cosine_cost, gate_classes, linear_assignment
from .sort import SortConfig, SortTracker
from .track import TENTATIVE


@dataclass
class DeepSortConfig(SortConfig):
    det_thresh: float = field(default=0.3, metadata={"search": (0.1, 0.6)})  # detections below are ignored
    new_track_thresh: float = 0.3  # a detection must score this much to start a track
    max_cosine_distance: float = field(default=0.2, metadata={"search": (0.1, 0.4), "appearance": True})  # cascade: largest appearance cost accepted
    gallery_budget: int = 30  # embeddings kept per track (memory cap)
    match_thresh: float = field(default=0.7, metadata={"search": (0.5, 0.9)})  # IoU stage: largest 1-IoU cost accepted
    min_hits: int = field(default=3, metadata={"search": (1, 5)})  # matches in a row to confirm a track (n_init)
    track_buffer: int = field(default=30, metadata={"search": (10, 120)})  # frames (at 30 fps) a lost track is kept (max_age)
    gate_position_only: bool = False  # gate on centre only (2 dof) instead of the full box
    appearance_min_score: float = 0.5  # only detections this confident enter a track's gallery ...
    appearance_max_overlap: float = 0.5  # ... and only if no other box covers more of them than this


class DeepSortTracker(SortTracker):
    """DeepSORT's matching cascade + IoU stage on the shared life cycle."""

    config_class = DeepSortConfig
    cfg: DeepSortConfig

    def embedding_min_score(self) -> Optional[float]:
        return self.cfg.det_thresh   # the cascade compares every kept detection by appearance

    def _associate(self, dets: Detections) -> tuple[np.ndarray, np.ndarray]:
        cfg, t = self.cfg, self.tracks
        confirmed = np.flatnonzero(t.state != TENTATIVE)
        since_seen = self.frame_id - t.last_frame  # 1 = matched in the previous frame
        unmatched_dets = np.arange(len(dets))
        matches = []

        # 1. matching cascade over confirmed tracks, most recently seen first
        if len(confirmed) and len(dets):
            xywh = xyxy_to_xywh(dets.xyxy).astype(np.float64)
            gate = self.kf.gating_distance(t.mean[confirmed], t.cov[confirmed], xywh,
                                           cfg.gate_position_only)
            if dets.feat is not None and t.gallery is not None:
                cost = gallery_cosine_cost(t.gallery[confirmed], t.gallery_len[confirmed], dets.feat)
                cost[t.gallery_len[confirmed] == 0] = np.inf  # never seen with an embedding
                max_cost = cfg.max_cosine_distance
            else:  # motion only: the normalised Mahalanobis distance
                cost = gate / CHI2_GATE_4DOF
                max_cost = 1.0
            cost = np.where(gate > CHI2_GATE_4DOF, np.inf, cost)
            if cfg.per_class:
                cost = gate_classes(cost, t.cls[confirmed], dets.cls)
            for level in np.unique(since_seen[confirmed]):
                if len(unmatched_dets) == 0:
                    break
                pick = np.flatnonzero(since_seen[confirmed] == level)
                m, _, um = linear_assignment(cost[np.ix_(pick, unmatched_dets)], max_cost)
                matches.append(np.stack([confirmed[pick[m[:, 0]]], unmatched_dets[m[:, 1]]], axis=1))
                unmatched_dets = unmatched_dets[um]

        # 2. IoU stage: tentative tracks and those seen last frame, not matched yet
        done = np.concatenate(matches)[:, 0] if matches else np.zeros(0, np.int64)
        rest = np.flatnonzero(((t.state == TENTATIVE) | (since_seen == 1)) & ~np.isin(np.arange(len(t)), done))
        cost = self._iou_cost(rest, dets[unmatched_dets])
        m, _, um = linear_assignment(cost, cfg.match_thresh)
        matches.append(np.stack([rest[m[:, 0]], unmatched_dets[m[:, 1]]], axis=1))
        return np.concatenate(matches).astype(np.int64), unmatched_dets[um]
