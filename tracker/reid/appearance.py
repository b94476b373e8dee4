"""Helpers the trackers use to decide *which* embeddings are worth remembering or computing.

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

from ..boxes import box_area


def overlap_fraction(xyxy: np.ndarray) -> np.ndarray:
    """For each box, the largest fraction of its own area covered by any *other* box, (N,).

    Intersection over the box's *own* area, not IoU: a small box lying inside a large one scores
    1.0 (its crop is mostly the other person, whoever is in front), while IoU would call it low.
    """
    b = np.asarray(xyxy, np.float64).reshape(-1, 4)
    n = len(b)
    if n < 2:
        return np.zeros(n)
    ix = np.clip(np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1]), 0, None)
    inter = ix * iy
    np.fill_diagonal(inter, 0.0)
    area = np.maximum(box_area(b), 1e-9)
    return (inter / area[:, None]).max(axis=1)


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
