"""Deep OC-SORT (Maggiolino et al. 2023), as a composition: OC-SORT's observation-centric pieces
(``ocsort.py``) + BoT-SORT's camera-motion compensation and IoU/appearance fusion (``botsort.py``).

Class order does the composing: stage 1's cost is BoT-SORT's fused IoU/appearance cost (where
detections carry embeddings) with OC-SORT's momentum term on top; the prediction step is BoT-SORT's
(Kalman predict, then camera motion when an image is given; OC-SORT's observation memory is moved
by the same warp); ORU and OCR come from the shared life cycle and ByteTrack's stages. The track's
appearance is an exponential moving average of its clean views (``feat_momentum``, Deep OC-SORT's
``alpha_fixed_emb``); Deep OC-SORT's confidence-dependent average and adaptive weighting are not
included. Every key is in ``configs/trackers/deepocsort.yaml``.

    >>> from tracker.trackers import make_tracker
    >>> trk = make_tracker("deepocsort")
    >>> trk.embedding_min_score()
    0.25
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from .botsort import BotSortConfig, BotSortTracker
from .gmc import CameraMotion
from .ocsort import OcSortConfig, OcSortTracker


@dataclass
class DeepOcSortConfig(OcSortConfig, BotSortConfig):
    # BoT-SORT's values where the two parents differ (OcSortConfig would otherwise win: it comes first)
    track_buffer: int = field(default=60, metadata={"search": (10, 150)})  # frames (at 30 fps) a lost track is kept: 2 s of occlusion
    report_lost_frames: int = field(default=15, metadata={"search": (0, 30)})  # also report lost tracks (predicted box) this many frames (at 30 fps)
    oru: bool = True  # ORU: re-update along virtual observations after a gap
    last_box_recovery: bool = True  # OCR: lost tracks left unmatched retry with their last observed box
    feat_momentum: float = 0.95  # track embedding = momentum * old + (1 - momentum) * new (alpha_fixed_emb)
    motion_min_matches: int = 6  # OC-SORT's (BoT-SORT's is 4): fewer agreeing matches than this, no motion estimate


class DeepOcSortTracker(OcSortTracker, BotSortTracker):
    """OC-SORT + camera motion + appearance (MRO: OcSort -> BotSort -> ByteTrack -> SORT)."""

    config_class = DeepOcSortConfig
    cfg: DeepOcSortConfig

    def __init__(self, config: Optional[DeepOcSortConfig] = None, frame_rate: float = 30.0) -> None:
        super().__init__(config, frame_rate)
        self.gmc = _ReportingCameraMotion(self.gmc, self._move_observations)


class _ReportingCameraMotion:
    """BoT-SORT's pixel camera motion, telling OC-SORT each frame's warp: BoT-SORT's prediction moves
    the tracks and their last boxes, and OC-SORT's memory of past observations (OCM's history, ORU's
    saved state) must move with them, as it does for ``motion_from_matches``."""

    def __init__(self, gmc: CameraMotion, moved: Callable[[np.ndarray], None]) -> None:
        self._gmc, self._moved = gmc, moved

    def apply(self, image: Optional[np.ndarray]) -> np.ndarray:
        warp = self._gmc.apply(image)
        if not np.allclose(warp, np.eye(2, 3)):
            self._moved(warp)
        return warp

    def __getattr__(self, name: str):   # reset() and the rest: the wrapped estimator's
        return getattr(self._gmc, name)
