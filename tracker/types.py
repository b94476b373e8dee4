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
from typing import Any, Optional

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


def _numpy(a) -> np.ndarray:
    """A NumPy array from a NumPy array, a list or a torch tensor (on any device)."""
    if hasattr(a, "detach"):        # torch.Tensor: no hard dependency on torch here
        a = a.detach().cpu().numpy()
    return np.asarray(a)


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

    # -- adapters: what other libraries call detections --------------------------------------------
    @classmethod
    def from_numpy(cls, array, feat=None) -> "Detections":
        """From an (N, 5), (N, 6) or (N, 7) array (a torch tensor works too).

        Columns: ``x1, y1, x2, y2, score`` (class 0), ``+ cls``, or ultralytics' tracked layout
        ``x1, y1, x2, y2, id, score, cls`` (the id is ignored).

        >>> Detections.from_numpy(np.array([[0, 0, 10, 20, 0.9, 2]])).cls.tolist()
        [2]
        """
        arr = _numpy(array).astype(np.float32)
        if arr.size == 0:
            return cls.empty(None if feat is None else np.asarray(feat).reshape(0, -1).shape[1])
        if arr.ndim != 2 or arr.shape[1] not in (5, 6, 7):
            raise ValueError(f"detections array must be N x 5 (x1,y1,x2,y2,score), N x 6 (+class) or "
                             f"N x 7 (x1,y1,x2,y2,id,score,class), got shape {arr.shape}")
        if arr.shape[1] == 7:
            arr = arr[:, [0, 1, 2, 3, 5, 6]]
        klass = arr[:, 5] if arr.shape[1] == 6 else np.zeros(len(arr))
        return cls(arr[:, :4], arr[:, 4], klass.astype(np.int64), None if feat is None else _numpy(feat))

    @classmethod
    def from_ultralytics(cls, results) -> "Detections":
        """From an ultralytics ``Results`` (one image's, or a list of one) or its ``Boxes``.

        >>> dets = Detections.from_ultralytics(model("bus.jpg")[0])     # doctest: +SKIP
        """
        if isinstance(results, (list, tuple)):
            if len(results) != 1:
                raise ValueError(f"expected the Results of one image, got a list of {len(results)}")
            results = results[0]
        boxes = getattr(results, "boxes", results)
        if boxes is None:       # a classification or segmentation-only result: no boxes
            return cls.empty()
        if not (hasattr(boxes, "xyxy") and hasattr(boxes, "conf") and hasattr(boxes, "cls")):
            raise TypeError(f"not an ultralytics Results or Boxes: {type(results).__name__}")
        return cls(_numpy(boxes.xyxy), _numpy(boxes.conf), _numpy(boxes.cls).astype(np.int64))

    @classmethod
    def from_supervision(cls, detections) -> "Detections":
        """From a ``supervision.Detections`` (its ``xyxy``, ``confidence``, ``class_id``).

        Missing confidences count as 1.0 and missing class ids as 0.
        """
        xyxy = _numpy(detections.xyxy)
        n = len(xyxy)
        conf = detections.confidence
        class_id = detections.class_id
        return cls(xyxy, np.ones(n, np.float32) if conf is None else _numpy(conf),
                   np.zeros(n, np.int64) if class_id is None else _numpy(class_id))

    @classmethod
    def coerce(cls, detections: Any) -> "Detections":
        """Any supported detections value as ``Detections``: ours, an N x 5/6/7 array or tensor,
        ultralytics ``Results``/``Boxes``, supervision ``Detections`` (told apart by their
        attributes, so neither library is imported here). ``None`` is "no detections".

        >>> len(Detections.coerce(np.zeros((0, 6)))), len(Detections.coerce(None))
        (0, 0)
        """
        if isinstance(detections, Detections):
            return detections
        if detections is None:
            return cls.empty()
        if hasattr(detections, "class_id") and hasattr(detections, "confidence"):
            return cls.from_supervision(detections)
        if hasattr(detections, "boxes") or (hasattr(detections, "conf") and hasattr(detections, "xyxy")):
            return cls.from_ultralytics(detections)
        if isinstance(detections, (list, tuple)) and len(detections) == 1 and hasattr(detections[0], "boxes"):
            return cls.from_ultralytics(detections[0])
        if isinstance(detections, (np.ndarray, list, tuple)) or hasattr(detections, "detach"):
            return cls.from_numpy(detections)
        raise TypeError(
            f"cannot use {type(detections).__name__} as detections: pass tracker.Detections, an N x 5/6/7 "
            "array (x1,y1,x2,y2,score[,class]), ultralytics Results/Boxes or supervision Detections")

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

    ``detected`` tells the two kinds of box apart: True where the track was matched to a detection
    in this frame, False where its box is only the tracker's prediction (a track lost for a few
    frames, reported with ``report_lost_frames``).
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

    @property
    def detected(self) -> np.ndarray:
        """(M,) bool: matched to a detection this frame (False: a predicted box of a lost track)."""
        return self.det_index >= 0

    def to_supervision(self):
        """As a ``supervision.Detections`` with ``tracker_id`` set and ``data["detected"]``.

        >>> sv_tracks = tracks.to_supervision()      # doctest: +SKIP
        >>> sv.BoxAnnotator().annotate(image, sv_tracks)   # doctest: +SKIP
        """
        import supervision as sv   # only for users of supervision; not a dependency

        return sv.Detections(xyxy=self.xyxy.astype(np.float32), confidence=self.score.astype(np.float32),
                             class_id=self.cls.astype(int), tracker_id=self.track_id.astype(int),
                             data={"detected": self.detected})

    def __getitem__(self, index) -> "Tracks":
        return Tracks(self.xyxy[index], self.track_id[index], self.score[index], self.cls[index],
                      self.det_index[index])
