"""Typed configuration: dataclass defaults ← ``configs/default.yaml`` ← ``--config FILE`` ← ``--set k=v``.

Every key is checked: an unknown key, a value of the wrong type or out of its range (``_RANGES``)
ends in one clear line naming the key (``UserError``). Tracker parameters are the exception: any key under ``tracker`` other than
``name`` is passed to the tracker, which checks it against its own YAML
(``configs/trackers/<name>.yaml``).

Example:
    >>> cfg = load_config(overrides=["detector.conf=0.4", "tracker.track_buffer=60"])
    >>> cfg.detector.conf, cfg.tracker.params
    (0.4, {'track_buffer': 60})
"""
from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import yaml

from .errors import UserError



def find_config_dir() -> Path:
    """Where the YAMLs are: ``tracker/configs/`` in an installed wheel (``setup.py`` copies them
    there), else the top-level ``configs/`` of a source checkout or editable install, which is the
    one source of truth. ``track --print-config`` prints the path."""
    packaged = Path(__file__).resolve().parent / "configs"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[1] / "configs"


CONFIG_DIR = find_config_dir()
DEFAULT_CONFIG = CONFIG_DIR / "default.yaml"


@dataclass
class DetectorConfig:
    name: str = "yolo"                 # yolo | fcos | precomputed
    model: str = "yolo11n.pt"          # path or bare name (looked up in weights_dir, then downloaded)
    weights_dir: Optional[str] = None  # local weights folder; TRACKER_WEIGHTS_DIR when unset
    detections: Optional[str] = None   # MOTChallenge det file: skips the detector
    imgsz: int = 640
    conf: float = 0.25
    iou: float = 0.7
    classes: Optional[str] = None      # "person,car" or "0,2"; None = all
    device: Optional[str] = None       # cpu | cuda:0 | None = auto
    half: Optional[bool] = None        # FP16 inference; None = on a GPU, never on the CPU
    runtime: str = "auto"              # auto | torch | onnx | openvino | tensorrt
    batch: int = 1                     # frames per inference call (files only)
    threads: Optional[int] = None      # CPU inference threads; None = every core


@dataclass
class TrackerConfig:
    name: str = "botsort"              # a name from configs/trackers/ or a YAML path
    params: Dict[str, Any] = field(default_factory=dict)  # overrides of the tracker's YAML


@dataclass
class ReidConfig:
    model: Optional[str] = None        # .onnx/.pth path or name; None = motion only
    device: Optional[str] = None       # defaults to the detector's device
    half: bool = False
    runtime: str = "auto"              # .onnx models on the CPU: auto | onnx | openvino


@dataclass
class SourceConfig:
    max_frames: Optional[int] = None   # stop after this many frames
    vid_stride: int = 1                # read every N-th frame
    fps: Optional[float] = None        # frame rate for image folders (default 30)
    realtime: Optional[bool] = None    # live sources drop frames to stay current; None = auto


@dataclass
class StreamConfig:
    reconnect_max: int = 20            # reconnect attempts before giving up (~2.5 min); 0 = forever
    open_retries: int = 3              # attempts for a stream that never delivered a frame; 0 = reconnect_max
    open_timeout_s: float = 5.0
    read_timeout_s: float = 2.0
    reset_after_s: float = 10.0        # outages longer than this reset the tracker
    transport: str = "auto"            # RTSP transport: tcp, udp, or auto (TCP, then UDP)


@dataclass
class OutputConfig:
    dir: Optional[str] = None          # exact output folder; None = <project>/<name>[N]
    project: str = "runs/track"
    name: str = "exp"
    video: bool = True                 # write the annotated video
    csv: bool = True
    mot: bool = True
    trails: int = 0                    # draw the last N centre points of each track
    segment: Optional[str] = None      # rotate outputs every e.g. "10m" / "1h" / "500MB" (streams)
    video_codec: str = "h264"          # h264 (plays everywhere) | mp4v (fallback without an H.264 encoder)


@dataclass
class AnalyticsConfig:
    lines: List[str] = field(default_factory=list)   # "NAME=x1,y1,x2,y2" (pixels, or fractions if all <= 1)
    zones: List[str] = field(default_factory=list)   # "NAME=x1,y1,x2,y2,x3,y3,..."
    count_bin: str = "60s"             # counts.csv time bins
    anchor: str = "bottom_center"      # bottom_center | center | top_center
    margin: float = 0.02               # hysteresis, in box heights beyond the line
    u_turn_s: float = 0.5              # a crossing back this soon is not counted
    relink_s: float = 0.5              # id switches: a new id this soon after a lost one, nearby, continues it
    relink_dist: float = 1.0           # ... within this many box heights
    min_frames: int = 3                # a track's events wait until it was seen this many frames
    coast_s: float = 0.25              # a lost track that would cross a line this soon, at its pace, is counted
    report_lost_frames: int = 0        # with lines/zones: the tracker reports lost tracks' predicted boxes at least this long (0 = its own)


@dataclass
class Config:
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    reid: ReidConfig = field(default_factory=ReidConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    analytics: AnalyticsConfig = field(default_factory=AnalyticsConfig)
    quiet: bool = False

    def to_dict(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        params = d["tracker"].pop("params")
        d["tracker"].update(params)
        return d


def _check_type(key: str, value: Any, hint) -> Any:
    """Coerce ``value`` to the field type ``hint`` or raise a UserError naming ``key``."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Union:
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)][0]
        return _check_type(key, value, inner)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint in (int, float) and isinstance(value, str):
        # YAML 1.1 reads 1e3 (no dot) as text: take it as the number the user wrote
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            return _check_type(key, number, hint) if math.isfinite(number) else number
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
            return ",".join(str(v) for v in value)   # classes: [person, car]
    else:
        return value
    raise UserError(f"config key '{key}' must be {hint.__name__}, got {value!r}")


# value ranges: key -> (lowest, highest[, note]), inclusive; None (where allowed) always passes.
# Upper limits keep every value usable downstream (a timeout becomes an int32 of milliseconds in
# OpenCV, a frame count feeds range(), a thread count torch): far above any real use, far below
# where arithmetic overflows.
_DAY_S = 86_400.0
_RANGES = {
    "detector.imgsz": (1, 16_384),
    "detector.conf": (0.0, 1.0),
    "detector.iou": (0.0, 1.0),
    "detector.batch": (1, 1_024),
    "detector.threads": (1, 1_024, "or null for every core"),
    "source.max_frames": (1, 10**12, "or null for all frames"),
    "source.vid_stride": (1, 1_000_000),
    "source.fps": (1e-3, 1_000.0, "or null for 30"),
    "stream.reconnect_max": (0, 10**9, "0 = retry forever"),
    "stream.open_retries": (0, 10**9, "0 = as reconnect_max"),
    "stream.open_timeout_s": (1e-3, _DAY_S),
    "stream.read_timeout_s": (1e-3, _DAY_S),
    "stream.reset_after_s": (0.0, 365 * _DAY_S),
    "output.trails": (0, 10_000, "0 = off"),
    "analytics.margin": (0.0, 100.0),
    "analytics.u_turn_s": (0.0, _DAY_S),
    "analytics.relink_s": (0.0, _DAY_S, "0 = off"),
    "analytics.relink_dist": (0.0, 100.0),
    "analytics.min_frames": (1, 10**6),
    "analytics.coast_s": (0.0, 60.0, "0 = off"),
    "analytics.report_lost_frames": (0, 10**6, "0 = the tracker's own"),
}


# keys that take one of a few words: key -> the words
_CHOICES = {
    "detector.runtime": ("auto", "torch", "onnx", "openvino", "tensorrt"),
    "output.video_codec": ("h264", "mp4v"),
    "reid.runtime": ("auto", "onnx", "openvino"),
}


def _check_ranges(cfg: Config) -> None:
    """Values of the right type but outside their range (``--vid-stride 0``, ``conf: 1.5``, NaN,
    ``1e308``) are reported by key too, before anything runs."""
    for key, (low, high, *note) in _RANGES.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if value is None:
            continue
        if not (math.isfinite(value) and low <= value <= high):
            why = f" ({note[0]})" if note else ""
            raise UserError(f"config key '{key}' must be between {low:g} and {high:g}{why}, got {value!r}")
    for key, words in _CHOICES.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if value not in words:
            raise UserError(f"config key '{key}' must be one of {', '.join(words)}, got {value!r}")


def _apply(cfg: Config, data: Dict[str, Any], origin: str) -> None:
    if not isinstance(data, dict):
        raise UserError(f"{origin}: expected a mapping of config sections, got {type(data).__name__}")
    hints = typing.get_type_hints(Config)
    for section, values in data.items():
        if section not in hints:
            raise UserError(f"unknown config key '{section}' in {origin}; "
                            f"known sections: {', '.join(hints)}")
        if section == "quiet":
            cfg.quiet = _check_type("quiet", values, bool)
            continue
        if values is None:
            continue
        if not isinstance(values, dict):
            raise UserError(f"config key '{section}' in {origin} must be a mapping of keys")
        target = getattr(cfg, section)
        if section == "tracker":
            for key, value in values.items():
                if key == "name":
                    target.name = _check_type("tracker.name", value, str)
                else:
                    target.params[str(key)] = value
            continue
        section_hints = typing.get_type_hints(type(target))
        for key, value in values.items():
            if key not in section_hints:
                raise UserError(f"unknown config key '{section}.{key}' in {origin}; "
                                f"known keys: {', '.join(section_hints)}")
            setattr(target, key, _check_type(f"{section}.{key}", value, section_hints[key]))


def _read_yaml(path: Path) -> Dict[str, Any]:
    if not path.is_file():
        raise UserError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise UserError(f"config file {path} is not valid YAML: {str(err).splitlines()[0]}") from None
    return data or {}


def parse_override(item: str) -> Dict[str, Any]:
    """``"detector.conf=0.4"`` → ``{"detector": {"conf": 0.4}}`` (values parsed as YAML scalars)."""
    if "=" not in item:
        raise UserError(f"--set expects key=value, got '{item}'")
    key, raw = item.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise UserError(f"--set expects key=value, got '{item}'")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    nested: Dict[str, Any] = {}
    cursor = nested
    for p in parts[:-1]:
        cursor = cursor.setdefault(p, {})
    cursor[parts[-1]] = value
    if len(parts) == 1 and parts[0] != "quiet":
        raise UserError(f"--set key '{key}' must name a section and a key, e.g. detector.conf=0.4")
    return nested


def load_config(config_file: Optional[str] = None, overrides: Optional[List[str]] = None,
                use_default_file: bool = True) -> Config:
    """Build the effective config (later sources win)."""
    cfg = Config()
    if use_default_file and DEFAULT_CONFIG.is_file():
        _apply(cfg, _read_yaml(DEFAULT_CONFIG), str(DEFAULT_CONFIG))
    if config_file:
        _apply(cfg, _read_yaml(Path(config_file)), str(config_file))
    for item in overrides or []:
        _apply(cfg, parse_override(item), f"--set {item}")
    _check_ranges(cfg)
    if cfg.detector.detections:
        cfg.detector.name = "precomputed"   # a det file replaces the detector: say so in config.yaml
    return cfg


def save_config(cfg: Config, path) -> None:
    Path(path).write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
