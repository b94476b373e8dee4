"""Output rotation for endless runs: ``--segment 10m`` / ``1h`` / ``90s`` / ``500MB``.

A segment is closed (video finalised, logs flushed) before the next is opened, so every closed
segment is a finished, playable video with its own CSV and MOT file.

Example:
    >>> parse_segment("10m"), parse_segment("1.5h"), parse_segment("500MB")
    (('time', 600.0), ('time', 5400.0), ('size', 500000000))
"""
from __future__ import annotations

import re
from typing import Optional, Tuple

from ..errors import UserError

_UNITS_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
# beyond these a segment never closes (and 1e400MB overflowed int()): one year, one petabyte
MAX_SEGMENT_S = 365 * 86_400
MAX_SEGMENT_BYTES = 10**15
_UNITS_B = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def parse_segment(spec: Optional[str]) -> Optional[Tuple[str, float]]:
    """``None`` → None; ``"10m"`` → ``("time", 600.0)``; ``"500MB"`` → ``("size", 500000000)``."""
    if spec in (None, "", "0"):
        return None
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]+)\s*", str(spec))
    if m:
        value, unit = float(m.group(1)), m.group(2).lower()
        if unit in _UNITS_S and 0 < value * _UNITS_S[unit] <= MAX_SEGMENT_S:
            return "time", value * _UNITS_S[unit]
        if unit in _UNITS_B and 0 < value * _UNITS_B[unit] <= MAX_SEGMENT_BYTES:
            return "size", int(value * _UNITS_B[unit])
    raise UserError(f"cannot read --segment '{spec}': use a duration like 90s, 10m, 1h or a size like 500MB "
                    "(at most a year or a petabyte)")
