"""Precomputed detections from a MOTChallenge det file: the detector is skipped entirely."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from ..formats.mot import read_det_file
from ..types import Detections, Frame
from .classes import COCO80_NAMES


class PrecomputedDetector:
    """Looks detections up by frame number (``Frame.index + 1``, MOTChallenge frames are 1-based).

    All boxes get class 0 ("person"), as in MOTChallenge det files. Rows under ``min_score``
    are dropped.
    """

    def __init__(self, det_file: str, min_score: float = -1e9, max_frame: Optional[int] = None) -> None:
        self.by_frame: Dict[int, Detections] = read_det_file(det_file, max_frame=max_frame)
        self.names = dict(COCO80_NAMES)
        self.min_score = float(min_score)

    def detect(self, frames: Sequence[Frame]) -> List[Detections]:
        out = []
        for frame in frames:
            dets = self.by_frame.get(frame.index + 1, Detections.empty())
            out.append(dets[dets.score >= self.min_score] if len(dets) else dets)
        return out
