"""tracker: detect and track objects in video, files or live streams.

Example:
    >>> from tracker import track
    >>> for result in track("video.mp4", conf=0.4, classes=["person"]):      # doctest: +SKIP
    ...     print(result.frame_index, result.time_s, result.tracks.track_id)
    ...     annotated = result.plot()

Your own detections, frame by frame (an N x 6 array ``x1, y1, x2, y2, score, class``, ultralytics
``Results`` or supervision ``Detections`` work too):
    >>> tracker = make_tracker("bytetrack", frame_rate=30)                   # doctest: +SKIP
    >>> tracks = tracker.update(detections, image)                           # doctest: +SKIP
"""
from __future__ import annotations

from .api import as_detector, track
from .detectors.base import Detector
from .detectors.classes import COCO80_NAMES
from .errors import UserError
from .pipeline import FrameResult, Pipeline
from .sinks.draw import Annotator, draw_tracks, id_color
from .trackers import TRACKER_NAMES, load_tracker_config, make_tracker
from .types import Detections, Frame, Tracks

__version__ = "0.1.0"

__all__ = ["track", "make_tracker", "load_tracker_config", "TRACKER_NAMES", "Detections", "Tracks", "Frame",
           "FrameResult", "Detector", "as_detector", "draw_tracks", "Annotator", "id_color", "COCO80_NAMES",
           "Pipeline", "UserError", "__version__"]
