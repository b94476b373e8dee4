"""Annotation: a box per track coloured by id, a label ``id class score``, optional trails."""
from __future__ import annotations

from collections import defaultdict, deque
from typing import Deque, Dict, Mapping, Tuple

import cv2
import numpy as np

from ..types import Tracks


def id_color(track_id: int) -> Tuple[int, int, int]:
    """A stable, well-spread BGR colour for an id (golden-ratio hue steps)."""
    hue = int((track_id * 0.618033988749895 % 1.0) * 179)
    bgr = cv2.cvtColor(np.uint8([[[hue, 220, 255]]]), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


class Annotator:
    """Draws tracks onto frames; keeps the last ``trail`` centre points per id for trails."""

    def __init__(self, names: Mapping[int, str], trail: int = 0, thickness: int = 2) -> None:
        self.names = names
        self.trail = int(trail)
        self.thickness = thickness
        self._history: Dict[int, Deque[Tuple[int, int]]] = defaultdict(lambda: deque(maxlen=max(self.trail, 1)))

    def draw(self, image: np.ndarray, tracks: Tracks) -> np.ndarray:
        """Draw in place and return ``image``."""
        for (x1, y1, x2, y2), tid, cls, score, det in zip(tracks.xyxy.astype(int), tracks.track_id,
                                                          tracks.cls, tracks.score, tracks.det_index):
            color = id_color(int(tid))
            # a box the tracker only predicted (no detection this frame) is drawn thin
            cv2.rectangle(image, (x1, y1), (x2, y2), color, self.thickness if det >= 0 else 1)
            label = f"{int(tid)} {self.names.get(int(cls), str(int(cls)))} {score:.2f}"
            (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
            ty = max(y1, th + base + 2)
            cv2.rectangle(image, (x1, ty - th - base - 2), (x1 + tw + 2, ty), color, -1)
            cv2.putText(image, label, (x1 + 1, ty - base), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1,
                        cv2.LINE_AA)
            if self.trail > 0:
                points = self._history[int(tid)]
                points.append(((x1 + x2) // 2, (y1 + y2) // 2))
                if len(points) > 1:
                    cv2.polylines(image, [np.array(points, np.int32)], False, color, self.thickness)
        if self.trail > 0 and len(self._history) > 4 * max(len(tracks), 64):
            # bounded memory on endless streams: forget trails of ids not seen this frame
            alive = set(int(t) for t in tracks.track_id)
            for tid in [t for t in self._history if t not in alive]:
                del self._history[tid]
        return image
