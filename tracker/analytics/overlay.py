"""Lines, zones and live counters drawn on the annotated video.

Lines are drawn with an arrow from their middle towards the ``in`` side and their counts next to
P2; zones are outlined, lightly filled, with their occupancy; a panel top-left lists every counter.
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

import cv2
import numpy as np

from .geometry import Line, Zone

LINE_COLOR = (0, 215, 255)   # BGR amber
ZONE_COLOR = (255, 160, 0)   # BGR azure
TEXT = (255, 255, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _label(image: np.ndarray, text: str, org: Tuple[int, int], color, scale: float = 0.5) -> None:
    (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
    x = int(min(max(org[0], 0), max(image.shape[1] - tw - 4, 0)))
    y = int(min(max(org[1], th + base + 2), image.shape[0] - 2))
    cv2.rectangle(image, (x, y - th - base - 2), (x + tw + 4, y + 1), color, -1)
    cv2.putText(image, text, (x + 2, y - base), FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)


def draw_analytics(image: np.ndarray, lines: Sequence[Line], zones: Sequence[Zone],
                   counts: Dict[Tuple[str, str], int], occupancy: Dict[str, int]) -> np.ndarray:
    """Draw in place and return ``image``. ``counts``: (name, direction) -> total so far."""
    if zones:
        fill = image.copy()
        for zone in zones:
            cv2.fillPoly(fill, [zone.points.astype(np.int32)], ZONE_COLOR)
        cv2.addWeighted(fill, 0.18, image, 0.82, 0, dst=image)
    for zone in zones:
        pts = zone.points.astype(np.int32)
        cv2.polylines(image, [pts], True, ZONE_COLOR, 2, cv2.LINE_AA)
        top = pts[np.argmin(pts[:, 1])]
        _label(image, f"{zone.name}: {occupancy.get(zone.name, 0)}", (int(top[0]), int(top[1]) - 4), ZONE_COLOR)
    for line in lines:
        p1 = np.array(line.p1)
        p2 = np.array(line.p2)
        cv2.line(image, tuple(p1.astype(int)), tuple(p2.astype(int)), LINE_COLOR, 2, cv2.LINE_AA)
        d = p2 - p1
        normal = np.array([-d[1], d[0]]) / (np.hypot(*d) or 1.0)   # points to the ``in`` side
        mid = (p1 + p2) / 2
        cv2.arrowedLine(image, tuple(mid.astype(int)), tuple((mid + 25 * normal).astype(int)), LINE_COLOR, 2,
                        cv2.LINE_AA, tipLength=0.4)
        _label(image, f"{line.name} in {counts.get((line.name, 'in'), 0)} out {counts.get((line.name, 'out'), 0)}",
               (int(p2[0]) + 4, int(p2[1]) - 4), LINE_COLOR)
    rows = [f"{ln.name}: in {counts.get((ln.name, 'in'), 0)}  out {counts.get((ln.name, 'out'), 0)}" for ln in lines]
    rows += [f"{z.name}: now {occupancy.get(z.name, 0)}  entered {counts.get((z.name, 'enter'), 0)}" for z in zones]
    for i, row in enumerate(rows):
        _label(image, row, (6, 22 + 20 * i), TEXT)
    return image
