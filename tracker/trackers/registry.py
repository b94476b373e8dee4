"""Tracker names -> classes, and building a tracker from a name or YAML file plus overrides.

Each tracker's defaults are its config dataclass; ``configs/trackers/<name>.yaml`` holds the same
values with a comment per key (``tests/test_trackers.py`` checks that the two agree). A YAML file
passed by path must name its ``tracker_type``.

ultralytics' tracker YAMLs (``ultralytics/cfg/trackers/*.yaml``, recognised by ultralytics-only keys
such as ``track_low_thresh``) load as they are: their keys are mapped to ours
(``ULTRALYTICS_KEYS``), keys without an equivalent are ignored, and one warning line says which.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import yaml

from ..config import CONFIG_DIR as TOP_CONFIG_DIR
from ..errors import UserError
from .botsort import BotSortTracker
from .bytetrack import ByteTracker
from .deepocsort import DeepOcSortTracker
from .deepsort import DeepSortTracker
from .gmc import GMC_METHODS
from .ocsort import OcSortTracker
from .sort import SortTracker
from .strongsort import StrongSortTracker

log = logging.getLogger("tracker")

TRACKERS = {
    "sort": SortTracker,
    "bytetrack": ByteTracker,
    "botsort": BotSortTracker,
    "deepsort": DeepSortTracker,
    "ocsort": OcSortTracker,
    "deepocsort": DeepOcSortTracker,
    "strongsort": StrongSortTracker,
}

# ultralytics tracker YAML key -> our key (same meaning); keys absent here have no equivalent
ULTRALYTICS_KEYS = {
    "track_high_thresh": "track_high_thresh", "track_low_thresh": "det_thresh",
    "new_track_thresh": "new_track_thresh", "track_buffer": "track_buffer", "match_thresh": "match_thresh",
    "fuse_score": "fuse_score", "gmc_method": "gmc_method", "delta_t": "delta_t", "inertia": "inertia",
    "use_byte": "use_byte", "alpha_fixed_emb": "feat_momentum", "init_iou_suppress": "init_iou_max",
}
# ultralytics tracker_type -> ours (fasttrack and tracktrack have no counterpart of the same name)
ULTRALYTICS_TYPES = {"bytetrack": "bytetrack", "botsort": "botsort", "ocsort": "ocsort",
                     "deepocsort": "deepocsort", "fasttrack": "bytetrack", "tracktrack": "botsort"}
_ULTRALYTICS_ONLY = {"track_low_thresh", "proximity_thresh", "appearance_thresh", "with_reid", "model"}
_warned: set = set()   # a run builds several trackers from one file: say it once


def is_ultralytics_config(values: Mapping[str, Any]) -> bool:
    """True for a tracker YAML written for ultralytics (keys only ultralytics uses)."""
    return bool(_ULTRALYTICS_ONLY & set(values))


def from_ultralytics(values: Mapping[str, Any], origin: str = "tracker config") -> tuple[str, dict]:
    """Map an ultralytics tracker YAML to ``(our tracker name, our options)``; warns once, naming the
    keys it ignored.

    >>> from_ultralytics({"tracker_type": "bytetrack", "track_low_thresh": 0.1, "track_buffer": 30})
    ('bytetrack', {'det_thresh': 0.1, 'track_buffer': 30})
    """
    kind = str(values.get("tracker_type", "")).lower()
    if kind not in ULTRALYTICS_TYPES:
        raise UserError(f"{origin}: ultralytics tracker_type {values.get('tracker_type')!r} is not one of "
                        f"{', '.join(ULTRALYTICS_TYPES)}")
    name = ULTRALYTICS_TYPES[kind]
    fields = {f.name for f in dataclasses.fields(TRACKERS[name].config_class)}
    mapped, ignored = {}, []
    for key, value in values.items():
        if key == "tracker_type":
            continue
        ours = ULTRALYTICS_KEYS.get(key)
        if ours is None or ours not in fields or (ours == "gmc_method" and value not in GMC_METHODS):
            ignored.append(f"{key}={value}")
        else:
            mapped[ours] = value
    notes = [f"{origin} is an ultralytics {kind} config: loaded as our {name}"]
    if ignored:
        notes.append(f"ignored (no equivalent here) {', '.join(ignored)}")
    if any(k.startswith("with_reid=True") for k in ignored):
        notes.append("for appearance pass --reid MODEL")
    if origin not in _warned:
        _warned.add(origin)
        log.warning("; ".join(notes))
    return name, mapped
TRACKER_NAMES: tuple[str, ...] = tuple(TRACKERS)
# the best-scoring tracker on our benchmarks (docs/benchmarks.md); configs/default.yaml uses it
DEFAULT_TRACKER = "botsort"
CONFIG_DIR = TOP_CONFIG_DIR / "trackers"   # a source checkout's configs/ or the wheel's copy


# every numeric tracker option is a non-negative count, threshold, weight or size; the cap keeps
# frame counts and Kalman noise far from overflow (track_buffer=1e308 once ended in OverflowError)
OPTION_RANGE = (0, 10**9)


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Give ``value`` (maybe a string from ``--set``) the type of the field's default; numbers
    must lie in ``OPTION_RANGE``."""
    number = _coerce_type(key, value, default)
    if isinstance(number, (int, float)) and not isinstance(number, bool) and not (
            math.isfinite(number) and OPTION_RANGE[0] <= number <= OPTION_RANGE[1]):
        raise UserError(f"tracker option {key}={value!r}: must be between {OPTION_RANGE[0]} and "
                        f"{OPTION_RANGE[1]:g}")
    return number


def _coerce_type(key: str, value: Any, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("true", "1", "yes", "on"):
                    return True
                if low in ("false", "0", "no", "off"):
                    return False
                raise ValueError(value)
            return bool(value)
        if isinstance(default, int):
            f = float(value)
            if f != int(f):
                raise ValueError(value)
            return int(f)
        if isinstance(default, float):
            return float(value)
        return str(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int("inf")
        raise UserError(f"tracker option {key}={value!r}: expected a {type(default).__name__}") from None


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise UserError(f"cannot read tracker config {path}: {err}") from None
    if not isinstance(data, dict):
        raise UserError(f"tracker config {path} must be a mapping of key: value")
    return data


def load_tracker_config(name_or_path: Union[str, Path], overrides: Optional[Mapping[str, Any]] = None):
    """Resolve a tracker name or YAML path (+ overrides) to ``(tracker class, config instance)``."""
    text = str(name_or_path)
    values: dict = {}
    if text.lower() in TRACKERS:
        name = text.lower()
        default_yaml = CONFIG_DIR / f"{name}.yaml"
        if default_yaml.is_file():
            values = _read_yaml(default_yaml)
    elif text.endswith((".yaml", ".yml")) or Path(text).is_file():
        path = Path(text)
        if not path.is_file():
            raise UserError(f"tracker config file not found: {path}")
        values = _read_yaml(path)
        if is_ultralytics_config(values):
            name, values = from_ultralytics(values, str(path))
            values["tracker_type"] = name
        name = str(values.get("tracker_type", "")).lower()
        if name not in TRACKERS:
            raise UserError(f"tracker config {path}: tracker_type must be one of "
                            f"{', '.join(TRACKER_NAMES)} (got {values.get('tracker_type')!r})")
    else:
        raise UserError(f"unknown tracker {text!r}: choose one of {', '.join(TRACKER_NAMES)} "
                        "or give a path to a tracker YAML file")
    values.pop("tracker_type", None)
    values.update(dict(overrides or {}))
    cls = TRACKERS[name]
    fields = {f.name: f for f in dataclasses.fields(cls.config_class)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise UserError(f"unknown {name} option(s) {', '.join(unknown)}: valid options are "
                        f"{', '.join(sorted(fields))}")
    defaults = cls.config_class()
    kwargs = {k: _coerce(k, v, getattr(defaults, k)) for k, v in values.items()}
    return cls, cls.config_class(**kwargs)


def make_tracker(name_or_path: Union[str, Path] = DEFAULT_TRACKER, overrides: Optional[Mapping[str, Any]] = None,
                 frame_rate: float = 30.0):
    """Build a tracker: ``make_tracker("bytetrack", {"track_buffer": 60}, frame_rate=25)``.

    Raises ``UserError`` for an unknown name, unreadable YAML or unknown/ill-typed option.
    """
    cls, config = load_tracker_config(name_or_path, overrides)
    return cls(config, frame_rate=frame_rate)
