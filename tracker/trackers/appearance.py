"""Which detections a track may learn its appearance from (pure NumPy: no ReID model needed).

A crop that is half covered by another person mostly shows that other person: folding its
embedding into a track's appearance memory teaches the track the wrong face. ``occlusion_mask``
flags such boxes so trackers update appearance only from clean, confident detections.

Example:
    >>> import numpy as np
    >>> boxes = np.array([[0, 0, 10, 20], [5, 0, 15, 20], [100, 0, 110, 20]], np.float32)
    >>> occlusion_mask(boxes, 0.2).tolist()
    [True, True, False]
    >>> clean_for_update(boxes, np.array([0.9, 0.9, 0.3]), 0.2, min_score=0.5).tolist()
    [False, False, False]
"""
from __future__ import annotations

import numpy as np

from ..boxes import overlap_fraction


def occlusion_mask(xyxy: np.ndarray, thresh: float = 0.2) -> np.ndarray:
    """(N,) bool: True where more than ``thresh`` of a box's area is covered by another box."""
    return overlap_fraction(xyxy) > thresh


def clean_for_update(xyxy: np.ndarray, score: np.ndarray, occlusion_thresh: float = 0.2,
                     min_score: float = 0.6) -> np.ndarray:
    """(N,) bool: detections whose embedding may update a track's appearance memory.

    Confident (``score >= min_score``) and not occluded by another detection.
    """
    score = np.asarray(score).reshape(-1)
    return (score >= min_score) & ~occlusion_mask(xyxy, occlusion_thresh)
