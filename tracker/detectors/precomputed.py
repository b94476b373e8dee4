"""Precomputed detections from a MOTChallenge det file: the detector is skipped entirely.

Rows are ``frame,-1,x,y,w,h,score[,class,...]``. Column 8 is a **class column** when every row
holds an integer class id >= 0 there (COCO ids, as YOLO numbers them); MOTChallenge's own det
files put ``-1`` there, and files without a class column are all persons (class 0), as in
MOTChallenge.

Several sources need one det file each, in the order the sources are given
(``--detections a.txt,b.txt``, or a YAML list): one file's frame numbers belong to one source.

``--classes`` is always applied, never ignored: with a class column it keeps the rows of those
classes; without one every box is "person", so ``--classes person`` keeps them all and a filter
without person (which would keep nothing) is refused with one clear line, like a misspelt name.

Example:
    >>> det = PrecomputedDetector("det.txt", classes="car")        # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..errors import UserError
from ..formats.mot import parse_det_rows, rows_to_detections
from ..types import Detections, Frame
from .classes import COCO80_NAMES, parse_classes

CLASS_COLUMN = 7   # 0-based: frame, id, x, y, w, h, score, class


def class_column(rows: np.ndarray) -> Optional[np.ndarray]:
    """The class ids of det rows (column 8) when every row has an integer id >= 0 there, else None.

    >>> class_column(np.array([[1, -1, 0, 0, 5, 5, 0.9, 2], [1, -1, 0, 0, 5, 5, 0.8, 0]])).tolist()
    [2, 0]
    >>> class_column(np.array([[1, -1, 0, 0, 5, 5, 0.9, -1, -1, -1]])) is None   # MOTChallenge det.txt
    True
    """
    if rows.ndim != 2 or rows.shape[1] <= CLASS_COLUMN or len(rows) == 0:
        return None
    col = rows[:, CLASS_COLUMN]
    if not ((col >= 0) & (col == np.round(col)) & (col < 2**31)).all():
        return None
    return col.astype(np.int64)


def split_det_files(spec: Optional[str]) -> List[str]:
    """``"a.txt,b.txt"`` → ``["a.txt", "b.txt"]``; a path that exists is one file even with a comma.

    >>> split_det_files("a.txt, b.txt"), split_det_files(None)
    (['a.txt', 'b.txt'], [])
    """
    if not spec:
        return []
    if Path(spec).is_file():
        return [spec]
    return [part.strip() for part in str(spec).split(",") if part.strip()]


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise UserError(f"detection file not found: {path}")
    try:
        return path.read_text(encoding="utf-8-sig", errors="strict")   # -sig: a BOM is not data
    except (UnicodeDecodeError, OSError) as err:
        raise UserError(f"cannot read detection file {path}: {err.__class__.__name__}") from None


class PrecomputedDetector:
    """Looks detections up by frame number (``Frame.index + 1``, MOTChallenge frames are 1-based).

    Args:
        det_file: the det file.
        min_score: rows scoring below this are dropped.
        max_frame: frames beyond this (the source's length) are an error.
        classes: ``--classes`` (names or COCO ids); see the module docstring.
    """

    name = "precomputed"

    def __init__(self, det_file: str, min_score: float = -1e9, max_frame: Optional[int] = None,
                 classes=None) -> None:
        self.path = Path(det_file)
        rows = parse_det_rows(_read_text(self.path), self.path, max_frame=max_frame)
        labels = class_column(rows)
        self.has_class_column = labels is not None
        self.names = dict(COCO80_NAMES)
        if labels is not None:   # ids beyond COCO's keep their number as their name
            self.names.update({int(c): str(int(c)) for c in np.unique(labels) if int(c) not in self.names})
        else:
            labels = np.zeros(len(rows), np.int64)
        self.classes = parse_classes(classes, self.names)
        if self.classes is not None and len(rows):
            keep = np.isin(labels, self.classes)
            if not keep.any():
                raise UserError(self._nothing_kept(classes, labels))
            rows, labels = rows[keep], labels[keep]
        self.by_frame: Dict[int, Detections] = self._group(rows, labels)
        self.min_score = float(min_score)

    def _nothing_kept(self, classes, labels: np.ndarray) -> str:
        if not self.has_class_column:
            return (f"--classes {classes} keeps no box of {self.path}: it has no class column (column 8), "
                    "so every box is 'person'; drop --classes or add class ids as column 8")
        present = ", ".join(self.names[int(c)] for c in np.unique(labels)[:8])
        return f"--classes {classes} keeps no box of {self.path}: its classes are {present}"

    @staticmethod
    def _group(rows: np.ndarray, labels: np.ndarray) -> Dict[int, Detections]:
        order = np.argsort(rows[:, 0], kind="stable") if len(rows) else np.zeros(0, np.int64)
        rows, labels = rows[order], labels[order]
        by_frame = rows_to_detections(rows)   # groups consecutive frames of the sorted rows, in order
        start = 0
        for frame in sorted(by_frame):
            d = by_frame[frame]
            by_frame[frame] = Detections(d.xyxy, d.score, labels[start:start + len(d)], d.feat)
            start += len(d)
        return by_frame

    def detect(self, frames: Sequence[Frame]) -> List[Detections]:
        out = []
        for frame in frames:
            dets = self.by_frame.get(frame.index + 1, Detections.empty())
            out.append(dets[dets.score >= self.min_score] if len(dets) else dets)
        return out


class PerSourceDetections:
    """One :class:`PrecomputedDetector` per source: a frame is looked up in its own source's file."""

    name = "precomputed"

    def __init__(self, by_source: Dict[str, PrecomputedDetector]) -> None:
        self.by_source = by_source
        self.names: Dict[int, str] = {}
        for detector in by_source.values():
            self.names.update(detector.names)

    def detect(self, frames: Sequence[Frame]) -> List[Detections]:
        return [self.by_source[str(f.source_id)].detect([f])[0] for f in frames]
