"""The Python API: ``track(source, **options)`` with ultralytics' keyword names, and your own detector.

``track`` accepts what ``model.track`` accepts as a source — a path (str or ``Path``), a URL, a webcam
index, a numpy image, a list of images or image paths, or any iterable/generator of numpy frames —
and the keywords users of ultralytics already type (``conf``, ``iou``, ``imgsz``, ``classes``,
``device``, ``half``, ``tracker``, ``max_frames``, ``vid_stride``, ``save``, ...). Any other keyword
is a ``TypeError`` that lists the valid ones. Everything else comes from the same config as the CLI
(``configs/default.yaml``), so ``track()`` and ``track ...`` behave the same.

A detector is anything with ``detect(frames) -> list`` (one entry per ``Frame``: our ``Detections``,
an N x 5/6/7 array, ultralytics ``Results`` or supervision ``Detections``), a plain function doing
the same, or an ultralytics model (``YOLO(...)``) itself.

Example:
    >>> from tracker import track
    >>> for result in track("video.mp4", conf=0.4, classes=[0], max_frames=100):   # doctest: +SKIP
    ...     print(result.frame_index, result.tracks.track_id, result.tracks.detected)
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import numpy as np

from .config import CONFIG_DIR, Config, load_config
from .detectors.base import Detector
from .errors import UserError
from .pipeline import FrameResult
from .sources.file import IMAGE_EXTS
from .sources.frames import FrameSource
from .sources.urls import is_stream_url
from .types import Detections, Frame

# keyword -> config key. ultralytics' own names first (model.track / yolo track), then ours.
ULTRALYTICS_KEYWORDS = {
    "conf": "detector.conf", "iou": "detector.iou", "imgsz": "detector.imgsz",
    "classes": "detector.classes", "device": "detector.device", "half": "detector.half",
    "batch": "detector.batch", "max_frames": "source.max_frames", "vid_stride": "source.vid_stride",
    "project": "output.project", "name": "output.name",
}
OUR_KEYWORDS = {
    "fps": "source.fps", "realtime": "source.realtime", "weights_dir": "detector.weights_dir",
    "detections": "detector.detections", "reid": "reid.model", "out": "output.dir",
    "trails": "output.trails", "segment": "output.segment", "save_video": "output.video",
}
# keywords with their own handling in ``track`` (see its docstring)
SPECIAL_KEYWORDS = ("model", "tracker", "tracker_options", "detector", "save", "stream", "verbose",
                    "config", "set")
SECTIONS = ("detector", "tracker", "reid", "source", "stream", "output")


def valid_keywords() -> List[str]:
    return sorted(set(ULTRALYTICS_KEYWORDS) | set(OUR_KEYWORDS) | set(SPECIAL_KEYWORDS))


def _yaml_value(value: Any) -> str:
    """A keyword's value as ``--set`` text (JSON is valid YAML and quotes strings)."""
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, np.generic):
        value = value.item()
    return json.dumps(value)


def _option_overrides(options: Dict[str, Any]) -> List[str]:
    """``conf=0.4`` -> ``detector.conf=0.4``; ``source_max_frames=3`` (section_key) is accepted too."""
    overrides = []
    for key, value in options.items():
        if key in ULTRALYTICS_KEYWORDS or key in OUR_KEYWORDS:
            target = ULTRALYTICS_KEYWORDS.get(key) or OUR_KEYWORDS[key]
        else:
            section, _, name = key.partition("_")
            if section not in SECTIONS or not name:
                raise TypeError(f"track() got an unexpected keyword argument {key!r}; valid keywords: "
                                f"{', '.join(valid_keywords())} (or SECTION_KEY for any config key, "
                                f"e.g. stream_reconnect_max; see {CONFIG_DIR / 'default.yaml'})")
            target = f"{section}.{name}"
        if key == "imgsz" and isinstance(value, (list, tuple)):
            value = max(int(v) for v in value)   # ultralytics' [h, w]: letterboxed to the longer side
        if key == "device" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)                    # ultralytics' device=0 is the first GPU
        if key == "classes" and isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        overrides.append(f"{target}={_yaml_value(value)}")
    return overrides


# -- detectors the user brings ---------------------------------------------------------------------------
class UserDetector:
    """Adapts ``detect(frames)`` (or a plain function) to the pipeline: each returned item becomes
    ``Detections`` (ours, N x 5/6/7 arrays, ultralytics or supervision detections)."""

    def __init__(self, detect, names: Optional[Dict[int, str]] = None, label: str = "detector") -> None:
        self._detect = detect
        self.names = dict(names or {})
        self.label = label

    def detect(self, frames: Sequence[Frame]) -> List[Detections]:
        out = self._detect(list(frames))
        if not isinstance(out, (list, tuple)):
            # one frame's detections returned bare (an array, Detections, ...), or a generator
            out = [out] if len(frames) == 1 else list(out)
        if len(out) != len(frames):
            raise ValueError(f"{self.label}.detect() returned {len(out)} results for {len(frames)} frames; "
                             "it must return one per frame, in order")
        return [Detections.coerce(d) for d in out]


class UltralyticsModelDetector:
    """An ultralytics model object (``YOLO(...)``, ``RTDETR(...)``) used as the detector, with the
    run's ``conf``/``iou``/``imgsz``/``classes``/``device``/``half``."""

    def __init__(self, model, det_cfg) -> None:
        from .detectors.classes import parse_classes

        self.model = model
        self.names = {int(k): str(v) for k, v in dict(model.names).items()}
        self.kwargs = dict(conf=det_cfg.conf, iou=det_cfg.iou, imgsz=det_cfg.imgsz,
                           classes=parse_classes(det_cfg.classes, self.names), verbose=False)
        if det_cfg.half:      # only when asked: newer ultralytics warns that ``half`` is deprecated
            self.kwargs["half"] = True
        if det_cfg.device:
            self.kwargs["device"] = det_cfg.device

    def detect(self, frames: Sequence[Frame]) -> List[Detections]:
        results = self.model.predict([f.image for f in frames], **self.kwargs)
        return [Detections.from_ultralytics(r) for r in results]


def as_detector(obj, det_cfg=None) -> Detector:
    """Your detector as one the pipeline can run: an object with ``detect(frames)``, a function
    ``frames -> list``, or an ultralytics model. ``det_cfg`` (``Config.detector``) gives an
    ultralytics model its thresholds."""
    det_cfg = det_cfg or Config().detector
    if hasattr(obj, "detect") and callable(obj.detect):
        if isinstance(obj, (UserDetector, UltralyticsModelDetector)):
            return obj
        return UserDetector(obj.detect, getattr(obj, "names", None), type(obj).__name__)
    if hasattr(obj, "predict") and hasattr(obj, "names"):
        return UltralyticsModelDetector(obj, det_cfg)
    if callable(obj):
        return UserDetector(obj, getattr(obj, "names", None), getattr(obj, "__name__", "detector"))
    raise TypeError(f"detector must have a detect(frames) method, be a function of frames or an "
                    f"ultralytics model; got {type(obj).__name__}")


# -- sources -------------------------------------------------------------------------------------------
def _is_image_path(item) -> bool:
    return isinstance(item, (str, os.PathLike)) and Path(item).suffix.lower() in IMAGE_EXTS \
        and not is_stream_url(os.fspath(item))


def source_specs(source, cfg: Config) -> list:
    """What ``Run`` opens for ``source``: source strings (paths, URLs, webcams) or one FrameSource."""
    s = cfg.source

    def frames(items, name):
        return [FrameSource(items, fps=s.fps, name=name, max_frames=s.max_frames, vid_stride=s.vid_stride)]

    if isinstance(source, bool):
        raise TypeError("source must be a path, URL, webcam index, image or iterable of images, not a bool")
    if isinstance(source, (int, np.integer)):
        return [str(int(source))]                       # a webcam index
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        return frames([text], Path(text).stem) if _is_image_path(text) else [text]
    if hasattr(source, "detach"):                        # a torch tensor
        source = source.detach().cpu().numpy()
    if isinstance(source, np.ndarray):
        if source.ndim in (2, 3):
            return frames([source], "image")
        if source.ndim == 4:
            return frames(list(source), "frames")
        raise UserError(f"a numpy source must be an image (H, W, 3) or a stack (N, H, W, 3), got shape {source.shape}")
    if isinstance(source, (list, tuple)):
        if not source:
            raise UserError("no source given: the list is empty")
        if all(isinstance(x, (str, os.PathLike, int)) and not isinstance(x, bool) for x in source):
            images = [_is_image_path(x) for x in source]
            if all(images):
                return frames([os.fspath(x) for x in source], Path(source[0]).parent.name or "images")
            if any(images):
                raise UserError("a list source mixes image files with videos/streams: pass the images "
                                "as one list and each video or stream as its own source")
            return [str(x) if isinstance(x, int) else os.fspath(x) for x in source]   # several sources
        return frames(list(source), "frames")
    if hasattr(source, "__iter__"):
        return frames(source, "frames")                  # a generator or any iterable of frames
    raise TypeError(f"cannot track a {type(source).__name__}: pass a path, URL, webcam index, numpy image, "
                    "list of images or paths, or an iterable of frames")


def track(source, model=None, tracker: Optional[Union[str, os.PathLike]] = None, *,
          detector=None, save: bool = False, stream: bool = True, verbose: Optional[bool] = None,
          config: Optional[str] = None, set: Optional[List[str]] = None,
          tracker_options: Optional[Dict[str, Any]] = None, **options) -> Iterator[FrameResult]:
    """Track objects in ``source``; yields one ``FrameResult`` per frame, lazily.

    Args:
        source: video/image path (str or Path), image folder, MOT sequence, stream URL, webcam index,
            numpy image (H, W, 3) BGR or stack (N, H, W, 3), list of images or image paths, any
            iterable or generator of frames (give ``fps=``), or a list of videos/streams.
        model: detector weights (default ``yolo11n.pt``) or an ultralytics model object.
        tracker: tracker name (``botsort``, ``bytetrack``, ``ocsort``, ...) or a tracker YAML path,
            ours or ultralytics' (``bytetrack.yaml`` from ``ultralytics/cfg/trackers``).
        detector: ``"yolo" | "fcos"`` or your own detector (see ``as_detector``).
        save: also write the annotated video, tracks.csv, tracks.txt and summary.json (into ``out``
            or ``project/name``, default runs/track/expN). Off by default, like ``model.track``.
        stream: True (default) returns a lazy generator; False a list of every frame's result.
        verbose: accepted for ultralytics habits; the API never prints per frame.
        config, set: a YAML config file and ``section.key=value`` overrides, as on the CLI.
        tracker_options: tracker parameters, e.g. ``{"track_buffer": 60}``.
        **options: ``conf``, ``iou``, ``imgsz``, ``classes``, ``device``, ``half``, ``batch``,
            ``max_frames``, ``vid_stride``, ``project``, ``name`` (ultralytics' names); ``fps``,
            ``realtime``, ``weights_dir``, ``detections``, ``reid``, ``out``, ``trails``, ``segment``,
            ``save_video``; or ``SECTION_KEY`` for any config key (``stream_reconnect_max=0``).

    Raises:
        TypeError: an unknown keyword (the message lists the valid ones) or an unusable source type.
        UserError: a problem with the input (missing file, bad value), one line naming it.
    """
    from .run import Run

    overrides = _option_overrides(options)
    detector_obj = None
    if model is not None and not isinstance(model, (str, os.PathLike)):
        detector_obj = model                     # YOLO("...") object
    elif model is not None:
        overrides.append(f"detector.model={_yaml_value(os.fspath(model))}")
    if isinstance(detector, str):
        overrides.append(f"detector.name={_yaml_value(detector)}")
    elif detector is not None:
        detector_obj = detector
    if tracker is not None:
        overrides.append(f"tracker.name={_yaml_value(os.fspath(tracker))}")
    for key, value in (tracker_options or {}).items():
        overrides.append(f"tracker.{key}={_yaml_value(value)}")
    cfg = load_config(config, overrides + list(set or []))
    specs = source_specs(source, cfg)
    ready = as_detector(detector_obj, cfg.detector) if detector_obj is not None else None
    run = Run(specs, cfg, save=save or cfg.output.dir is not None, detector=ready)
    results = _iterate(run)
    return results if stream else list(results)


def _iterate(run) -> Iterator[FrameResult]:
    yield from run
