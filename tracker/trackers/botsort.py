"""BoT-SORT (Aharon et al. 2022): ByteTrack + camera-motion compensation + appearance.

Built from ByteTrack by changing two steps:
  - prediction: after the Kalman predict, every track is moved by the camera motion estimated by
    :class:`~tracker.trackers.gmc.CameraMotion` (only when an image is given);
  - stage-1 cost: where detections carry embeddings (``Detections.feat``), the IoU cost is fused
    with the cosine distance to the track's smoothed embedding. A pair may match on appearance
    only when it is also plausible in space (IoU cost below ``proximity_thresh``, using the
    buffered boxes of lost tracks) and looks alike (cosine distance below ``appearance_thresh``).
Without images and embeddings it is ByteTrack with this project's default extras switched on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..types import Detections
from .bytetrack import ByteTrackConfig, ByteTracker
from .gmc import CameraMotion, warp_states
from .matching import cosine_cost


@dataclass
class BotSortConfig(ByteTrackConfig):
    gmc_method: str = "sparseOptFlow"  # camera-motion compensation: sparseOptFlow | ecc | orb | none
    gmc_downscale: int = 2  # GMC works on an image this many times smaller
    proximity_thresh: float = 0.5  # appearance may only decide pairs with 1-IoU below this
    appearance_thresh: float = 0.25  # cosine distance above which appearance is ignored
    appearance_weight: float = 0.5  # cost = min(iou cost, weight * cosine distance) (BoT-SORT)
    feat_momentum: float = 0.9  # track embedding = momentum * old + (1 - momentum) * new


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

    def _predict(self, image: Optional[np.ndarray]) -> None:
        super()._predict(image)
        if image is not None and self.cfg.gmc_method != "none":
            warp = self.gmc.apply(image)
            t = self.tracks
            t.mean, t.cov = warp_states(t.mean, t.cov, warp)

    def _first_stage_cost(self, rows: np.ndarray, dets: Detections, det_rows: np.ndarray) -> np.ndarray:
        cost = super()._first_stage_cost(rows, dets, det_rows)
        t = self.tracks
        if dets.feat is None or t.feat is None or cost.size == 0:
            return cost
        cfg = self.cfg
        app = cosine_cost(t.feat[rows], dets.feat[det_rows])
        app[~t.feat[rows].any(axis=1)] = 1.0  # tracks never seen with an embedding
        usable = (app < cfg.appearance_thresh) & (cost < cfg.proximity_thresh)
        return np.where(usable, np.minimum(cost, cfg.appearance_weight * app), cost)
