"""Counting lines and zones: parsing ``NAME=x1,y1,...`` specs, anchors, sides and polygon distances.

Coordinates are pixels, or fractions of the frame when every value of a spec is <= 1
(``door=0.5,0,0.5,1`` is a vertical line through the middle of any frame).

Example:
    >>> line = parse_line("door=0.5,0,0.5,1").scaled(200, 100)
    >>> line.p1, line.p2
    ((100.0, 0.0), (100.0, 100.0))
    >>> float(line.signed_distance(np.array([[90.0, 50.0]]))[0])   # P1->P2 points down: x < 100 is its right
    10.0
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Tuple

import cv2
import numpy as np

from ..errors import UserError

ANCHORS = ("bottom_center", "center", "top_center")


def anchor_points(xyxy: np.ndarray, anchor: str = "bottom_center") -> np.ndarray:
    """(N, 2) points of boxes that count for crossings: the feet (bottom centre) by default.

    >>> anchor_points(np.array([[0, 0, 10, 20]]), "bottom_center").tolist()
    [[5.0, 20.0]]
    """
    xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
    x = (xyxy[:, 0] + xyxy[:, 2]) / 2
    if anchor == "bottom_center":
        y = xyxy[:, 3]
    elif anchor == "center":
        y = (xyxy[:, 1] + xyxy[:, 3]) / 2
    elif anchor == "top_center":
        y = xyxy[:, 1]
    else:
        raise UserError(f"analytics anchor must be one of {', '.join(ANCHORS)}, got {anchor!r}")
    return np.stack([x, y], axis=1)


def _parse_spec(spec, what: str, min_points: int) -> Tuple[str, List[float]]:
    """``"name=1,2,3,4"`` (or ``("name", [1, 2, 3, 4])``) -> ``("name", [1.0, 2.0, 3.0, 4.0])``."""
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        name, values = spec
        raw = ",".join(str(v) for v in (values if isinstance(values, (list, tuple)) else [values]))
    else:
        text = str(spec)
        if "=" not in text:
            raise UserError(f"--{what} expects NAME=x1,y1,x2,y2{',...' if what == 'zone' else ''}, got {text!r}")
        name, raw = text.split("=", 1)
    name = str(name).strip()
    if not name or any(c in name for c in ',"\n\r'):
        raise UserError(f"--{what} name must be non-empty without commas or quotes, got {name!r}")
    try:
        values = [float(v) for v in raw.replace(" ", "").split(",") if v != ""]
    except ValueError:
        raise UserError(f"--{what} {name}: coordinates must be numbers, got {raw!r}") from None
    if any(not np.isfinite(v) or v < 0 for v in values):
        raise UserError(f"--{what} {name}: coordinates must be finite and >= 0, got {raw!r}")
    if len(values) % 2 or len(values) < 2 * min_points:
        need = "4 numbers (x1,y1,x2,y2)" if what == "line" else "at least 6 numbers (3 points)"
        raise UserError(f"--{what} {name}: needs {need}, got {len(values)}")
    return name, values


def _scale(values: np.ndarray, width: int, height: int) -> np.ndarray:
    if values.max() <= 1.0:   # fractions of the frame
        return values * np.array([width, height], np.float64)
    return values


@dataclass
class Line:
    """A counting line from ``p1`` to ``p2``. ``in`` = from its left to its right as seen in the image
    (for a line drawn left to right: top to bottom)."""

    name: str
    points: np.ndarray   # (2, 2): pixels, or fractions until ``scaled``

    @property
    def p1(self) -> Tuple[float, float]:
        return float(self.points[0, 0]), float(self.points[0, 1])

    @property
    def p2(self) -> Tuple[float, float]:
        return float(self.points[1, 0]), float(self.points[1, 1])

    def scaled(self, width: int, height: int) -> "Line":
        return Line(self.name, _scale(self.points, width, height))

    def signed_distance(self, pts: np.ndarray) -> np.ndarray:
        """Distance of points from the (infinite) line: > 0 on its right (the ``in`` side)."""
        (x1, y1), (x2, y2) = self.points
        dx, dy = x2 - x1, y2 - y1
        length = float(np.hypot(dx, dy)) or 1.0
        return (dx * (pts[:, 1] - y1) - dy * (pts[:, 0] - x1)) / length

    def crossing_param(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Where the steps a->b (on opposite sides) cross the line, as a position along P1->P2
        (0 = P1, 1 = P2; outside [0, 1] the step passed beside the segment)."""
        da, db = self.signed_distance(a), self.signed_distance(b)
        frac = da / np.where(da - db == 0, 1.0, da - db)
        hit = a + frac[:, None] * (b - a)
        p1 = self.points[0]
        direction = self.points[1] - p1
        return ((hit - p1) @ direction) / float(direction @ direction or 1.0)


@dataclass
class Zone:
    """A polygon zone; a track is inside when its anchor is."""

    name: str
    points: np.ndarray   # (N, 2)

    def scaled(self, width: int, height: int) -> "Zone":
        return Zone(self.name, _scale(self.points, width, height))

    def signed_distance(self, pts: np.ndarray) -> np.ndarray:
        """Distance of points from the polygon's border: > 0 inside, < 0 outside (OpenCV)."""
        contour = self.points.astype(np.float32).reshape(-1, 1, 2)
        return np.array([cv2.pointPolygonTest(contour, (float(x), float(y)), True) for x, y in pts],
                        np.float64).reshape(-1)


def parse_line(spec) -> Line:
    name, values = _parse_spec(spec, "line", 2)
    if len(values) != 4:
        raise UserError(f"--line {name}: needs 4 numbers (x1,y1,x2,y2), got {len(values)}")
    points = np.array(values, np.float64).reshape(2, 2)
    if np.allclose(points[0], points[1]):
        raise UserError(f"--line {name}: its two points are the same")
    return Line(name, points)


def parse_zone(spec) -> Zone:
    name, values = _parse_spec(spec, "zone", 3)
    points = np.array(values, np.float64).reshape(-1, 2)
    if abs(cv2.contourArea(points.astype(np.float32))) <= 1e-9:
        raise UserError(f"--zone {name}: the polygon has no area")
    return Zone(name, points)


def parse_specs(specs, parse) -> list:
    """Parse a list of specs (or a ``{name: [coords]}`` mapping from YAML); names must be unique."""
    if specs is None:
        return []
    if isinstance(specs, dict):
        specs = list(specs.items())
    elif isinstance(specs, str):
        specs = [specs]
    elif not isinstance(specs, (list, tuple)):
        raise UserError(f"analytics lines/zones must be a list of NAME=x1,y1,... strings or a mapping of "
                        f"NAME: [x1, y1, ...], got {specs!r}")
    items = [parse(s) for s in specs]
    names = [i.name for i in items]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UserError(f"line/zone names must be unique, repeated: {', '.join(dupes)}")
    return items


def all_names(lines: Iterable[Line], zones: Iterable[Zone]) -> List[str]:
    names = [x.name for x in lines] + [z.name for z in zones]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UserError(f"a line and a zone share a name: {', '.join(dupes)}")
    return names
