"""StrongSORT (Du et al. 2023), as a composition: BoT-SORT's association (``botsort.py``: ByteTrack's
stages, IoU/appearance fusion, camera motion) with StrongSORT's changes to DeepSORT:

- **NSA Kalman** (``nsa``, in ``kalman.py``): measurement noise scaled by ``1 - score``, so a
  confident box moves the track more than a doubtful one;
- **EMA appearance** (``feat_momentum`` 0.9): one smoothed embedding per track instead of a gallery;
- **ECC camera motion** (``gmc_method: ecc``, in ``gmc.py``);
- **motion gate** (``motion_gate``, here, off by default: it measured worse on MOT17): like
  DeepSORT/StrongSORT, stage-1 pairs outside the Kalman filter's 95% gate (squared Mahalanobis
  distance > 9.49) never match, even when they look alike;
- no matching cascade: one global assignment per stage ("vanilla matching").

StrongSORT++'s offline AFLink and GSI are not part of an online tracker (``interpolate.py`` has gap
filling). Every key is in ``configs/trackers/strongsort.yaml``.

    >>> from tracker.trackers import make_tracker
    >>> make_tracker("strongsort").cfg.nsa
    True
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..boxes import xyxy_to_xywh
from ..types import Detections
from .botsort import BotSortConfig, BotSortTracker
from .kalman import CHI2_GATE_4DOF


@dataclass
class StrongSortConfig(BotSortConfig):
    nsa: bool = True  # NSA Kalman: measurement noise scaled by (1 - score)
    gmc_method: str = "ecc"  # camera-motion compensation: ecc (StrongSORT's) | sparseOptFlow | orb | none
    feat_momentum: float = 0.9  # EMA: track embedding = momentum * old + (1 - momentum) * new
    # off by measurement: chosen on MOT17-05, confirmed on MOT17-09 (with embeddings), the gate cost
    # 2.8 and 1.1 HOTA: BoT-SORT's IoU gate and appearance veto already do its job
    motion_gate: bool = False  # stage 1: pairs outside the Kalman 95% gate never match
    # BoT-SORT's round-3 defaults (docs/benchmarks.md) were not measured on StrongSORT: off
    camera_velocity: bool = False  # with motion_from_matches: the camera's last motion expected before matching
    report_lost_inside: bool = False  # report a lost track only while half its box is inside the covered area


class StrongSortTracker(BotSortTracker):
    """BoT-SORT association + NSA Kalman + EMA appearance + ECC (+ optional Mahalanobis gate)."""

    config_class = StrongSortConfig
    cfg: StrongSortConfig

    def _first_stage_cost(self, rows: np.ndarray, dets: Detections, det_rows: np.ndarray) -> np.ndarray:
        cost = super()._first_stage_cost(rows, dets, det_rows)
        if not self.cfg.motion_gate or cost.size == 0:
            return cost
        t = self.tracks
        xywh = xyxy_to_xywh(dets.xyxy[det_rows]).astype(np.float64)
        gate = self.kf.gating_distance(t.mean[rows], t.cov[rows], xywh)
        return np.where(gate > CHI2_GATE_4DOF, np.inf, cost)
