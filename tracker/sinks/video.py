"""Annotated video output with OpenCV's writer (``mp4v``; the wheel has no H.264 encoder).

The writer is opened on the first frame (its size is the frame's) and released on ``close``, which
finalises the container; ``close`` is called on normal end, on errors and on SIGINT/SIGTERM.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Mapping, Optional

import cv2

from ..errors import UserError
from ..types import Frame, Tracks
from .draw import Annotator
from .logs import MIN_FREE_BYTES

# (fourcc, extension) in order of preference; avc1 needs an H.264 encoder the pip wheel lacks
CODECS = (("mp4v", ".mp4"), ("MJPG", ".avi"))


class VideoSink:
    """Writes every frame it is given, with its tracks drawn on it."""

    def __init__(self, path, fps: float, names: Mapping[int, str], trail: int = 0) -> None:
        self.path = Path(path)
        self.fps = fps if fps and fps > 0 else 30.0
        self.annotator = Annotator(names, trail)
        self.overlay = None   # optional ``overlay(image, frame)``: lines, zones, counters (tracker/analytics)
        self._writer: Optional[cv2.VideoWriter] = None
        self.frames_written = 0
        self._frame_bytes = 0   # largest growth of the file per frame so far
        self._last_size = 0

    def _open(self, width: int, height: int) -> None:
        for fourcc, ext in CODECS:
            path = self.path.with_suffix(ext)
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), self.fps, (width, height))
            if writer.isOpened():
                self._writer, self.path = writer, path
                return
        raise UserError(f"cannot write video {self.path}: OpenCV could not open a video writer "
                        "(check the folder is writable, or use --no-video)")

    def _check_disk(self) -> None:
        """OpenCV's writer fails silently (a corrupt file) when the disk fills or the folder goes away:
        stop first, while the container can still be finalised."""
        try:
            st = os.statvfs(self.path.parent)
        except OSError as err:
            raise OSError(err.errno, f"cannot write video: {err.strerror} (was the output folder removed?)",
                          str(self.path)) from None
        if not self.path.exists():
            raise OSError(errno.ENOENT, "video file was deleted (was the output folder removed?)", str(self.path))
        free = st.f_bavail * st.f_frsize
        # the mp4 trailer (index) grows with the frame count; keep room for it and summary.json
        reserve = MIN_FREE_BYTES + 64 * self.frames_written + 4 * self._frame_bytes
        if free < reserve:
            raise OSError(errno.ENOSPC, f"disk almost full ({free // 1024} KiB left), stopped before it fills "
                          "so the video can be finalised", str(self.path))

    def write(self, frame: Frame, tracks: Tracks) -> None:
        image = frame.image.copy()   # the frame may still be used by other stages
        if self._writer is None:
            self._open(image.shape[1], image.shape[0])
        else:
            self._check_disk()
        image = self.annotator.draw(image, tracks)
        if self.overlay is not None:
            image = self.overlay(image, frame)
        self._writer.write(image)
        self._frame_bytes = max(self._frame_bytes, self._size_growth())
        self.frames_written += 1

    def _size_growth(self) -> int:
        """Bytes the last frame added to the file (a bound for the next frame's size)."""
        try:
            size = os.stat(self.path).st_size
        except OSError:
            return 0
        grew, self._last_size = size - self._last_size, size
        return max(grew, 0)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
