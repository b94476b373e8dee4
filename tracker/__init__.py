"""tracker: detect and track objects in video, files or live streams.

Example:
    >>> from tracker import track
    >>> for result in track("video.mp4", model="yolo11n.pt"):          # doctest: +SKIP
    ...     print(result.frame_index, result.time_s, result.tracks.track_id)
"""
from __future__ import annotations

from typing import Iterator, List, Optional, Sequence, Union

from .errors import UserError
from .pipeline import FrameResult, Pipeline
from .types import Detections, Frame, Tracks

__version__ = "0.1.0"


def track(source: Union[str, Sequence[str]], model: Optional[str] = None, tracker: Optional[str] = None,
          *, detections: Optional[str] = None, reid: Optional[str] = None, config: Optional[str] = None,
          save: bool = False, out: Optional[str] = None, set: Optional[List[str]] = None,
          **options) -> Iterator[FrameResult]:
    """Track objects in ``source``, yielding one ``FrameResult`` per frame, lazily.

    Args:
        source: video path, image folder, MOT sequence, stream URL or webcam index (or a list).
        model: detector weights (default ``yolo11n.pt``).
        tracker: tracker name or YAML path.
        detections: MOTChallenge det file to use instead of a detector.
        reid: ReID model for appearance matching.
        config: YAML config file.
        save: also write the video, CSV, MOT txt and summary (into ``out`` or runs/track/expN).
        set: extra ``section.key=value`` overrides.
        **options: ``section_key=value`` shortcuts, e.g. ``detector_conf=0.4``, ``source_max_frames=10``.
    """
    from .config import load_config
    from .run import Run

    overrides = []
    for key, value in {"detector.model": model, "tracker.name": tracker, "detector.detections": detections,
                       "reid.model": reid, "output.dir": out}.items():
        if value is not None:
            overrides.append(f"{key}={value}")
    for key, value in options.items():
        section, _, name = key.partition("_")
        overrides.append(f"{section}.{name}={value}")
    cfg = load_config(config, overrides + list(set or []))
    sources = [source] if isinstance(source, (str, int)) else list(source)
    run = Run([str(s) for s in sources], cfg, save=save or out is not None)
    yield from run


__all__ = ["track", "Pipeline", "FrameResult", "Frame", "Detections", "Tracks", "UserError", "__version__"]
