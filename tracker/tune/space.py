"""Search ranges of a tracker's parameters, read from its config dataclass.

Each tunable field declares its range once, beside its default, in ``tracker/trackers/*.py``::

    track_buffer: int = field(default=30, metadata={"search": (10, 120)})
    appearance_weight: float = field(default=0.5, metadata={"search": (0.2, 0.9), "appearance": True})

Ints are searched as ints, floats as floats; ``"appearance": True`` fields matter only when the
detections carry embeddings, so they are searched only then. A default outside its range widens it
(the default is always a candidate).

Example:
    >>> from tracker.trackers.bytetrack import ByteTrackConfig
    >>> space = search_space(ByteTrackConfig)
    >>> space["track_buffer"]
    Range(name='track_buffer', low=10, high=120, default=30, is_int=True)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Dict, Iterable, Optional

from ..errors import UserError


@dataclass(frozen=True)
class Range:
    name: str
    low: float
    high: float
    default: float
    is_int: bool

    def distribution(self):
        import optuna

        if self.is_int:
            return optuna.distributions.IntDistribution(int(self.low), int(self.high))
        return optuna.distributions.FloatDistribution(float(self.low), float(self.high))

    def scaled(self, value: float) -> float:
        """``value`` in units of the range's width (for distances between configurations)."""
        return (float(value) - self.low) / max(self.high - self.low, 1e-12)


def search_space(config, appearance: bool = False, only: Optional[Iterable[str]] = None
                 ) -> Dict[str, Range]:
    """``{field: Range}`` of the fields that declare ``metadata["search"]``.

    ``config``: a config dataclass or an instance of one (its values are the defaults searched from).
    """
    out = {}
    for f in dataclasses.fields(config):
        spec = f.metadata.get("search")
        if spec is None or (f.metadata.get("appearance") and not appearance):
            continue
        low, high = spec
        default = getattr(config, f.name) if not isinstance(config, type) else f.default
        is_int = isinstance(default, int) and not isinstance(default, bool)
        out[f.name] = Range(f.name, min(low, default), max(high, default), default, is_int)
    if only:
        only = list(only)
        unknown = [n for n in only if n not in out]
        if unknown:
            raise UserError(f"--params {', '.join(unknown)}: not tunable here; tunable: {', '.join(out)}")
        out = {n: out[n] for n in only}
    if not out:
        raise UserError(f"{getattr(config, '__name__', type(config).__name__)} declares no tunable parameters")
    return out
