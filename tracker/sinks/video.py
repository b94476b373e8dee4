"""Annotated video output: H.264 that plays in browsers, chat apps and phones, or OpenCV's mp4v.

``codec="h264"`` (the default) writes H.264, yuv420p, with PyAV (its wheels carry libx264):

* a fragmented MP4 (``empty_moov``, a fragment every ``FRAGMENT_S`` seconds), for files and live
  streams alike: each fragment is complete on disk once written, so a run killed with ``kill -9``
  (or a power cut) leaves a video that plays up to its last fragment, and the muxer keeps no index
  that grows with the run (memory stays flat without ``--segment``). The (empty) index is at the
  front, so a browser starts playing before the whole file has arrived; Chromium gets its duration
  and seeks in it as in a ``+faststart`` file. Fragments are cut by time, not at key frames, so the
  encoder keeps its own key-frame interval and the file is no larger (a key frame every second made
  it 12-16% larger at 10-12.5 fps). (``+faststart`` writes the index only on close: a killed run's
  video did not open at all.)

``codec="mp4v"`` (or no H.264 encoder installed, said once with a warning) uses OpenCV's MPEG-4
Part 2 writer, which Chromium refuses (media error 4) but the pip wheel of OpenCV can always write.

The writer is opened on the first frame (its size is the frame's) and finalised on ``close``, which
is called on normal end, on errors and on SIGINT/SIGTERM. Encoding runs in the sink's own thread
(``sinks.BackgroundSink``); ``encode_s`` adds up the time this sink spent drawing and encoding.

Example:
    >>> sink = VideoSink("out.mp4", fps=25, names={0: "person"})     # doctest: +SKIP
    >>> sink.write(frame, tracks); sink.close()                      # doctest: +SKIP
    >>> sink.codec                                                   # doctest: +SKIP
    'h264'
"""
from __future__ import annotations

import errno
import logging
import os
import time
from fractions import Fraction
from pathlib import Path
from typing import Mapping, Optional

import cv2
import numpy as np

from ..errors import UserError
from ..types import Frame, Tracks
from .draw import Annotator
from .logs import MIN_FREE_BYTES

log = logging.getLogger("tracker")

# OpenCV (fourcc, extension) in order of preference, for codec="mp4v"
CODECS = (("mp4v", ".mp4"), ("MJPG", ".avi"))
CODEC_NAMES = ("h264", "mp4v")
FRAGMENT_S = 1.0           # a finished fragment on disk every second (what a kill -9 loses at most)
# ultrafast, one encoder thread: 2.8 ms of CPU per 768x432 frame against veryfast's 6.2 ms (files
# ~1.7x larger, still smaller than mp4v's); on a 2-core machine every encoder millisecond is taken
# from inference (docs/benchmarks.md, "H.264 encoding cost")
X264_PRESET = "ultrafast"
X264_THREADS = 1
X264_CRF = "23"            # libx264's default quality
# zerolatency: no look-ahead, no B-frames, slice threads: each frame's packet comes out as the frame
# goes in, so the bytes on disk are the frames written (the disk-full check stays exact, a killed
# stream loses at most its last fragment) instead of ~20 frames buffered inside the encoder
X264_TUNE = "zerolatency"


def h264_encoder() -> Optional[str]:
    """The name of an H.264 encoder PyAV can use, or None (PyAV missing, or built without one)."""
    try:
        import av
    except ImportError:
        return None
    for name in ("libx264", "libopenh264"):
        if name in av.codecs_available:
            return name
    return None


class _PyAvWriter:
    """H.264 yuv420p into a fragmented MP4 with PyAV (a fragment every ``FRAGMENT_S`` seconds)."""

    def __init__(self, file, fps: float, width: int, height: int, encoder: str) -> None:
        import av

        options = {"movflags": "empty_moov+default_base_moof", "frag_duration": str(int(FRAGMENT_S * 1e6))}
        # ``file``: our own unbuffered file object. Given a path, FFmpeg kept the whole video in
        # memory until close (measured: 170 KB written, 28 bytes on disk), so a killed run lost it
        # all and the disk-full check saw nothing; through a file object only PyAV's 32 KiB buffer
        # is held
        self.file = file
        try:
            self.container = av.open(self.file, mode="w", format="mp4", options=options)
        except BaseException:
            self.file.close()
            raise
        rate = Fraction(fps).limit_denominator(1001)
        stream = self.container.add_stream(encoder, rate=rate)
        # yuv420p needs even sizes: odd frames get one black row/column (see write)
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuv420p"
        if encoder == "libx264":
            stream.options = {"preset": X264_PRESET, "crf": X264_CRF, "tune": X264_TUNE}
            stream.codec_context.thread_count = X264_THREADS
        self.stream = stream
        self.pts = 0

    def write(self, image: np.ndarray) -> None:
        import av

        h, w = image.shape[:2]
        if h % 2 or w % 2:
            image = cv2.copyMakeBorder(image, 0, h % 2, 0, w % 2, cv2.BORDER_CONSTANT)
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = self.pts
        self.pts += 1
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def release(self) -> None:
        try:
            for packet in self.stream.encode(None):   # flush the encoder's delayed frames
                self.container.mux(packet)
        finally:
            try:
                self.container.close()
            finally:
                self.file.close()


class _OpenCvWriter:
    """OpenCV's ``VideoWriter`` (mp4v, or MJPG in .avi when mp4v cannot be opened)."""

    def __init__(self, writer: "cv2.VideoWriter") -> None:
        self.writer = writer

    def write(self, image: np.ndarray) -> None:
        self.writer.write(image)

    def release(self) -> None:
        self.writer.release()


class VideoSink:
    """Writes every frame it is given, with its tracks drawn on it.

    Args:
        path: output file (``.mp4``; the extension may change to ``.avi`` on the last fallback).
        fps: frame rate written into the file (30 when unknown).
        names: class id -> name, for the labels.
        trail: draw the last ``trail`` centre points of each track.
        codec: "h264" or "mp4v" (see the module docstring).
    """

    def __init__(self, path, fps: float, names: Mapping[int, str], trail: int = 0,
                 codec: str = "h264") -> None:
        if codec not in CODEC_NAMES:
            raise UserError(f"unknown video codec '{codec}': choose one of {', '.join(CODEC_NAMES)}")
        self.path = Path(path)
        self.fps = fps if fps and fps > 0 else 30.0
        self.annotator = Annotator(names, trail)
        self.overlay = None   # optional ``overlay(image, frame)``: lines, zones, counters (tracker/analytics)
        self.codec = codec
        self._writer = None
        self.frames_written = 0
        self.encode_s = 0.0     # time spent drawing + encoding (in the sink's thread)
        self._frame_bytes = 0   # largest growth of the file per frame so far
        self._last_size = 0
        self._encoder = h264_encoder() if codec == "h264" else None
        self._file = None
        if self._encoder is not None:
            # the file is created now, in the caller's thread: the sink's thread opens the encoder on
            # the first frame, which may come after the folder stopped being writable
            self.path = self.path.with_suffix(".mp4")
            try:
                self._file = open(self.path, "wb", buffering=0)
            except OSError as err:
                raise UserError(f"cannot write video {self.path}: {err.strerror or err} "
                                "(check the folder is writable, or use --no-video)") from None

    def _open(self, width: int, height: int) -> None:
        if self.codec == "h264":
            if self._encoder is not None:
                try:
                    self._writer = _PyAvWriter(self._file, self.fps, width, height, self._encoder)
                    return
                except Exception as err:   # an encoder that will not open: still write a video
                    reason = f"{type(err).__name__}: {err}"
                    self._file = None      # closed by the writer
            else:
                reason = "PyAV (pip install av) with libx264 is not installed"
            log.warning(f"no H.264 encoder ({reason}); writing mp4v, which browsers do not play")
            self.codec = "mp4v"
        for fourcc, ext in CODECS:
            path = self.path.with_suffix(ext)
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), self.fps, (width, height))
            if writer.isOpened():
                self._writer, self.path = _OpenCvWriter(writer), path
                return
        raise UserError(f"cannot write video {self.path}: OpenCV could not open a video writer "
                        "(check the folder is writable, or use --no-video)")

    def _check_disk(self) -> None:
        """A video writer fails silently (a corrupt file) when the disk fills or the folder goes away:
        stop first, while the container can still be finalised."""
        try:
            st = os.statvfs(self.path.parent)
        except OSError as err:
            raise OSError(err.errno, f"cannot write video: {err.strerror} (was the output folder removed?)",
                          str(self.path)) from None
        # (PyAV creates the file with its first packet, a few frames in: check once it has appeared)
        if self._last_size and not self.path.exists():
            raise OSError(errno.ENOENT, "video file was deleted (was the output folder removed?)", str(self.path))
        free = st.f_bavail * st.f_frsize
        # on close the muxer appends a fragment index (mfra) that grows with the frame count; keep
        # room for it and summary.json
        reserve = MIN_FREE_BYTES + 64 * self.frames_written + 4 * self._frame_bytes
        if free < reserve:
            raise OSError(errno.ENOSPC, f"disk almost full ({free // 1024} KiB left), stopped before it fills "
                          "so the video can be finalised", str(self.path))

    def write(self, frame: Frame, tracks: Tracks) -> None:
        start = time.perf_counter()
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
        self.encode_s += time.perf_counter() - start

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
            writer, self._writer = self._writer, None
            writer.release()
        elif self._file is not None:   # no frame came: an empty file, like OpenCV leaves
            self._file.close()
        self._file = None
