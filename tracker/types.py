"""The three values that flow through the pipeline: Frame → Detections → Tracks.

All per-box data are NumPy arrays (one row per box), never lists of objects, so that
every stage can vectorise over boxes.

Example:
    >>> import numpy as np
    >>> dets = Detections(xyxy=np.array([[0, 0, 10, 20]]), score=np.array([0.9]), cls=np.array([0]))
    >>> len(dets), dets[dets.score > 0.5].xyxy.shape
    (1, (1, 4))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np


@dataclass
class Frame:
    """One decoded image from a source.

    Attributes:
        index: 0-based position of the frame in the source (after ``vid_stride``, the index of the
            original frame, so frame numbers in outputs match the source).
        time_s: timestamp in seconds, from the source's clock or ``index / fps``.
        image: BGR ``uint8`` image of shape (H, W, 3).
        source_id: which source produced the frame ("0" for a single source).
    """

    index: int
    time_s: float
    image: np.ndarray
    source_id: str = "0"


def _as(a, dtype, shape_tail=()) -> np.ndarray:
    arr = np.asarray(a, dtype=dtype)
    if arr.size == 0:
        arr = arr.reshape((0,) + tuple(shape_tail))
    return arr


@dataclass
class Detections:
    """One frame's detections.

    Attributes:
        xyxy: (N, 4) float32 boxes, pixel corners ``x1, y1, x2, y2``.
        score: (N,) float32 confidences.
        cls: (N,) int64 class ids (COCO ids for the bundled detectors).
        feat: optional (N, D) float32 unit-normalised appearance embeddings.
    """

    xyxy: np.ndarray
    score: np.ndarray
    cls: np.ndarray
    feat: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        self.xyxy = _as(self.xyxy, np.float32, (4,)).reshape(-1, 4)
        self.score = _as(self.score, np.float32).reshape(-1)
        self.cls = _as(self.cls, np.int64).reshape(-1)
        if self.feat is not None:
            feat = np.asarray(self.feat, dtype=np.float32)
            # keep the feature width explicitly: reshape(0, -1) fails for an empty selection
            self.feat = feat.reshape(len(self.xyxy), feat.shape[1] if feat.ndim == 2 else -1)
        if not (len(self.xyxy) == len(self.score) == len(self.cls)):
            raise ValueError(
                f"Detections arrays disagree in length: xyxy {len(self.xyxy)}, "
                f"score {len(self.score)}, cls {len(self.cls)}"
            )

    @classmethod
    def empty(cls, feat_dim: Optional[int] = None) -> "Detections":
        feat = None if feat_dim is None else np.zeros((0, feat_dim), np.float32)
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64), feat)

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index) -> "Detections":
        """Select rows with a boolean mask, an index array or a slice."""
        feat = None if self.feat is None else self.feat[index]
        return Detections(self.xyxy[index], self.score[index], self.cls[index], feat)


@dataclass
class Tracks:
    """The tracker's output for one frame.

    Attributes:
        xyxy: (M, 4) float32 boxes.
        track_id: (M,) int64 ids, >= 1, unique within a frame and never reused by a tracker.
        score: (M,) float32 score of the detection the track was matched to (or its last one).
        cls: (M,) int64 class id of the track (fixed for the track's life).
        det_index: (M,) int64 index into the frame's Detections, or -1 for a predicted box.
    """

    xyxy: np.ndarray
    track_id: np.ndarray
    score: np.ndarray
    cls: np.ndarray
    det_index: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.xyxy = _as(self.xyxy, np.float32, (4,)).reshape(-1, 4)
        self.track_id = _as(self.track_id, np.int64).reshape(-1)
        self.score = _as(self.score, np.float32).reshape(-1)
        self.cls = _as(self.cls, np.int64).reshape(-1)
        if self.det_index is None:
            self.det_index = np.full(len(self.xyxy), -1, np.int64)
        self.det_index = _as(self.det_index, np.int64).reshape(-1)
        n = len(self.xyxy)
        if not (len(self.track_id) == len(self.score) == len(self.cls) == len(self.det_index) == n):
            raise ValueError("Tracks arrays disagree in length")

    @classmethod
    def empty(cls) -> "Tracks":
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), np.zeros(0, np.float32),
                   np.zeros(0, np.int64), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index) -> "Tracks":
        return Tracks(self.xyxy[index], self.track_id[index], self.score[index], self.cls[index],
                      self.det_index[index])
