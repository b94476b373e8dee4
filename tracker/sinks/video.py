"""Annotated video output with OpenCV's writer (``mp4v``; the wheel has no H.264 encoder).

The writer is opened on the first frame (its size is the frame's) and released on ``close``, which
finalises the container; ``close`` is called on normal end, on errors and on SIGINT/SIGTERM.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

import cv2

from ..errors import UserError
from ..types import Frame, Tracks
from .draw import Annotator

# (fourcc, extension) in order of preference; avc1 needs an H.264 encoder the pip wheel lacks
CODECS = (("mp4v", ".mp4"), ("MJPG", ".avi"))


class VideoSink:
    """Writes every frame it is given, with its tracks drawn on it."""

    def __init__(self, path, fps: float, names: Mapping[int, str], trail: int = 0) -> None:
        self.path = Path(path)
        self.fps = fps if fps and fps > 0 else 30.0
        self.annotator = Annotator(names, trail)
        self._writer: Optional[cv2.VideoWriter] = None
        self.frames_written = 0

    def _open(self, width: int, height: int) -> None:
        for fourcc, ext in CODECS:
            path = self.path.with_suffix(ext)
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), self.fps, (width, height))
            if writer.isOpened():
                self._writer, self.path = writer, path
                return
        raise UserError(f"cannot write video {self.path}: OpenCV could not open a video writer "
                        "(check the folder is writable, or use --no-video)")

    def write(self, frame: Frame, tracks: Tracks) -> None:
        image = frame.image.copy()   # the frame may still be used by other stages
        if self._writer is None:
            self._open(image.shape[1], image.shape[0])
        self._writer.write(self.annotator.draw(image, tracks))
        self.frames_written += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
