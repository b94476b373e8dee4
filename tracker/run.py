"""Assemble a run from a config: sources, detector, embedder, trackers, output files, summary.

This is what both the ``track`` command and ``tracker.track()`` use, so the CLI and the Python
API behave the same.
"""
from __future__ import annotations

import json
import logging
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np

from .config import Config, save_config
from .errors import UserError
from .pipeline import FrameResult, Pipeline
from .sinks import BackgroundSink, CsvSink, MotSink, VideoSink
from .sinks.segments import parse_segment
from .sources.urls import is_stream_url, safe_name, safe_stem  # no credentials in file names

log = logging.getLogger("tracker")

SUMMARY_EVERY_S = 30.0


def is_stream_spec(spec: str) -> bool:
    """True for camera URLs, webcam indexes ("0") and ``.streams`` list files."""
    return is_stream_url(spec) or str(spec).lower().endswith(".streams")


def open_sources(specs: Sequence[str], cfg: Config) -> list:
    """Open every source named on the command line (files and/or streams)."""
    if not specs:
        raise UserError("no source given: pass a video file, image folder, MOT sequence or stream URL")
    if len(specs) == 1 and not isinstance(specs[0], str):   # a Source built by the caller (tracker.api)
        specs[0].source_id = "0"
        return [specs[0]]
    sources = []
    stream_specs = [s for s in specs if is_stream_spec(s)]
    file_specs = [s for s in specs if not is_stream_spec(s)]
    if stream_specs:
        from .sources.stream import open_streams

        sources.extend(open_streams(stream_specs, cfg))
    from .sources.file import open_file_source

    for spec in file_specs:
        sources.append(open_file_source(spec, max_frames=cfg.source.max_frames,
                                        vid_stride=cfg.source.vid_stride, fps=cfg.source.fps))
    if len(sources) == 1:
        sources[0].source_id = "0"
        return sources
    # several sources: streams keep the ids open_streams gave them (from a .streams file or their
    # position); files are named after themselves. Ids name the per-source output folders.
    seen = set()
    for i, source in enumerate(sources):
        from_streams = i < len(sources) - len(file_specs)
        sid = str(source.source_id) if from_streams else safe_name(source.name)
        if sid in seen:
            sid = f"{sid}_{i}"
        source.source_id = sid
        seen.add(sid)
    return sources


def check_det_files(n_sources: int, detections: Optional[str]) -> List[str]:
    """The det files of ``--detections``: none, or exactly one per source (a det file's frame numbers
    belong to one source, so one file is never applied to several)."""
    from .detectors.precomputed import split_det_files

    files = split_det_files(detections)
    if files and n_sources and len(files) != n_sources:   # no source at all: open_sources says so
        raise UserError(f"--detections gives {len(files)} det file(s) for {n_sources} sources: a det file "
                        "holds the detections of one source; give one per source, in the order of the "
                        "sources (--detections a.txt,b.txt)")
    return files


def source_length(source, cfg: Config) -> Optional[int]:
    """Frames of a file source as a det file numbers them (None: unknown, live, or strided)."""
    if source.is_live or cfg.source.max_frames is not None or cfg.source.vid_stride != 1:
        return None
    return getattr(source, "frame_count", None) or None


def per_source_detections(sources: list, det_files: List[str], cfg: Config):
    """One det file per source, ``det_files[i]`` for ``sources[i]``."""
    from .detectors.precomputed import PerSourceDetections, PrecomputedDetector

    return PerSourceDetections({
        str(source.source_id): PrecomputedDetector(path, max_frame=source_length(source, cfg),
                                                   classes=cfg.detector.classes)
        for source, path in zip(sources, det_files)})


def next_run_dir(project: str, name: str) -> Path:
    """``runs/track/exp``, then ``exp2``, ``exp3``, ... (like ultralytics)."""
    base = Path(project)
    candidate = base / name
    n = 2
    while candidate.exists():
        candidate = base / f"{name}{n}"
        n += 1
    return candidate


def prepare_dir(path: Path) -> Path:
    """Create ``path`` and prove it is writable, or fail with one clear line."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write_test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise UserError(f"cannot write to output directory {path}: {err.strerror or err}") from None
    return path


class SourceOutputs:
    """The files of one source (video, CSV, MOT txt), rotated into segments when asked, plus the
    running counts for its summary."""

    def __init__(self, source, out_dir: Path, cfg: Config, names: Dict[int, str], analytics=None) -> None:
        self.source = source
        self.dir = prepare_dir(out_dir)
        # lines/zones (tracker/analytics): one set of files for the whole run, not rotated
        self.analytics = analytics.sink(self.dir, names) if analytics is not None else None
        self.cfg = cfg
        self.names = names
        self.segment = parse_segment(cfg.output.segment)
        self.sinks: list = []
        self.video: Optional[VideoSink] = None
        self.paths: Dict[str, str] = {}
        self.segments: List[Dict[str, str]] = []
        self.segment_start: Optional[float] = None
        self.frames = 0
        # id -> the track's class (trackers keep one class per track, by majority vote): one small
        # int pair per id, the only state that grows with the number of ids on an endless stream
        self.class_of_id: Dict[int, int] = {}
        if self.segment is None:
            self._open("")

    def _open(self, suffix: str) -> None:
        cfg, source = self.cfg, self.source
        paths: Dict[str, str] = {}
        if cfg.output.csv:
            self.sinks.append(CsvSink(self.dir / f"tracks{suffix}.csv", self.names))
            paths["csv"] = str(self.dir / f"tracks{suffix}.csv")
        if cfg.output.mot:
            self.sinks.append(MotSink(self.dir / f"tracks{suffix}.txt"))
            paths["mot"] = str(self.dir / f"tracks{suffix}.txt")
        if cfg.output.video:
            fps = source.fps / (cfg.source.vid_stride if not source.is_live else 1) if source.fps else 30.0
            self.video = VideoSink(self.dir / f"{safe_stem(source.name)}{suffix}.mp4", fps, self.names,
                                   cfg.output.trails, codec=cfg.output.video_codec)
            if self.analytics is not None:
                self.video.overlay = self.analytics.overlay
            self.sinks.append(BackgroundSink(self.video))
            paths["video"] = str(self.video.path)
        self.paths = paths
        if suffix:
            self.segments.append(paths)

    def _close_sinks(self) -> None:
        error = None
        for sink in self.sinks:
            try:
                sink.close()
            except BaseException as err:
                error = error or err
        self.sinks = []
        if self.video is not None:
            self.paths["video"] = str(self.video.path)   # the writer may have fallen back to .avi
        if error is not None:
            raise error

    def _segment_full(self, frame) -> bool:
        kind, limit = self.segment
        if kind == "time":
            return frame.time_s - self.segment_start >= limit
        if self.frames % 25:
            return False    # checking file sizes every frame would cost a stat() per file
        return sum(Path(p).stat().st_size for p in self.paths.values() if Path(p).exists()) >= limit

    def write(self, frame, tracks) -> None:
        if self.segment is not None and (self.segment_start is None or self._segment_full(frame)):
            self._close_sinks()
            self._open(f"_{len(self.segments) + 1:04d}")
            self.segment_start = frame.time_s
        if self.analytics is not None:   # first: the video overlay draws this frame's counters
            self.analytics.write(frame, tracks)
        for sink in self.sinks:
            sink.write(frame, tracks)
        self.frames += 1
        self.class_of_id.update(zip(tracks.track_id.tolist(), tracks.cls.tolist()))

    def close(self) -> None:
        try:
            self._close_sinks()
        finally:
            if self.analytics is not None:
                self.analytics.close()

    def output_paths(self) -> dict:
        if self.segment is None:
            return dict(self.paths)
        return {"segments": list(self.segments)}

    def unique_tracks(self) -> Dict[str, int]:
        per_class: Dict[str, int] = defaultdict(int)
        for cls in self.class_of_id.values():
            per_class[self.names.get(cls, str(cls))] += 1
        return dict(sorted(per_class.items()))


class Run:
    """One tracking run: build it from a config, iterate it for per-frame results.

    Args:
        sources: source specs (paths, URLs, webcam indexes).
        cfg: the effective configuration.
        save: write outputs (video, CSV, MOT, summary) into ``out_dir``.
        detector: a ready detector (``detect(frames) -> list[Detections]`` and ``names``) to use
            instead of the one the config names (``track batch`` loads one per worker and reuses it).
    """

    def __init__(self, sources: Sequence[str], cfg: Config, save: bool = True, detector=None) -> None:
        from .detectors import make_detector
        from .trackers import make_tracker

        self.cfg = cfg
        parse_segment(cfg.output.segment)   # a bad --segment fails before anything is opened
        from .analytics import AnalyticsSetup

        self.analytics = AnalyticsSetup.from_config(cfg.analytics)   # so does a bad --line / --zone
        d = cfg.detector
        from_list = any(str(s).lower().endswith(".streams") for s in sources)
        det_files = check_det_files(len(sources), d.detections) if not from_list else []
        self.sources = open_sources(sources, cfg)
        if from_list and d.detections:   # a .streams file: its sources are known once it is read
            try:
                det_files = check_det_files(len(self.sources), d.detections)
            except UserError:
                for source in self.sources:
                    source.close()
                raise
        if detector is not None:   # a worker's or a user's detector, loaded once
            self.detector = detector
        elif len(det_files) > 1:
            if not from_list:   # open_sources puts streams before files: pair the det files the same way
                det_files = [det_files[i] for i, s in enumerate(sources) if is_stream_spec(s)] + \
                            [det_files[i] for i, s in enumerate(sources) if not is_stream_spec(s)]
            self.detector = per_source_detections(self.sources, det_files, cfg)
        else:
            self.detector = make_detector(d.name, d.model, d.detections, d.imgsz, d.conf, d.iou, d.classes,
                                          d.device, d.half, d.weights_dir, threads=d.threads,
                                          max_frame=source_length(self.sources[0], cfg) if det_files else None,
                                          runtime=d.runtime, batch=d.batch)
        self.embedder = None
        if cfg.reid.model:
            from .reid import load_embedder

            self.embedder = load_embedder(cfg.reid.model, device=cfg.reid.device or d.device or "cpu",
                                          half=cfg.reid.half, runtime=cfg.reid.runtime)
        # fail on a bad tracker name/parameter now, before any file is written
        # a run with lines/zones may set tracker keys for counting (summary.json "analytics" says which)
        self.tracker_params = tracker_params = self.analytics.tracker_params(cfg.tracker.name, cfg.tracker.params)
        probe = make_tracker(cfg.tracker.name, overrides=tracker_params, frame_rate=30.0)
        embed_min_score = probe.embedding_min_score()
        if self.embedder is not None and embed_min_score is None:
            log.warning(f"tracker '{cfg.tracker.name}' does not use appearance: --reid is ignored "
                        "(use botsort or deepsort)")
            self.embedder = None
        self.out_dir: Optional[Path] = None
        self.outputs: Dict[str, SourceOutputs] = {}
        self._made_out_dir = False   # this run created out_dir (so may remove it if nothing came)
        if save:
            o = cfg.output
            target = Path(o.dir) if o.dir else next_run_dir(o.project, o.name)
            self._made_out_dir = not target.exists()
            self.out_dir = prepare_dir(target)
            save_config(cfg, self.out_dir / "config.yaml")
        # several sources share one detector: batch one frame of each per call
        batch = max(d.batch, len(self.sources))

        def tracker_for(source):
            fps = source.fps / (cfg.source.vid_stride if not source.is_live else 1) if source.fps else 30.0
            return make_tracker(cfg.tracker.name, overrides=tracker_params, frame_rate=fps)

        self.pipeline = Pipeline(self.sources, self.detector, tracker_for, embedder=self.embedder,
                                 batch=batch, sinks_factory=self._sinks_for if save else None,
                                 embed_min_score=embed_min_score if embed_min_score is not None else 0.0)
        self.started = time.time()
        self.finished: Optional[float] = None

    def _sinks_for(self, source) -> list:
        sub = self.out_dir if len(self.sources) == 1 else self.out_dir / source.source_id
        outputs = SourceOutputs(source, sub, self.cfg, self.detector.names, self.analytics)
        self.outputs[source.source_id] = outputs
        return [outputs]

    def stop(self) -> None:
        self.pipeline.stop()

    def __iter__(self) -> Iterator[FrameResult]:
        self.started = time.time()
        last_summary = time.monotonic()
        try:
            for result in self.pipeline:
                yield result
                if self.out_dir is not None and time.monotonic() - last_summary > SUMMARY_EVERY_S:
                    # long runs: a current summary.json exists even if the process is killed
                    self.write_summaries()
                    last_summary = time.monotonic()
        except BaseException as err:
            self.finished = time.time()
            if self.out_dir is not None and isinstance(err, UserError) and self._nothing_came():
                self._remove_empty_out_dir()   # no source ever delivered a frame: leave no empty run
            elif self.out_dir is not None:
                try:
                    self.write_summaries()
                except OSError:
                    pass   # report what stopped the run (disk full, folder removed), not the summary
            raise
        else:
            self.finished = time.time()
            if self.out_dir is not None:
                self.write_summaries()

    def _nothing_came(self) -> bool:
        return not self.pipeline.stopped_early and not any(o.frames for o in self.outputs.values())

    def _remove_empty_out_dir(self) -> None:
        """Remove the run folder this run created when it holds only its own config.yaml."""
        if not self._made_out_dir:
            return
        try:
            (self.out_dir / "config.yaml").unlink(missing_ok=True)
            self.out_dir.rmdir()   # fails (and keeps the folder) if anything else is in it
        except OSError:
            pass

    def source_status(self, source) -> dict:
        """``{"status": ...}`` of one source: ``finished`` (ended by itself), ``stopped`` (a stop
        request) or ``failed`` (with ``"error"``: why, e.g. a camera that gave up)."""
        error = self.pipeline.source_errors.get(source.source_id)
        if error is not None:
            return {"status": "failed", "error": str(error)}
        if self.finished is None:
            return {"status": "running"}
        return {"status": "stopped" if self.pipeline.stopped_early else "finished"}

    @property
    def failed_sources(self) -> Dict[str, str]:
        """``{source id: error}`` of the sources that failed while others ran on."""
        return {sid: str(err) for sid, err in self.pipeline.source_errors.items()}

    @property
    def total_frames(self) -> Optional[int]:
        counts = [getattr(s, "frame_count", None) for s in self.sources]
        return None if any(c is None for c in counts) else int(sum(counts))

    def summary_for(self, source, outputs: Optional[SourceOutputs]) -> dict:
        run_time = (self.finished or time.time()) - self.started
        frames = outputs.frames if outputs else 0
        stats = dict(self.pipeline.stats)
        summary = {
            "source": source.name,
            "frames": frames,
            "source_fps": round(float(source.fps or 0.0), 3),
            "processing_fps": round(frames / run_time, 2) if run_time > 0 else 0.0,
            "run_time_s": round(run_time, 2),
            "unique_tracks": sum((outputs.unique_tracks() if outputs else {}).values()),
            "unique_tracks_per_class": outputs.unique_tracks() if outputs else {},
            "stopped_early": self.pipeline.stopped_early,
            **self.source_status(source),
            "detections_dropped": stats.pop("detections_dropped"),
            "embeddings_skipped": stats.pop("embeddings_skipped"),
            # one detector serves every source: how many calls, and the most frames in one call
            "detector_calls": {"calls": stats.pop("inference_calls"), "max_frames_per_call": stats.pop("max_batch")},
            "timing_s": {k: round(v, 3) for k, v in stats.items() if k.endswith("_s")},
            "detector": self.detector_info(source),
            "outputs": outputs.output_paths() if outputs else {},
            "options": self.cfg.to_dict(),
        }
        if outputs is not None and outputs.analytics is not None:
            summary["analytics"] = {**outputs.analytics.summary(), "tracker_params": self.tracker_params}
        if self.embedder is not None and frames:
            summary["reid_ms_per_frame"] = round(1000 * stats["reid_s"] / max(frames, 1), 2)
        if hasattr(source, "stats"):
            summary["stream"] = dict(source.stats) if isinstance(source.stats, dict) else source.stats
        return summary

    def detector_info(self, source) -> dict:
        """What produced the boxes: ``{"name": "precomputed", "detections": "det.txt"}`` or the model."""
        name = getattr(self.detector, "name", None) or self.cfg.detector.name
        if name == "precomputed":
            det = getattr(self.detector, "by_source", {}).get(str(source.source_id), self.detector)
            return {"name": name, "detections": str(det.path), "class_column": det.has_class_column}
        return {"name": name, "model": getattr(self.detector, "model_name", None)}

    def write_summaries(self) -> None:
        for source in self.sources:
            outputs = self.outputs.get(source.source_id)
            target = (self.out_dir if len(self.sources) == 1 else self.out_dir / source.source_id)
            if outputs is None and not target.exists():
                continue
            write_json_atomic(target / "summary.json", self.summary_for(source, outputs))
        if len(self.sources) > 1:
            write_json_atomic(self.out_dir / "summary.json", {
                "sources": {s.source_id: self.summary_for(s, self.outputs.get(s.source_id))
                            for s in self.sources}})


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON via a temporary file and rename, so a reader never sees half a file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2, default=_json_default))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)
