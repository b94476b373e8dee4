"""Sinks: where tracks go (annotated video, CSV, MOTChallenge txt, summary)."""
from __future__ import annotations

import os
import queue
import threading
from typing import Optional, Protocol

from ..types import Frame, Tracks
from .logs import CSV_HEADER, CsvSink, MotSink
from .video import VideoSink


SINK_NICE = 10   # niceness added to a background sink's thread (Linux: per-thread priority)


class Sink(Protocol):
    def write(self, frame: Frame, tracks: Tracks) -> None: ...

    def close(self) -> None: ...


class BackgroundSink:
    """Runs a slow sink (video encoding) in its own thread behind a bounded queue.

    OpenCV releases the GIL while drawing and encoding, so this overlaps with inference.
    An error in the thread is raised on the next ``write`` or on ``close``.
    """

    _END = object()

    def __init__(self, sink: Sink, maxsize: int = 8) -> None:
        self.sink = sink
        self._queue: "queue.Queue" = queue.Queue(maxsize=maxsize)
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name=f"sink-{type(sink).__name__}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # below the detector's priority: inference keeps both cores of a small machine (a preempted
        # inference thread stalls the whole parallel step) and the encoder uses the gaps between
        # frames; the queue's bound stops it from falling behind for long
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + SINK_NICE))
        except (AttributeError, OSError):   # not Linux, or not allowed: run at normal priority
            pass
        while True:
            item = self._queue.get()
            if item is self._END:
                break
            if self._error is None:
                try:
                    self.sink.write(*item)
                except BaseException as err:  # reported to the caller on its next call
                    self._error = err

    def write(self, frame: Frame, tracks: Tracks) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((frame, tracks))

    def close(self) -> None:
        self._queue.put(self._END)
        self._thread.join()
        try:
            self.sink.close()
        finally:
            if self._error is not None:
                err, self._error = self._error, None
                raise err


__all__ = ["Sink", "BackgroundSink", "CsvSink", "MotSink", "VideoSink", "CSV_HEADER"]
