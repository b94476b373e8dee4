"""The tracker family: SORT, ByteTrack, BoT-SORT, DeepSORT on one Kalman filter, one matching
module and one track table.

    >>> from tracker.trackers import make_tracker
    >>> trk = make_tracker("bytetrack", overrides={"track_buffer": 60}, frame_rate=30.0)
    >>> tracks = trk.update(dets, image=None)   # doctest: +SKIP
"""
from .registry import DEFAULT_TRACKER, TRACKER_NAMES, TRACKERS, load_tracker_config, make_tracker

__all__ = ["DEFAULT_TRACKER", "TRACKER_NAMES", "TRACKERS", "load_tracker_config", "make_tracker"]
