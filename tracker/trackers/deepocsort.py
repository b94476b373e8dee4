"""Deep OC-SORT (Maggiolino et al. 2023), as a composition: OC-SORT's observation-centric pieces
(``ocsort.py``) + BoT-SORT's camera-motion compensation and IoU/appearance fusion (``botsort.py``).

Class order does the composing: stage 1's cost is BoT-SORT's fused IoU/appearance cost (where
detections carry embeddings) with OC-SORT's momentum term on top; the prediction step is BoT-SORT's
(Kalman predict, then camera motion when an image is given; OC-SORT's observation memory is moved
by the same warp, through ``_camera_moved``); ORU and OCR come from the shared life cycle and
ByteTrack's stages. The track's appearance is an exponential moving average of its clean views
(``feat_momentum``, Deep OC-SORT's ``alpha_fixed_emb``); Deep OC-SORT's confidence-dependent average
and adaptive weighting are not included. Every key is in ``configs/trackers/deepocsort.yaml``.

    >>> from tracker.trackers import make_tracker
    >>> trk = make_tracker("deepocsort")
    >>> trk.embedding_min_score()
    0.25
"""
from __future__ import annotations

from dataclasses import dataclass, field
from .botsort import BotSortConfig, BotSortTracker
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
