"""The ``track`` command.

    track SOURCE [SOURCE ...] [options]     run detection + tracking (the default command)
    track eval DATA_ROOT [options]          score a tracker (or --results of any) on MOT sequences
    track tune DATA_ROOT --tracker NAME     search a tracker's parameters (cross-validated by sequence)
    track export-reid ...                   export a ReID embedder to ONNX
    track batch INPUT... --out DIR          many videos on a Ray cluster (tracker/batch)
    track analyze TRACKS --line ...         count lines/zones on an existing tracks file or run folder
    track report RUN_DIR                    write RUN_DIR/report.html (video, plots, counts)

Exit codes: 0 done; 2 an error a user can cause (one line, ``error: ...``, on stderr), also when
every source failed; 3 some sources failed (e.g. one camera gave up) while the others ran to the
end (each failure is a ``source N failed: ...`` line and ``"status": "failed"`` in summary.json);
130 a second Ctrl-C. SIGINT/SIGTERM stop reading in every state (also while a stream is
connecting or waiting to reconnect); frames already read are finished, every file is finalised.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from typing import List, Optional

from .analytics.cli import add_analytics_args, analytics_overrides
from .errors import UserError
from .sources.urls import CredentialMaskingFilter, install_log_masking, mask_url

log = logging.getLogger("tracker")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="track",
        description="Detect and track objects in videos, image folders, MOT sequences and live streams. "
                    "Subcommands: 'track eval DATA_ROOT' (MOT metrics), 'track tune DATA_ROOT' "
                    "(parameter search), 'track batch INPUT... --out DIR' (many videos on Ray), "
                    "'track analyze TRACKS' (count lines/zones again), 'track report RUN_DIR' (HTML report), "
                    "'track export-reid' (ONNX export).",
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE",
                   help="video file, image folder, MOTChallenge sequence, rtsp/http URL, webcam index, "
                        "or a .streams file")
    add_track_options(p)
    return p


def add_track_options(p: argparse.ArgumentParser) -> None:
    """Every option of a ``track`` run (also taken by ``track batch``, which passes them through)."""
    g = p.add_argument_group("detector")
    g.add_argument("--detector", choices=["yolo", "fcos", "precomputed"], help="detector kind (default yolo)")
    g.add_argument("--model", help="model path or name (default yolo11n.pt); found in --weights-dir first")
    g.add_argument("--weights-dir", help="folder with local weights (or env TRACKER_WEIGHTS_DIR)")
    g.add_argument("--detections", metavar="DET_TXT", help="MOTChallenge det file: skip the detector")
    g.add_argument("--imgsz", type=int)
    g.add_argument("--conf", type=float, help="detection confidence threshold")
    g.add_argument("--iou", type=float, help="NMS IoU threshold")
    g.add_argument("--classes", help="class names or ids to keep, e.g. person,car or 0,2")
    g.add_argument("--device", help="cpu, cuda, cuda:N (default: GPU when available)")
    g.add_argument("--half", action="store_true", default=None, help="FP16 inference (default on a GPU)")
    g.add_argument("--runtime", choices=["auto", "torch", "onnx", "openvino", "tensorrt"],
                   help="inference runtime (default auto: OpenVINO on x86 CPUs, TensorRT on NVIDIA GPUs "
                        "when installed, else torch); .pt models are exported once and cached")
    g.add_argument("--batch", type=int, help="frames per inference call")
    g = p.add_argument_group("tracker")
    g.add_argument("--tracker", help="tracker name or YAML path (see configs/trackers/)")
    g.add_argument("--reid", metavar="MODEL", help="ReID model (.onnx/.pth or name) for appearance matching")
    g = p.add_argument_group("source")
    g.add_argument("--max-frames", type=int, help="stop after N frames")
    g.add_argument("--vid-stride", type=int, help="read every N-th frame")
    g.add_argument("--fps", type=float, help="frame rate of image folders (default 30)")
    g.add_argument("--realtime", dest="realtime", action="store_true", default=None,
                   help="drop frames to stay real-time (default for live streams)")
    g.add_argument("--no-realtime", dest="realtime", action="store_false", help="never drop frames")
    g = p.add_argument_group("output")
    g.add_argument("--out", help="output folder (default runs/track/expN)")
    g.add_argument("--name", help="run name under runs/track/")
    g.add_argument("--no-video", action="store_true", help="skip the annotated video")
    g.add_argument("--trails", type=int, help="draw the last N positions of each track")
    g.add_argument("--video-codec", choices=["h264", "mp4v"],
                   help="annotated video codec (default h264; mp4v when no H.264 encoder exists)")
    g.add_argument("--segment", help="rotate outputs every e.g. 10m, 1h or 500MB (streams)")
    g = p.add_argument_group("analytics (see 'track analyze -h')")
    add_analytics_args(g)
    g = p.add_argument_group("config")
    g.add_argument("--config", help="YAML config file (see configs/default.yaml)")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config key, e.g. --set tracker.track_buffer=60 (repeatable)")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.add_argument("--print-config", nargs="?", const="", metavar="TRACKER",
                   help="print the effective config (with every tracker parameter) as YAML and exit; "
                        "with a tracker name, print that tracker's commented YAML, to copy and edit")


def print_config(args: argparse.Namespace) -> int:
    """``--print-config``: the effective config, ready for ``--config``; ``--print-config NAME``:
    the tracker's own YAML (with its comments), ready for ``--tracker FILE``."""
    import dataclasses

    import yaml

    from .config import CONFIG_DIR, load_config
    from .trackers.registry import CONFIG_DIR as TRACKER_DIR, TRACKER_NAMES, load_tracker_config

    if args.print_config:
        name = args.print_config.lower()
        if name not in TRACKER_NAMES:
            raise UserError(f"--print-config {args.print_config}: unknown tracker; choose one of "
                            f"{', '.join(TRACKER_NAMES)}")
        sys.stdout.write(f"# {TRACKER_DIR / (name + '.yaml')}\n" + (TRACKER_DIR / f"{name}.yaml").read_text())
        return 0
    cfg = load_config(args.config, _overrides_from_args(args))
    _, tracker_cfg = load_tracker_config(cfg.tracker.name, cfg.tracker.params)
    data = cfg.to_dict()
    data["tracker"] = {"name": cfg.tracker.name, **dataclasses.asdict(tracker_cfg)}
    sys.stdout.write(f"# effective config of track; pass an edited copy with --config FILE\n"
                     f"# every key is documented in {CONFIG_DIR / 'default.yaml'} and {TRACKER_DIR}/\n"
                     + yaml.safe_dump(data, sort_keys=False))
    return 0


def _overrides_from_args(a: argparse.Namespace) -> List[str]:
    """CLI flags as ``section.key=value`` overrides, applied after --config and before --set."""
    mapping = {
        "detector": "detector.name", "model": "detector.model", "weights_dir": "detector.weights_dir",
        "detections": "detector.detections", "imgsz": "detector.imgsz", "conf": "detector.conf",
        "iou": "detector.iou", "classes": "detector.classes", "device": "detector.device",
        "half": "detector.half", "runtime": "detector.runtime", "video_codec": "output.video_codec",
        "batch": "detector.batch", "tracker": "tracker.name",
        "reid": "reid.model", "max_frames": "source.max_frames", "vid_stride": "source.vid_stride",
        "fps": "source.fps", "realtime": "source.realtime", "out": "output.dir", "name": "output.name",
        "trails": "output.trails", "segment": "output.segment",
    }
    out = []
    for attr, key in mapping.items():
        value = getattr(a, attr)
        if value is not None:
            out.append(f"{key}={_yaml_scalar(value)}")
    out += analytics_overrides(a)
    if a.no_video:
        out.append("output.video=false")
    if a.quiet:
        out.append("quiet=true")
    return out + list(a.set)


def _yaml_scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # quote so YAML keeps e.g. "0" or "person,car" as text where a string is expected
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("track: %(message)s"))
    handler.addFilter(CredentialMaskingFilter())
    install_log_masking()
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    log.setLevel(logging.INFO)


STATUS_EVERY_S = 30.0
EXIT_SOME_FAILED = 3   # some sources failed, the others ran to the end


def _stream_status(sources) -> str:
    from .sources.stream import stats_line

    return stats_line(sources)


def _mask(text: str) -> str:
    return mask_url(text)


def run_track(argv: List[str], detector=None) -> int:
    from .config import load_config
    from .run import Run

    args = build_parser().parse_args(argv)
    if args.print_config is not None:
        return print_config(args)
    cfg = load_config(args.config, _overrides_from_args(args))
    if detector is not None:
        from .api import as_detector
        detector = as_detector(detector, cfg.detector)
    run = Run(args.sources, cfg, save=True, detector=detector)

    received = []

    def on_signal(signum, _frame):
        if received:   # a second Ctrl-C means "now": leave through KeyboardInterrupt, files still close
            raise KeyboardInterrupt
        received.append(signum)
        run.stop()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    show_progress = not cfg.quiet and sys.stderr.isatty()
    bar = None
    if show_progress:
        from tqdm import tqdm
        try:
            columns, lines = os.get_terminal_size(sys.stderr.fileno())
        except OSError:
            columns, lines = 0, 0
        # a terminal that reports a 0x0 size (e.g. a bare pty) would make tqdm print nothing
        bar = tqdm(total=run.total_frames, unit="frame", ncols=columns if columns >= 40 else 100,
                   nrows=lines if lines > 0 else 24, file=sys.stderr,
                   desc=_mask(", ".join(s.name for s in run.sources))[:40])
    live = any(s.is_live for s in run.sources)
    last_status = time.monotonic()
    try:
        for n, _result in enumerate(run, 1):
            if bar is not None:
                bar.update(1)
                if n % 10 == 0:
                    status = f"{bar.format_dict.get('rate') or 0:.1f} fps"
                    if live:
                        status += " | " + _stream_status(run.sources)
                    bar.set_postfix_str(status)
            elif live and not cfg.quiet and time.monotonic() - last_status > STATUS_EVERY_S:
                # no terminal (a service, a log file): a periodic status line instead of a bar
                log.info(f"{n} frames | {_stream_status(run.sources)}")
                last_status = time.monotonic()
    finally:
        if bar is not None:
            bar.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    frames = sum(o.frames for o in run.outputs.values())
    if received:
        log.info(f"stopped by {signal.Signals(received[0]).name} after {frames} frames; "
                 f"outputs are complete up to the last frame: {run.out_dir}")
    else:
        log.info(f"{frames} frames tracked; results in {run.out_dir}")
    if run.embedder is not None and frames:
        stats = run.pipeline.stats
        log.info(f"ReID cost: {1000 * stats['reid_s'] / frames:.1f} ms/frame "
                 f"(detector {1000 * stats['inference_s'] / frames:.1f} ms/frame)")
    if run.failed_sources:
        log.warning(f"{len(run.failed_sources)} of {len(run.sources)} sources failed "
                    f"({', '.join(run.failed_sources)}); see summary.json; exit code {EXIT_SOME_FAILED}")
        return EXIT_SOME_FAILED
    return 0


def main(argv: Optional[List[str]] = None, detector=None) -> int:
    """Entry point of the ``track`` command; returns the exit code when given ``argv``.

    ``detector``: your own detector for a run started from Python, e.g.
    ``main(["video.mp4", "--out", "o"], detector=MyDetector())`` (see ``tracker.api.as_detector``).
    """
    from_console = argv is None
    code = _main(list(sys.argv[1:] if argv is None else argv), detector)
    if from_console:
        # Every file is closed and flushed by now. Skipping the interpreter's teardown avoids a
        # measured ~150 MB, ~0.5 s spike while torch's native libraries unload.
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            code = _stdout_closed()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(code)
    return code


def _main(argv: List[str], detector=None) -> int:
    os.environ.setdefault("YOLO_VERBOSE", "False")   # we print our own progress
    _setup_logging()
    try:
        if argv and argv[0] == "eval":
            from .eval.cli import main_eval
            return main_eval(argv[1:])
        if argv and argv[0] == "tune":
            from .tune.cli import main_tune
            return main_tune(argv[1:])
        if argv and argv[0] in ("analyze", "report"):
            from .analytics.cli import main_analyze, main_report
            return (main_analyze if argv[0] == "analyze" else main_report)(argv[1:])
        if argv and argv[0] == "export-reid":
            from .reid.export import main_export
            return main_export(argv[1:])
        if argv and argv[0] == "batch":
            from .batch.cli import main_batch
            return main_batch(argv[1:])
        if argv and argv[0] == "run":
            argv = argv[1:]
        return run_track(argv, detector)
    except UserError as err:
        print(f"error: {_mask(str(err))}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _stdout_closed()
    except OSError as err:
        # disk full, output folder removed mid-run, ...: what was written so far is complete
        where = f" ({_mask(err.filename)})" if getattr(err, "filename", None) else ""
        print(f"error: {err.strerror or err}{where}; files written so far are valid up to the last "
              "finished frame", file=sys.stderr)
        return 2


def _stdout_closed() -> int:
    """The reader of our stdout went away (``track eval ... | head -1``): stop quietly, as Unix tools
    do (exit status 128 + SIGPIPE, no message). Files are written before anything is printed."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())   # so the final flush cannot fail again
    except (OSError, ValueError):
        pass
    return 128 + signal.SIGPIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
