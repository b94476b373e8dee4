"""Live streams: RTSP/RTSPS, HTTP(S) (MJPEG, HLS) and webcams, that survive drops.

``StreamSource`` implements the ``Source`` protocol (``tracker/sources/base.py``) for a camera that
may run for days. One reader thread per stream decodes frames with OpenCV's FFmpeg backend into
a bounded queue; iterating the source takes frames from that queue.

Real-time vs. every frame (``realtime``, default True for streams):
    * real-time: the queue holds the newest ``queue_size`` (default 2) frames. When the consumer
      is slower than the camera, the *oldest* queued frame is discarded and counted in
      ``stats["frames_dropped"]``; latency stays bounded, memory flat. ``Frame.index`` counts
      every frame received, so dropped frames show as gaps in the indexes.
    * not real-time: the reader waits for the consumer (queue of 16): nothing is dropped.
    ``is_live`` is True exactly in real-time mode ("may drop frames to stay real-time").

Frames:
    ``Frame.index`` is 0-based and keeps increasing across reconnects; ``Frame.time_s`` is
    monotonic wall-clock seconds since the first frame of the stream (``clock_origin`` is that
    instant on ``time.monotonic()``'s clock), so an outage shows as a jump in ``time_s``.
    ``vid_stride`` N queues every N-th frame only (the others are grabbed, not decoded).

Reconnecting:
    When a read fails (server gone, camera rebooting, or no data for about 3 × ``read_timeout_s``:
    OpenCV's FFmpeg read timeout), the reader releases the capture and reconnects: at once, then
    after ``initial``, ``initial × factor``, ... seconds, at most ``max`` (``reconnect_backoff``).
    A connection attempt succeeds when the stream opens (within ``open_timeout_s``) *and* yields a
    frame. After ``reconnect_max`` consecutive failed attempts (0 = retry forever) the iterator
    raises ``UserError("cannot reach stream rtsp://user:***@host/...: <reason> after N attempts")``
    once the frames already queued have been consumed. The same limit applies to the first
    connection, except that a stream which has never delivered a frame gives up after at most
    ``open_retries`` attempts (0 = use ``reconnect_max``): a mistyped URL fails in seconds, while a
    camera that worked and then dropped gets the full ``reconnect_max`` (a reboot takes 30-90 s).

Transport (``transport``, config ``stream.transport``): RTSP over ``"tcp"``, ``"udp"``, or
    ``"auto"`` (TCP, then UDP, as FFmpeg does). Before each attempt a plain TCP connect tells a
    refused or silent camera from one that answers; when OpenCV cannot play a stream that answers,
    ``rtsp_probe`` asks the server why (401 wrong credentials, 404 wrong path, 461 transport).

Finite streams (``finite``, default for ``http(s)://.../clip.mp4``, see ``urls.is_file_url``): a
    whole file over HTTP is read like a file — never real-time, every frame, once — and the
    iterator ends at its last frame. A connection lost mid-file reconnects and skips the frames
    already read.

Stopping: ``stop()`` only sets a flag (safe in a signal handler); whatever the reader is doing, the
    iterator ends within ~0.1 s once the queued frames are taken. ``close()`` also waits ≤ 0.5 s
    for the reader thread.

Tracker reset after a long outage (how the pipeline learns about it):
    An outage is the time between the last frame before a loss and the first frame after the
    reconnect. If it lasted at least ``reset_after_s`` seconds (default 10), the first frame after it carries a
    reset mark (moved onto the next frame if that one is dropped). Before tracking each frame the
    pipeline calls ``source.consume_reset(frame.index)``: True once, for the first frame at or
    after the mark, then False until the next long outage; on True it starts this stream's tracker
    afresh. Passing the index keeps this exact even when the pipeline's own queues put the
    tracking several frames behind the iteration. (``consume_reset()`` without an index: True once
    after the iterator has yielded a marked frame.) Short outages leave no mark: tracks continue.

Statistics:
    ``stats`` (a property) is a JSON-ready dict for ``summary.json`` and the live stats line;
    ``stats_snapshot()`` the same as a ``StreamStats`` dataclass: frames read/yielded/dropped,
    reconnects, failed attempts, outages, long outages, outage seconds, measured fps, connected.

Credentials:
    ``name`` and every message and log line use ``mask_url`` (``rtsp://user:***@host/...``); the raw
    URL is only handed to OpenCV.

TLS (``rtsps://``, ``https://``): FFmpeg does not verify the server's certificate by default (a
camera's self-signed one works). To verify, set ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` to e.g.
``rtsp_transport;tcp|tls_verify;1|ca_file;/path/ca.pem`` before starting.

Many streams: ``open_streams(specs, cfg)`` builds one ``StreamSource`` per URL / webcam index /
line of a ``.streams`` file, with ids ``"0"``, ``"1"``, ... or the ids given in the file.

Example:
    >>> src = StreamSource("rtsp://user:pw@127.0.0.1:8554/cam", reconnect_max=5)   # doctest: +SKIP
    >>> for frame in src:                                                          # doctest: +SKIP
    ...     if src.consume_reset(frame.index):
    ...         tracker.reset()
    ...     process(frame)
    >>> src.close()                                                                # doctest: +SKIP
"""
from __future__ import annotations

import logging
import os
import queue
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Deque, Iterable, Iterator, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit

import cv2
import numpy as np

from ..errors import UserError
from ..types import Frame
from . import rtsp_probe
from .urls import is_file_url, is_stream_url, mask_url, remember_secret, safe_name

log = logging.getLogger(__name__)

# OPENCV_FFMPEG_CAPTURE_OPTIONS replaces OpenCV's own TCP preference for RTSP when set, so it must
# always name the transport. A short analyzeduration cuts the time to the first frame from ~1.2 s
# to ~0.25 s (measured on loopback), which matters on every reconnect.
DEFAULT_FFMPEG_OPTIONS = "rtsp_transport;tcp|analyzeduration;100000"

DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443, "rtmp": 1935}

TRANSPORTS = ("tcp", "udp", "auto")   # stream.transport; auto = TCP, then UDP (as FFmpeg does)

# OpenCV reads OPENCV_FFMPEG_CAPTURE_OPTIONS when a capture opens, and the variable is
# process-wide: an RTSP open sets the transport it wants and opens under this lock, so two
# streams asking for different transports never see each other's value.
_CAPTURE_OPTIONS_LOCK = threading.Lock()


def configure_ffmpeg_capture_options() -> str:
    """Prepare OpenCV's FFmpeg backend for streams; return ``OPENCV_FFMPEG_CAPTURE_OPTIONS``.

    * ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` gets our defaults when the user set none; the RTSP
      transport in it is set per connection attempt (``stream.transport``, see
      ``capture_options``), any other option the user set is kept.
    * A camera that is down makes every reconnect attempt print FFmpeg's and OpenCV's own warnings
      ("Connection refused", "backend is generally available but can't be used ..."), forever.
      Our log lines already say what failed, so FFmpeg's log level defaults to fatal
      (``OPENCV_FFMPEG_LOGLEVEL=8``, read once, before FFmpeg's first use; a value the user set
      wins) and OpenCV's to errors. Neither ever printed a URL's credentials (checked).
    """
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "8")
    if cv2.utils.logging.getLogLevel() > cv2.utils.logging.LOG_LEVEL_ERROR:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    current = os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS", "")
    if not current:
        os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = current = DEFAULT_FFMPEG_OPTIONS
    return current


def capture_options(transport: str, current: str) -> str:
    """``current`` FFmpeg capture options with the RTSP transport set to ``transport``.

    Example:
        >>> capture_options("udp", "rtsp_transport;tcp|analyzeduration;100000")
        'rtsp_transport;udp|analyzeduration;100000'
    """
    kept = [o for o in current.split("|") if o and not o.startswith("rtsp_transport;")]
    return "|".join([f"rtsp_transport;{transport}"] + kept)


@dataclass
class StreamStats:
    """Counters of one stream, for the live stats line and ``summary.json``.

    Attributes:
        frames_read: frames received from the stream (including those skipped by ``vid_stride``).
        frames_yielded: frames handed to the consumer.
        frames_dropped: frames discarded in real-time mode because the consumer was behind.
        reconnects: successful reconnections after a loss.
        failed_attempts: connection attempts that failed (all of them, not only consecutive).
        outages: times the stream was lost.
        long_outages: outages of at least ``reset_after_s`` (each one marks a tracker reset).
        outage_s: total seconds without frames across all finished outages.
        last_outage_s: length of the latest finished outage.
        fps: measured frame rate of the stream (frames read per second, smoothed).
        connected: whether the reader currently has a working connection.
        transport: the RTSP transport of the latest connection (``tcp``/``udp``; "" otherwise).
    """

    frames_read: int = 0
    frames_yielded: int = 0
    frames_dropped: int = 0
    reconnects: int = 0
    failed_attempts: int = 0
    outages: int = 0
    long_outages: int = 0
    outage_s: float = 0.0
    last_outage_s: float = 0.0
    fps: float = 0.0
    connected: bool = False
    transport: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Item:
    """A queued frame and whether the tracker must be reset before it."""

    frame: Frame
    reset: bool


@dataclass
class _Failure:
    """Queued by the reader when it gives up; the iterator raises it as a UserError."""

    message: str


class _Finished:
    """Queued by the reader at the end of a finite stream (a whole file over HTTP)."""


StreamSpec = Union[str, int]


class StreamSource:
    """A live stream as a ``Source``: reader thread, bounded queue, reconnects, masked name.

    Args:
        url_or_index: ``rtsp://``, ``rtsps://``, ``http(s)://`` URL (anything OpenCV's FFmpeg
            backend opens), or a webcam index (``0`` or ``"0"``).
        source_id: id put in ``Frame.source_id`` and used for per-stream output folders.
        realtime: drop old frames to stay real-time (default: True).
        reconnect_max: give up after this many consecutive failed connection attempts; 0 = never.
        reconnect_backoff: ``(initial_s, factor, max_s)`` delays between attempts.
        open_timeout_s: OpenCV/FFmpeg timeout for opening the stream.
        read_timeout_s: OpenCV/FFmpeg read timeout; a silent camera is noticed after ~3× this.
        reset_after_s: an outage at least this long marks a tracker reset (see ``consume_reset``).
        queue_size: frames buffered between reader and consumer (default 2 real-time, 16 not).
        name: display name (masked anyway); default: the masked URL or ``webcam N``.
        max_frames: stop after yielding this many frames (None: run until closed).
        vid_stride: queue every N-th frame only; the others are grabbed without decoding (saves
            CPU on fast cameras). ``Frame.index`` still counts every frame of the stream.
        transport: RTSP transport, ``"tcp"``, ``"udp"`` or ``"auto"`` (TCP, then UDP).
        finite: the URL serves a whole file (``http://host/clip.mp4``): read it once, every
            frame (never real-time), then end; default: ``is_file_url(url)``.
    """

    def __init__(self, url_or_index: StreamSpec, source_id: str = "0",
                 realtime: Optional[bool] = None, reconnect_max: int = 0, open_retries: int = 0,
                 reconnect_backoff: Tuple[float, float, float] = (0.5, 2.0, 10.0),
                 open_timeout_s: float = 5.0, read_timeout_s: float = 2.0,
                 reset_after_s: float = 10.0, queue_size: Optional[int] = None,
                 name: Optional[str] = None, max_frames: Optional[int] = None,
                 vid_stride: int = 1, transport: str = "auto", finite: Optional[bool] = None) -> None:
        if isinstance(url_or_index, str) and url_or_index.strip().isdigit():
            url_or_index = int(url_or_index.strip())
        self._target: StreamSpec = url_or_index
        self.is_webcam = isinstance(url_or_index, int)
        if not self.is_webcam:
            remember_secret(str(url_or_index))   # masked even where no regex could find it
        self.name = mask_url(name or (f"webcam {url_or_index}" if self.is_webcam else str(url_or_index)))
        self.source_id = str(source_id)
        self.finite = (not self.is_webcam and is_file_url(str(url_or_index))) if finite is None else bool(finite)
        # a file is read whole: never drop its frames
        self.realtime = False if self.finite else (True if realtime is None else bool(realtime))
        self.is_live = self.realtime
        if transport not in TRANSPORTS:
            raise UserError(f"stream.transport must be one of {', '.join(TRANSPORTS)}, got {transport!r}")
        self.transport = transport
        self._scheme = "" if self.is_webcam else urlsplit(str(url_or_index)).scheme.lower()
        self.fps: float = 0.0
        self.size: Optional[tuple] = None
        self.frame_count: Optional[int] = None
        self.max_frames = max_frames
        if vid_stride < 1:
            raise UserError(f"source.vid_stride must be >= 1, got {vid_stride}")
        self.vid_stride = int(vid_stride)
        if reconnect_max < 0:
            raise UserError(f"stream.reconnect_max must be >= 0 (0 = forever), got {reconnect_max}")
        self.reconnect_max = int(reconnect_max)
        self.open_retries = max(0, int(open_retries))
        self.backoff_initial_s, self.backoff_factor, self.backoff_max_s = map(float, reconnect_backoff)
        self.open_timeout_s = float(open_timeout_s)
        self.read_timeout_s = float(read_timeout_s)
        self.reset_after_s = float(reset_after_s)
        size = queue_size if queue_size is not None else (2 if self.realtime else 16)
        self._queue: "queue.Queue[Union[_Item, _Failure]]" = queue.Queue(maxsize=max(1, size))
        self._stop = threading.Event()
        self._lock = threading.Lock()  # guards _stats and _reset_indexes
        self._stats = StreamStats()
        self._reset_indexes: Deque[int] = deque()  # yielded frames that follow a long outage
        self._thread: Optional[threading.Thread] = None
        self._next_index = 0
        self._t0: Optional[float] = None
        self._arrivals: Deque[float] = deque()  # arrival times of recent frames, for stats.fps
        configure_ffmpeg_capture_options()

    # ---------------------------------------------------------------- public API
    def start(self) -> "StreamSource":
        """Start the reader thread (idempotent; iterating starts it too)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"stream-{self.source_id}",
                                            daemon=True)
            self._thread.start()
        return self

    def __iter__(self) -> Iterator[Frame]:
        """Frames as they arrive (iterate a source once: the iterator shares the queue)."""
        self.start()
        yielded = 0
        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                # stopped and drained: end now, even if the reader is still stuck in a read
                # on a hung camera (it exits by itself within ~3x the read timeout)
                if self._stop.is_set():
                    return
                continue
            if isinstance(item, _Failure):
                raise UserError(item.message)
            if isinstance(item, _Finished):
                return
            with self._lock:
                self._stats.frames_yielded += 1
                if item.reset:
                    self._reset_indexes.append(item.frame.index)
            yielded += 1
            yield item.frame
            if self.max_frames is not None and yielded >= self.max_frames:
                self.close()
                return

    def consume_reset(self, frame_index: Optional[int] = None) -> bool:
        """Must the tracker be reset (a long outage happened)? True once per long outage.

        Without an argument: True once after the iterator yielded the first frame following a
        long outage (call it in the thread that iterates, right after each frame).
        With ``frame_index``: True when a reset mark lies at or before that frame index — exact
        even when the caller processes frames later than they were taken from the iterator (a
        pipeline with its own queues): call it with each frame's index before tracking it.
        """
        with self._lock:
            if frame_index is None:
                due = bool(self._reset_indexes)
                self._reset_indexes.clear()
            else:
                due = False
                while self._reset_indexes and self._reset_indexes[0] <= frame_index:
                    self._reset_indexes.popleft()
                    due = True
        return due

    def stats_snapshot(self) -> StreamStats:
        """A consistent snapshot of this stream's counters."""
        with self._lock:
            return replace(self._stats)

    @property
    def stats(self) -> dict:
        """The counters as a JSON-ready dict (``summary.json``'s ``"stream"`` entry)."""
        return self.stats_snapshot().as_dict()

    @property
    def clock_origin(self) -> Optional[float]:
        """``time.monotonic()`` at ``Frame.time_s == 0`` (None before the first frame)."""
        return self._t0

    def stop(self) -> None:
        """Ask the reader to stop, without waiting (safe in a signal handler).

        Whatever the reader is doing — connecting, reading, waiting to retry — the iterator ends
        within ~0.1 s once the frames already queued are taken; a reader blocked inside OpenCV
        (opening a silent camera) is a daemon thread and ends by itself.
        """
        self._stop.set()

    def close(self) -> None:
        """Stop reading. Frames already queued are still yielded, then iteration ends."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            # a read blocked on a hung camera returns within ~3× read timeout; don't wait that long
            self._thread.join(timeout=0.5)

    def __enter__(self) -> "StreamSource":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"StreamSource({self.name!r}, source_id={self.source_id!r}, realtime={self.realtime})"

    # ---------------------------------------------------------------- reader thread
    def _run(self) -> None:
        failures = 0  # consecutive failed connection attempts
        last_frame_at: Optional[float] = None  # None until the first connection
        try:
            while not self._stop.is_set():
                cap, image, reason = self._connect()
                if self._stop.is_set():
                    if cap is not None:
                        cap.release()
                    return
                if cap is None:
                    failures += 1
                    with self._lock:
                        self._stats.failed_attempts += 1
                    limit = self.reconnect_max
                    if last_frame_at is None and self.open_retries:
                        # never worked: most likely a wrong URL, so give up early
                        limit = min(limit, self.open_retries) if limit else self.open_retries
                    if limit and failures >= limit:
                        self._count_final_outage(last_frame_at)
                        self._give_up(f"cannot reach stream {self.name}: {reason} after "
                                      f"{failures} attempt{'s' if failures > 1 else ''}")
                        return
                    delay = self._backoff(failures)
                    log.warning("stream %s: %s; retrying in %.1fs (attempt %d%s)", self.name, reason,
                                delay, failures,
                                f" of {limit}" if limit else "")
                    self._stop.wait(delay)
                    continue
                failures = 0
                reset = self._on_connected(last_frame_at)
                last_frame_at = self._read_until_lost(cap, image, reset)
                cap.release()
                if self._stop.is_set():
                    return
                if self.finite and (not self.frame_count or self._next_index >= self.frame_count):
                    self._finish()   # the end of the file, not an outage
                    return
                with self._lock:
                    self._stats.outages += 1
                    self._stats.connected = False
                log.warning("stream %s: lost; reconnecting", self.name)
        except Exception as err:  # a bug or an OpenCV failure: end the stream with a clear line
            log.exception("stream %s: reader failed", self.name)
            self._give_up(f"stream {self.name}: reader failed: {mask_url(str(err))}")

    def _connect(self) -> Tuple[Optional[cv2.VideoCapture], Optional[np.ndarray], str]:
        """Open the stream and read its first frame: (capture, frame, "") or (None, None, why).

        RTSP: a plain TCP connect first (``rtsp_probe.reachable``), so a refused connection or a
        silent host is reported as such without blocking inside OpenCV; then each transport of
        ``stream.transport`` is tried in turn (auto: TCP, UDP); when none plays, the server is
        asked why (``_diagnose``: 401, 404, 461, ...). (Not DESCRIBE before every open:
        GStreamer's server answers 503 to a DESCRIBE that follows another client's too closely.)
        """
        if self.is_webcam:
            # on Linux ask V4L2 directly: CAP_ANY would also try FFmpeg and Orbbec backends and
            # print an error block for each on every reconnect attempt
            backend = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
            cap, image, why = self._first_frame(cv2.VideoCapture(int(self._target), backend), "")
            return cap, image, why if why != "cannot open" else self._diagnose()
        if self._scheme == "rtsp":
            why = rtsp_probe.reachable(str(self._target), timeout_s=min(3.0, self.open_timeout_s))
            if why is not None:
                return None, None, why
        transports = (["tcp", "udp"] if self.transport == "auto" else [self.transport]) \
            if self._scheme in ("rtsp", "rtsps") else [""]
        for transport in transports:
            if self._stop.is_set():
                break
            cap, image, why = self._first_frame(self._open_capture(transport), transport)
            if cap is not None:
                return cap, image, ""
        return None, None, why if why != "cannot open" else self._diagnose(transports)

    def _open_capture(self, transport: str) -> cv2.VideoCapture:
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.open_timeout_s * 1000),
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.read_timeout_s * 1000)]
        if not transport:
            return cv2.VideoCapture(str(self._target), cv2.CAP_FFMPEG, params)
        with _CAPTURE_OPTIONS_LOCK:
            current = os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS", DEFAULT_FFMPEG_OPTIONS)
            os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = capture_options(transport, current)
            return cv2.VideoCapture(str(self._target), cv2.CAP_FFMPEG, params)

    def _first_frame(self, cap: cv2.VideoCapture, transport: str):
        """(cap, first image, "") for an opened capture that delivers a frame, else (None, None, why)."""
        if not cap.isOpened():
            cap.release()
            return None, None, "cannot open"
        if self.finite and self._next_index:
            # reconnected in the middle of a file: skip what was read already (exact, unlike a seek)
            for _ in range(self._next_index):
                if not cap.grab():
                    cap.release()
                    return None, None, "opened, but the file ended before the point of the loss"
        ok, image = cap.read()
        if not ok or image is None:
            cap.release()
            return None, None, "opened, but no frame arrived"
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if 0.5 <= fps <= 240.0 and not self.fps:  # RTSP often reports 0 or the 90 kHz clock
            self.fps = fps
        if self.finite and self.frame_count is None:
            count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
            if 0 < count < 1e9:
                self.frame_count = int(count)
        with self._lock:
            self._stats.transport = transport
        return cap, image, ""

    def _diagnose(self, transports: Sequence[str] = ()) -> str:
        """Why the stream did not open although (for RTSP) the server described it."""
        if self.is_webcam:
            return "cannot open the camera (missing, busy, or no permission)"
        if self._scheme == "rtsp" and transports:
            why = rtsp_probe.describe(str(self._target), timeout_s=min(3.0, self.open_timeout_s))
            if why is not None:
                return why
            refused = rtsp_probe.refused_transports(str(self._target), transports,
                                                    timeout_s=min(3.0, self.open_timeout_s))
            if refused and len(refused) == len(transports):
                other = {"tcp": "udp", "udp": "tcp"}.get(refused[0], "auto")
                return (f"the server refuses RTSP over {'/'.join(t.upper() for t in refused)} "
                        f"(461 Unsupported Transport): set stream.transport={other if len(refused) == 1 else 'auto'}")
            return "the server described the stream, but no frame could be decoded (unsupported codec?)"
        parts = urlsplit(str(self._target))
        try:
            port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
        except ValueError:
            return "invalid port in URL"
        if not parts.hostname or not port:
            return "cannot open (not a URL OpenCV's FFmpeg backend can read)"
        try:
            with socket.create_connection((parts.hostname, port), timeout=min(2.0, self.open_timeout_s)):
                pass
        except socket.gaierror:
            return f"unknown host {parts.hostname}"
        except ConnectionRefusedError:
            return "connection refused"
        except socket.timeout:
            return "no answer (timeout)"
        except OSError as err:
            return mask_url(err.strerror or str(err))
        if parts.scheme.lower() in ("rtsps", "https"):
            return ("the server answered but did not serve the stream "
                    "(wrong path, credentials, or a TLS certificate that failed verification?)")
        return "the server answered but did not serve the stream (wrong path or credentials?)"

    def _backoff(self, failures: int) -> float:
        return min(self.backoff_initial_s * self.backoff_factor ** (failures - 1), self.backoff_max_s)

    def _on_connected(self, last_frame_at: Optional[float]) -> bool:
        """Record a (re)connection; return True when it ends a long outage (tracker reset)."""
        reset = False
        with self._lock:
            self._stats.connected = True
            if last_frame_at is not None:
                outage = time.monotonic() - last_frame_at
                reset = outage >= self.reset_after_s
                self._stats.reconnects += 1
                self._stats.outage_s += outage
                self._stats.last_outage_s = outage
                self._stats.long_outages += int(reset)
        if last_frame_at is None:
            log.info("stream %s: connected", self.name)
        else:
            log.warning("stream %s: reconnected after %.1fs without frames%s", self.name,
                        time.monotonic() - last_frame_at, " (tracker reset)" if reset else "")
        return reset

    def _read_until_lost(self, cap: cv2.VideoCapture, image: Optional[np.ndarray],
                         reset: bool) -> float:
        """Push frames until a read fails or close(); return when the last frame arrived.

        With ``vid_stride`` N only frames whose index is a multiple of N are decoded and queued;
        the others are only grabbed (``cap.grab()``: no decoding cost) and counted. The first
        frame after a (re)connect is always queued.
        """
        last_at = time.monotonic()
        while True:
            self._count_arrival(last_at)
            if image is not None:
                self._push(image, reset, last_at)
                reset = False
            self._next_index += 1
            if self._stop.is_set():
                return last_at
            if self._next_index % self.vid_stride == 0:
                ok, image = cap.read()
                ok = ok and image is not None
            else:
                ok, image = cap.grab(), None
            if not ok:
                return last_at
            last_at = time.monotonic()

    def _count_arrival(self, now: float) -> None:
        """Count a frame read from the stream and update the measured frame rate."""
        # frame rate over the last ~2 s of arrivals (a reconnect delivers a burst of buffered
        # frames, so an average of instantaneous rates would be meaningless)
        self._arrivals.append(now)
        while len(self._arrivals) > 2 and now - self._arrivals[0] > 2.0:
            self._arrivals.popleft()
        span = now - self._arrivals[0]
        with self._lock:
            self._stats.frames_read += 1
            if span > 0.5:
                self._stats.fps = (len(self._arrivals) - 1) / span

    def _push(self, image: np.ndarray, reset: bool, now: float) -> None:
        """Queue one decoded frame (index ``_next_index``), dropping the oldest in real time."""
        if self._t0 is None:
            self._t0 = now
            self.size = (image.shape[1], image.shape[0])
        elif (image.shape[1], image.shape[0]) != self.size:
            # a camera reconfigured across a reboot: keep one size so writers and tracks stay valid
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        frame = Frame(index=self._next_index, time_s=now - self._t0, image=image,
                      source_id=self.source_id)
        item = _Item(frame, reset)
        if self.realtime:
            self._put_dropping_oldest(item)
        else:
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=0.1)
                    return
                except queue.Full:
                    continue

    def _put_dropping_oldest(self, item: Union[_Item, _Failure]) -> None:
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                pass
            try:
                old = self._queue.get_nowait()
            except queue.Empty:  # the consumer just took one: there is room now
                continue
            if isinstance(old, _Item):
                with self._lock:
                    self._stats.frames_dropped += 1
                if isinstance(item, _Item):
                    item.reset = item.reset or old.reset  # never lose a reset mark

    def _count_final_outage(self, last_frame_at: Optional[float]) -> None:
        """A stream that gives up after having worked: its last outage counts in the stats."""
        if last_frame_at is None:
            return
        outage = time.monotonic() - last_frame_at
        with self._lock:
            self._stats.outage_s += outage
            self._stats.last_outage_s = outage
            self._stats.long_outages += int(outage >= self.reset_after_s)

    def _finish(self) -> None:
        """The end of a finite stream: the iterator ends once the queued frames are taken."""
        with self._lock:
            self._stats.connected = False
        while not self._stop.is_set():
            try:
                self._queue.put(_Finished(), timeout=0.1)
                return
            except queue.Full:
                continue

    def _give_up(self, message: str) -> None:
        # not logged: the consumer raises it as a UserError, which the CLI prints as its one line
        message = mask_url(message)
        with self._lock:
            self._stats.connected = False
        # queue the failure *before* setting the stop flag: the iterator ends quietly when it
        # finds the flag set and the queue empty, and this must reach it even when the queue is full
        if self.realtime:
            self._put_dropping_oldest(_Failure(message))
        else:
            self._queue.put(_Failure(message))  # the consumer drains the queue, then sees it
        self._stop.set()


# ------------------------------------------------------------------------ many streams
def read_stream_list(path: Union[str, Path]) -> List[Tuple[Optional[str], str]]:
    """Parse a ``.streams`` file: one stream per line, ``[id] URL``; ``#`` starts a comment line.

    Example file::

        # front and back door
        front rtsp://user:pw@10.0.0.7/stream1
        rtsp://10.0.0.8/stream1
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as err:
        raise UserError(f"cannot read stream list {path}: {err.strerror or err}") from None
    entries: List[Tuple[Optional[str], str]] = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) == 1:
            entries.append((None, fields[0]))
        elif len(fields) == 2 and is_stream_url(fields[1]):
            entries.append((fields[0], fields[1]))
        else:
            raise UserError(f"{path}:{number}: expected '[id] URL', got {mask_url(line)!r}")
    if not entries:
        raise UserError(f"stream list {path} names no stream")
    return entries


def options_from_config(cfg) -> dict:
    """``StreamSource`` keyword arguments from a ``tracker.config.Config`` (``stream.*`` keys,
    ``source.realtime``, ``source.max_frames``, ``source.vid_stride``); keys the config lacks keep
    their defaults."""
    options = {}
    stream_cfg = getattr(cfg, "stream", None)
    for key in ("reconnect_max", "open_retries", "reconnect_backoff", "open_timeout_s", "read_timeout_s",
                "reset_after_s", "queue_size", "transport"):
        value = getattr(stream_cfg, key, None)
        if value is not None:
            options[key] = tuple(value) if key == "reconnect_backoff" else value
    source_cfg = getattr(cfg, "source", None)
    for key in ("realtime", "max_frames", "vid_stride"):
        if getattr(source_cfg, key, None) is not None:
            options[key] = getattr(source_cfg, key)
    return options


def open_streams(specs: Iterable[StreamSpec], cfg=None, **options) -> List[StreamSource]:
    """Build one ``StreamSource`` per stream from CLI arguments and/or ``.streams`` files.

    Each spec is a stream URL, a webcam index, or the path of a ``.streams`` file (see
    ``read_stream_list``). Source ids are ``"0"``, ``"1"``, ... in order, or the id given in the
    ``.streams`` file (made file-system safe). Options for every ``StreamSource`` come from
    ``cfg`` (a ``tracker.config.Config``, see ``options_from_config``), then ``options``.
    Nothing is connected yet: the reader threads start when iterated (or ``start()``).

    Raises:
        UserError: a spec is neither a stream nor a readable list file, or ids repeat.
    """
    entries: List[Tuple[Optional[str], StreamSpec]] = []
    for spec in specs:
        if isinstance(spec, int) or is_stream_url(spec):
            entries.append((None, spec))
        elif str(spec).endswith(".streams") or Path(str(spec)).is_file():
            entries.extend(read_stream_list(spec))
        else:
            raise UserError(f"not a stream URL or .streams file: {mask_url(str(spec))}")
    if cfg is not None:
        options = {**options_from_config(cfg), **options}
    sources: List[StreamSource] = []
    seen = set()
    for position, (given_id, target) in enumerate(entries):
        if not is_stream_url(target):
            raise UserError(f"not a stream URL: {mask_url(str(target))}")
        source_id = safe_name(given_id) if given_id else str(position)
        if source_id in seen:
            raise UserError(f"stream id {source_id!r} used twice; give each stream its own id")
        seen.add(source_id)
        sources.append(StreamSource(target, source_id=source_id, **options))
    return sources


def stream_stats(sources: Sequence[StreamSource]) -> dict:
    """``{source_id: stats dict}`` for several streams (for ``summary.json``)."""
    return {s.source_id: s.stats for s in sources}


def stats_line(sources: Sequence) -> str:
    """A short live status of the streams among ``sources``, for a progress bar's postfix.

    Example: ``"0: 15.0 fps, 3 dropped, 1 reconnect | 1: down, 2 reconnects"``; "" without streams.
    """
    parts = []
    for source in sources:
        if not isinstance(source, StreamSource):
            continue
        st = source.stats_snapshot()
        text = f"{source.source_id}: " + (f"{st.fps:.1f} fps" if st.connected else "down")
        if st.frames_dropped:
            text += f", {st.frames_dropped} dropped"
        if st.reconnects:
            text += f", {st.reconnects} reconnect{'s' if st.reconnects > 1 else ''}"
        parts.append(text)
    return " | ".join(parts)
