"""Annotation: a box per track coloured by id, a label ``id class score``, optional trails.

``draw_tracks(image, tracks)`` works on its own (any BGR image and a ``Tracks``); ``Annotator`` adds
the trails, which need the previous frames. Three rules make crowded scenes readable:

- colours come from a palette of 20 colours ordered so that ids 1, 2 or 3 apart always differ
  clearly (``id_color``): ids that start together, usually neighbours in the image, never look alike;
- labels are placed after every box is drawn, each where it overlaps no label placed before it
  (above the box, inside its top, below it, inside its bottom, then stacked further down), so no
  label hides another; the largest boxes, usually the nearest objects, choose first;
- every label is clamped into the frame (a box at the edge keeps its label readable).

A box the tracker only predicted (a lost track, ``Tracks.detected`` False) is drawn thin, its label
without a score.

Example:
    >>> import numpy as np
    >>> from tracker.types import Tracks
    >>> image = np.zeros((120, 160, 3), np.uint8)
    >>> tracks = Tracks(np.array([[10, 10, 60, 100]]), np.array([1]), np.array([0.9]), np.array([0]),
    ...                 np.array([0]))
    >>> draw_tracks(image, tracks, {0: "person"}).shape, int(image.sum())   # the input is untouched
    ((120, 160, 3), 0)
"""
from __future__ import annotations

from collections import defaultdict, deque
from typing import Deque, Dict, List, Mapping, Optional, Tuple

import cv2
import numpy as np

from ..types import Tracks

# 20 colours (BGR, the ultralytics palette), in an order where every colour differs from the next
# three by a CIE76 distance of at least 64 (found by search; tests/test_draw.py checks it): ids that
# start together, usually neighbours in the image, get clearly different colours.
PALETTE: Tuple[Tuple[int, int, int], ...] = (
    (0, 194, 255), (10, 249, 72), (236, 24, 0), (255, 157, 151), (31, 112, 255), (23, 204, 146),
    (255, 56, 203), (147, 69, 52), (187, 212, 0), (49, 210, 207), (255, 56, 132), (200, 149, 255),
    (255, 194, 0), (52, 147, 26), (133, 0, 82), (56, 56, 255), (29, 178, 255), (168, 153, 44),
    (255, 115, 100), (199, 55, 255),
)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def id_color(track_id: int) -> Tuple[int, int, int]:
    """A stable BGR colour for an id; ids 1 apart (and 2, 3 apart) get clearly different colours.

    >>> id_color(1) != id_color(2) and id_color(1) == id_color(21)
    True
    """
    return PALETTE[int(track_id) % len(PALETTE)]


def _text_color(bg: Tuple[int, int, int]) -> Tuple[int, int, int]:
    """Black on light backgrounds, white on dark ones (luma of the BGR colour)."""
    b, g, r = bg
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 140 else (255, 255, 255)


def _overlap(a: Tuple[int, int, int, int], b: Tuple[int, int, int, int]) -> int:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0


def place_labels(boxes: np.ndarray, sizes: List[Tuple[int, int]], width: int, height: int
                 ) -> List[Tuple[int, int, int, int]]:
    """Label rectangles ``(x1, y1, x2, y2)`` inside a ``width`` x ``height`` frame, one per box.

    Boxes choose in order of decreasing area; each takes the first candidate position that overlaps
    no label placed so far (or, in a crowd too dense for that, the one overlapping least).

    >>> place_labels(np.array([[10, 50, 60, 90], [12, 52, 62, 92]]), [(40, 12), (40, 12)], 200, 200)
    [(10, 38, 50, 50), (12, 52, 52, 64)]
    """
    placed: List[Optional[Tuple[int, int, int, int]]] = [None] * len(boxes)
    taken: List[Tuple[int, int, int, int]] = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) if len(boxes) else np.zeros(0)
    for i in np.argsort(-area, kind="stable"):
        x1, y1, x2, y2 = (int(v) for v in boxes[i])
        w, h = sizes[i]
        tops = [y1 - h, y1, y2, y2 - h] + [y1 + k * h for k in range(1, 8)]
        best, best_overlap = None, None
        for top in tops:
            x = min(max(x1, 0), max(width - w, 0))
            y = min(max(top, 0), max(height - h, 0))
            rect = (x, y, x + w, y + h)
            cover = sum(_overlap(rect, other) for other in taken)
            if best_overlap is None or cover < best_overlap:
                best, best_overlap = rect, cover
            if cover == 0:
                break
        placed[i] = best
        taken.append(best)
    return placed   # type: ignore[return-value]


def draw_tracks(image: np.ndarray, tracks: Tracks, names: Optional[Mapping[int, str]] = None,
                inplace: bool = False, thickness: Optional[int] = None) -> np.ndarray:
    """Draw ``tracks`` on a BGR ``image``; returns the annotated image (a copy unless ``inplace``).

    Args:
        names: class id -> name for the labels (COCO names when omitted).
        thickness: box line width; default scales with the image size.
    """
    if names is None:
        from ..detectors.classes import COCO80_NAMES
        names = COCO80_NAMES
    out = image if inplace else image.copy()
    h, w = out.shape[:2]
    line = thickness or max(1, round(min(h, w) / 400))
    scale = max(0.4, min(h, w) / 1800)
    text_px = max(1, int(round(scale * 1.5)))
    boxes = tracks.xyxy.astype(int)
    colors = [id_color(int(t)) for t in tracks.track_id]
    for (x1, y1, x2, y2), color, seen in zip(boxes, colors, tracks.detected):
        cv2.rectangle(out, (x1, y1), (x2, y2), color, line if seen else 1)   # predicted: thin
    labels, sizes = [], []
    for tid, cls, score, seen in zip(tracks.track_id, tracks.cls, tracks.score, tracks.detected):
        name = names.get(int(cls), str(int(cls))) if isinstance(names, Mapping) else str(int(cls))
        labels.append(f"{int(tid)} {name} {score:.2f}" if seen else f"{int(tid)} {name}")
        (tw, th), base = cv2.getTextSize(labels[-1], FONT, scale, text_px)
        sizes.append((tw + 4, th + base + 4))
    for label, rect, color in zip(labels, place_labels(boxes, sizes, w, h), colors):
        x1, y1, x2, y2 = rect
        cv2.rectangle(out, (x1, y1), (x2 - 1, y2 - 1), color, -1)
        cv2.putText(out, label, (x1 + 2, y2 - 2 - (y2 - y1 - 4) // 5), FONT, scale, _text_color(color),
                    text_px, cv2.LINE_AA)
    return out


class Annotator:
    """Draws tracks onto frames; keeps the last ``trail`` centre points per id for trails."""

    def __init__(self, names: Mapping[int, str], trail: int = 0, thickness: int = 2) -> None:
        self.names = names
        self.trail = int(trail)
        self.thickness = thickness
        self._history: Dict[int, Deque[Tuple[int, int]]] = defaultdict(lambda: deque(maxlen=max(self.trail, 1)))

    def draw(self, image: np.ndarray, tracks: Tracks) -> np.ndarray:
        """Draw in place and return ``image``."""
        if self.trail > 0:
            for (x1, y1, x2, y2), tid in zip(tracks.xyxy.astype(int), tracks.track_id):
                points = self._history[int(tid)]
                points.append(((x1 + x2) // 2, (y1 + y2) // 2))
                if len(points) > 1:
                    cv2.polylines(image, [np.array(points, np.int32)], False, id_color(int(tid)), self.thickness)
            if len(self._history) > 4 * max(len(tracks), 64):
                # bounded memory on endless streams: forget trails of ids not seen this frame
                alive = set(int(t) for t in tracks.track_id)
                for tid in [t for t in self._history if t not in alive]:
                    del self._history[tid]
        return draw_tracks(image, tracks, self.names, inplace=True, thickness=self.thickness)
