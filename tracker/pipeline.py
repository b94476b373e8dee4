"""The streaming pipeline: sources → detector (+ embedder) → one tracker per source → sinks.

Threads and bounded queues let decoding, inference, tracking and encoding overlap:

    reader thread per source ──frames──▶ detector thread ──(frame, dets)──▶ caller's thread
    (OpenCV decode)            queue      (batched inference,    queue       (tracker.update,
                                           ReID embeddings)                   CSV/MOT rows; video
                                                                              encoding in a sink thread)

Bounded queues keep memory flat; a file source blocks when the queues are full (never drops), a
live source keeps only its newest frames (see ``tracker.sources.stream``).
Iterating a ``Pipeline`` yields one ``FrameResult`` per frame, lazily. ``stop()`` (called on
SIGINT/SIGTERM) stops reading — also a stream that is connecting or waiting to reconnect —;
frames already read are still tracked and written, then every sink is closed, so outputs stay valid.

Sources live and fail alone: a source whose reading raises ``UserError`` (a camera that gave up)
ends, its sinks are closed and the error is kept in ``source_errors``; the others go on. Only
when every source failed does iterating raise (the one error, or all of them in one line).

Ids: a long stream outage starts that source's tracker afresh, and its ids continue above the
highest id the source has shown, so an id is never reused within a run.

Example:
    >>> pipe = Pipeline([source], detector, lambda src: make_tracker("bytetrack"))   # doctest: +SKIP
    >>> for result in pipe:                                                          # doctest: +SKIP
    ...     print(result.frame_index, result.tracks.track_id)
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import numpy as np

from .boxes import clip_xyxy, finite_rows
from .errors import UserError
from .types import Detections, Frame, Tracks


log = logging.getLogger("tracker")

# a live stream whose next frame comes this much later than the last had an outage (seconds)
STREAM_GAP_S = 0.5


@dataclass
class FrameResult:
    """What the pipeline yields per frame.

    Attributes:
        frame: the decoded frame (``frame.image`` is the BGR image).
        detections: the frame's detections (after cleaning).
        tracks: the tracker's output for the frame.
        names: class id -> name, from the detector (for labels).
    """

    frame: Frame
    detections: Detections
    tracks: Tracks
    names: Optional[Dict[int, str]] = None

    def plot(self) -> np.ndarray:
        """The frame with its tracks drawn (a new BGR image), like ultralytics' ``Results.plot()``."""
        from .sinks.draw import draw_tracks

        return draw_tracks(self.frame.image, self.tracks, self.names)

    @property
    def frame_index(self) -> int:
        return self.frame.index

    @property
    def time_s(self) -> float:
        return self.frame.time_s

    @property
    def source_id(self) -> str:
        return self.frame.source_id


@dataclass
class _End:
    """A source ended; ``error`` is the UserError that ended it, if any."""

    source_id: str
    error: Optional[UserError] = None


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def clean_detections(dets: Detections, width: int, height: int) -> tuple:
    """Drop NaN/inf/empty boxes (counted) and clip the rest to the frame.

    Returns ``(clean_dets, n_dropped)``. A NaN box reaching the Kalman filter would poison the
    track forever, so it is removed here, once, for every detector.
    """
    if len(dets) == 0:
        return dets, 0
    finite = np.isfinite(dets.xyxy).all(axis=1)   # before clipping, which would turn inf into an edge
    xyxy = clip_xyxy(dets.xyxy, width, height)
    keep = finite & finite_rows(xyxy) & np.isfinite(dets.score)
    if dets.feat is not None:
        keep &= np.isfinite(dets.feat).all(axis=1)
    cleaned = Detections(xyxy, dets.score, dets.cls, dets.feat)[keep]
    return cleaned, int((~keep).sum())


class Pipeline:
    """Runs sources through a detector, an optional embedder and per-source trackers.

    Args:
        sources: one or more Sources (files or streams).
        detector: object with ``detect(frames) -> list[Detections]``; one instance serves all
            sources, batching their frames together.
        tracker_factory: ``source -> tracker``; called once per source (and again after a long
            stream outage to start fresh).
        embedder: optional ReID model with ``embed(image, xyxy) -> (N, D)`` and ``dim``.
        embed_min_score: embed only detections scoring at least this (what the tracker can use).
        batch: frames per inference call. Files fill whole batches; live sources take what is ready.
        sinks_factory: ``source -> list of sinks`` written per frame; closed at the end.
    """

    def __init__(self, sources: Sequence, detector, tracker_factory: Callable, embedder=None,
                 batch: int = 1, sinks_factory: Optional[Callable] = None, queue_size: int = 8,
                 embed_min_score: float = -np.inf) -> None:
        self.sources = list(sources)
        self.detector = detector
        self.tracker_factory = tracker_factory
        self.embedder = embedder
        self.embed_min_score = float(embed_min_score)
        self.batch = max(1, int(batch))
        self.sinks_factory = sinks_factory
        self._stop = threading.Event()
        self._frames: "queue.Queue" = queue.Queue(maxsize=max(queue_size, 2 * self.batch) * len(self.sources))
        self._results: "queue.Queue" = queue.Queue(maxsize=queue_size)
        self.stats = {
            "frames": 0, "detections_dropped": 0, "embeddings_skipped": 0, "inference_calls": 0,
            "max_batch": 0, "inference_s": 0.0, "reid_s": 0.0,
            "tracking_s": 0.0,
            "writing_s": 0.0,
        }
        self.stopped_early = False
        self.source_errors: Dict[str, UserError] = {}   # source id -> why it ended early

    # -- control ---------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the pipeline to stop reading; what was read is still processed and written.

        Safe in a signal handler: it only sets flags. A stream that is connecting or waiting to
        reconnect is told too (``source.stop()``), so the run ends at once in every state.
        """
        self.stopped_early = True
        self._stop.set()
        for source in self.sources:
            stop_source = getattr(source, "stop", None)
            if stop_source is not None:
                stop_source()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _put(self, q: "queue.Queue", item) -> bool:
        """Put unless the pipeline is being torn down; returns False when it gave up."""
        while True:
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                if self._abort.is_set():
                    return False

    # -- threads ---------------------------------------------------------------------------
    def _read(self, source) -> None:
        error: Optional[UserError] = None
        try:
            for frame in source:
                if self._stop.is_set() or not self._put(self._frames, frame):
                    break
        except UserError as err:   # this source failed (a camera gave up): the others go on
            error = err
        except BaseException as err:
            self._put(self._frames, _Failure(err))
        finally:
            try:
                source.close()
            finally:
                self._put(self._frames, _End(source.source_id, error))

    def _detect(self) -> None:
        ends = 0
        pending: List[Frame] = []
        try:
            while ends < len(self.sources):
                item = self._frames.get()
                if isinstance(item, Frame):
                    pending.append(item)
                    if len(pending) < self.batch and (not self._any_live or not self._frames.empty()):
                        # files wait for a full batch (cheaper per frame); live sources take what
                        # is ready so latency stays low. A source's end flushes the batch.
                        continue
                elif isinstance(item, _End):
                    ends += 1
                if pending:
                    self._infer(pending)
                    pending = []
                if not isinstance(item, Frame):
                    if not self._put(self._results, item):
                        return
            if pending:
                self._infer(pending)
        except BaseException as err:
            self._put(self._results, _Failure(err))
        finally:
            self._put(self._results, None)

    def _infer(self, frames: List[Frame]) -> None:
        t0 = time.perf_counter()
        batch_dets = self.detector.detect(frames)
        self.stats["inference_s"] += time.perf_counter() - t0
        self.stats["inference_calls"] += 1
        self.stats["max_batch"] = max(self.stats["max_batch"], len(frames))
        for frame, dets in zip(frames, batch_dets):
            h, w = frame.image.shape[:2]
            dets, dropped = clean_detections(dets, w, h)
            self.stats["detections_dropped"] += dropped
            if self.embedder is not None and len(dets):
                t1 = time.perf_counter()
                dets.feat = self._embed(frame, dets)
                self.stats["reid_s"] += time.perf_counter() - t1
            if not self._put(self._results, (frame, dets)):
                return

    def _embed(self, frame: Frame, dets: Detections) -> np.ndarray:
        """Embeddings for the detections the tracker can use (``embed_min_score``); zero rows for
        the rest, which the trackers treat as "no appearance"."""
        need = dets.score >= self.embed_min_score
        if need.all():
            return self.embedder.embed(frame.image, dets.xyxy)
        feat = np.zeros((len(dets), self.embedder.dim), np.float32)
        if need.any():
            feat[need] = self.embedder.embed(frame.image, dets.xyxy[need])
        self.stats["embeddings_skipped"] += int((~need).sum())
        return feat

    # -- main loop -------------------------------------------------------------------------
    def __iter__(self) -> Iterator[FrameResult]:
        self._abort = threading.Event()
        self._any_live = any(getattr(s, "is_live", False) for s in self.sources)
        by_id = {s.source_id: s for s in self.sources}
        trackers = {s.source_id: self.tracker_factory(s) for s in self.sources}
        # ids stay unique per source across tracker resets: a fresh tracker's ids are shifted
        # above the highest id this source has shown
        id_base = {s.source_id: 0 for s in self.sources}
        max_id = {s.source_id: 0 for s in self.sources}
        last_time: Dict[str, float] = {}
        sinks: Dict[str, list] = {}
        threads = [threading.Thread(target=self._read, args=(s,), name=f"read-{s.source_id}", daemon=True)
                   for s in self.sources]
        threads.append(threading.Thread(target=self._detect, name="detect", daemon=True))
        for t in threads:
            t.start()
        failure: Optional[BaseException] = None
        try:
            while True:
                item = self._results.get()
                if item is None:
                    break
                if isinstance(item, _Failure):
                    failure = failure or item.error
                    self.stop()
                    continue
                if isinstance(item, _End):
                    if item.error is not None:
                        self.source_errors[item.source_id] = item.error
                        if len(self.source_errors) < len(self.sources):
                            log.warning(f"source {item.source_id} failed: {item.error}; the others go on")
                    # this source is done: finalise its files now, not at the end of the run
                    self._close_sinks(sinks.pop(item.source_id, []))
                    continue
                frame, dets = item
                source = by_id[frame.source_id]
                if getattr(source, "consume_reset", None) and source.consume_reset(frame.index):
                    trackers[frame.source_id] = self.tracker_factory(source)  # long outage: start fresh
                    id_base[frame.source_id] = max_id[frame.source_id]
                elif source.is_live and frame.source_id in last_time:
                    fps = source.fps or 25.0
                    if frame.time_s - last_time[frame.source_id] > max(STREAM_GAP_S, 5.0 / fps):
                        trackers[frame.source_id].notice_gap()    # short outage: keep the tracks
                last_time[frame.source_id] = frame.time_s
                t0 = time.perf_counter()
                tracks = trackers[frame.source_id].update(dets, frame.image)
                if id_base[frame.source_id]:
                    tracks.track_id = tracks.track_id + id_base[frame.source_id]
                if len(tracks):
                    max_id[frame.source_id] = max(max_id[frame.source_id], int(tracks.track_id.max()))
                t1 = time.perf_counter()
                self.stats["tracking_s"] += t1 - t0
                if self.sinks_factory is not None:
                    if frame.source_id not in sinks:
                        sinks[frame.source_id] = self.sinks_factory(source)
                    for sink in sinks[frame.source_id]:
                        sink.write(frame, tracks)
                self.stats["writing_s"] += time.perf_counter() - t1
                self.stats["frames"] += 1
                yield FrameResult(frame, dets, tracks, getattr(self.detector, "names", None))
        except BaseException:
            self.stop()
            raise
        finally:
            self._stop.set()
            self._abort.set()
            # unblock threads waiting on full queues, then let them finish
            for q in (self._frames, self._results):
                try:
                    while True:
                        q.get_nowait()
                except queue.Empty:
                    pass
            for t in threads:
                t.join(timeout=10)
            close_error: Optional[BaseException] = None
            for source_sinks in sinks.values():
                try:
                    self._close_sinks(source_sinks)
                except BaseException as err:
                    close_error = close_error or err
            if failure is None and close_error is not None:
                failure = close_error
        if failure is None and self.source_errors and len(self.source_errors) == len(self.sources):
            errors = list(self.source_errors.values())
            failure = errors[0] if len(errors) == 1 else UserError(
                f"every source failed: " + "; ".join(f"{sid}: {err}" for sid, err in self.source_errors.items()))
        if failure is not None:
            raise failure

    @staticmethod
    def _close_sinks(source_sinks: list) -> None:
        """Close every sink of one source; re-raise the first error after trying them all."""
        error: Optional[BaseException] = None
        for sink in source_sinks:
            try:
                sink.close()
            except BaseException as err:
                error = error or err
        if error is not None:
            raise error
