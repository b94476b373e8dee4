"""BoT-SORT (Aharon et al. 2022): ByteTrack + camera-motion compensation + appearance.

Built from ByteTrack by changing two steps:
  - prediction: after the Kalman predict, every track is moved by the camera motion estimated by
    :class:`~tracker.trackers.gmc.CameraMotion` (only when an image is given); with
    ``motion_from_matches`` the motion the matches still show is removed on top (both combined:
    measured best on the MOT17-mini frames, docs/benchmarks.md);
  - stage-1 cost: where detections carry embeddings (``Detections.feat``), the cost is a weighted
    sum of 1 - IoU and the cosine distance to the track's smoothed embedding. Pairs that look very
    different never match (``appearance_veto``); a *lost* track may also match a box out of IoU
    reach when they look very alike (``reid_thresh``) and the box is near the track's prediction
    (``reid_radius``) — after a long occlusion IoU is 0 even for the right box.
Without images and embeddings it is ByteTrack with this project's default extras switched on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..types import Detections
from .bytetrack import ByteTrackConfig, ByteTracker
from .gmc import CameraMotion, warp_states
from .match_motion import is_identity, warp_xywh
from .matching import cosine_cost
from .track import LOST


@dataclass
class BotSortConfig(ByteTrackConfig):
    # this project's defaults on top of ByteTrack's (docs/benchmarks.md has the measurements)
    track_buffer: int = field(default=60, metadata={"search": (10, 150)})  # frames (at 30 fps) a lost track is kept: 2 s of occlusion
    report_lost_frames: int = field(default=15, metadata={"search": (0, 30)})  # also report lost tracks (predicted box) this many frames (at 30 fps)
    last_box_recovery: bool = True  # OC-SORT OCR: lost tracks left unmatched retry with their last seen box
    motion_from_matches: bool = True  # camera motion from the matches (no images needed), measured: docs/benchmarks.md
    camera_velocity: bool = True  # track velocities stay the objects' own (lost tracks follow the camera), measured: docs/benchmarks.md round 3
    report_lost_inside: bool = True  # report a lost track only while half its box is inside the covered area, measured: round 3
    gmc_method: str = "sparseOptFlow"  # camera-motion compensation: sparseOptFlow | ecc | orb | none
    gmc_downscale: int = 2  # GMC works on an image this many times smaller
    appearance_weight: float = field(default=0.5, metadata={"search": (0.2, 0.9), "appearance": True})  # cost = weight * cosine distance + (1 - weight) * (1 - IoU)
    appearance_veto: float = field(default=0.35, metadata={"search": (0.2, 0.6), "appearance": True})  # cosine distance above which a pair never matches (2.0: off)
    reid_thresh: float = field(default=0.15, metadata={"search": (0.05, 0.3), "appearance": True})  # cosine distance under which a lost track may match out of IoU reach ...
    reid_radius: float = 2.0  # ... and its centre is within this many track heights
    appearance_trust_iou: float = 0.6  # pairs overlapping at least this IoU skip the veto (1.0: never)
    feat_momentum: float = 0.9  # track embedding = momentum * old + (1 - momentum) * new
    appearance_min_score: float = 0.5  # only detections this confident update a track's appearance ...
    appearance_max_overlap: float = 0.5  # ... and only if no other box covers more of them than this


class BotSortTracker(ByteTracker):
    """ByteTrack + GMC + IoU/appearance fusion."""

    config_class = BotSortConfig
    cfg: BotSortConfig

    def __init__(self, config: Optional[BotSortConfig] = None, frame_rate: float = 30.0) -> None:
        super().__init__(config, frame_rate)
        self.gmc = CameraMotion(self.cfg.gmc_method, self.cfg.gmc_downscale)

    def reset(self) -> None:
        super().reset()
        if hasattr(self, "gmc"):
            self.gmc.reset()

    def embedding_min_score(self) -> Optional[float]:
        # appearance enters only stage 1 (confident boxes) and the memory of tracks started from them
        return self.cfg.track_high_thresh

    def notice_gap(self) -> None:
        # the frames either side of an outage are unrelated views: their "camera motion" would
        # shift every track to a wrong place
        super().notice_gap()
        self.gmc.reset()

    def _pixel_gmc(self, image: Optional[np.ndarray]) -> bool:
        return image is not None and self.cfg.gmc_method != "none"

    def _predict(self, image: Optional[np.ndarray]) -> None:
        super()._predict(image)
        if self._pixel_gmc(image):
            warp = self.gmc.apply(image)
            t = self.tracks
            t.mean, t.cov = warp_states(t.mean, t.cov, warp)
            t.obs_xywh = warp_xywh(t.obs_xywh, warp)  # last-box recovery looks where the camera put it
            if not is_identity(warp):
                self._camera_moved(warp)

    def _first_stage_cost(self, rows: np.ndarray, dets: Detections, det_rows: np.ndarray) -> np.ndarray:
        cost = super()._first_stage_cost(rows, dets, det_rows)
        t = self.tracks
        if dets.feat is None or t.feat is None or cost.size == 0:
            return cost
        cfg = self.cfg
        app = cosine_cost(t.feat[rows], dets.feat[det_rows])
        has_feat = t.feat[rows].any(axis=1)[:, None]  # tracks seen with an embedding
        # motion says "possible" (IoU gate), or re-identification of a lost track: looks alike and is
        # near where it was predicted (IoU is 0 after a long occlusion even when it is the same object)
        track_xywh = t.mean[rows, :4]
        det_centre = (dets.xyxy[det_rows, :2] + dets.xyxy[det_rows, 2:]) / 2
        centre_dist = np.linalg.norm(track_xywh[:, None, :2] - det_centre[None], axis=2)
        near = centre_dist < cfg.reid_radius * track_xywh[:, 3:4]
        lost = (t.state[rows] == LOST)[:, None]
        allowed = ((cost <= cfg.match_thresh) | (lost & near & (app < cfg.reid_thresh)))
        # a strong overlap outranks appearance: a person entering the view or half hidden looks
        # different from their memory but is still where motion says
        allowed &= (app < cfg.appearance_veto) | (cost <= 1.0 - cfg.appearance_trust_iou)
        fused = cfg.appearance_weight * app + (1 - cfg.appearance_weight) * np.minimum(cost, 1.0)
        return np.where(has_feat, np.where(allowed, fused, np.inf), cost)
