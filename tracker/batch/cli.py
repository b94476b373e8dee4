"""``track batch INPUT... --out DIR``: many videos on a Ray runtime (local, or a cluster).

    track batch recordings/ --out results/                       # every video under recordings/
    track batch 'cams/**/*.mp4' list.txt --out results/ --workers 4 --no-video
    track batch videos/ --out results/ --ray-address 10.0.0.5:6379 --gpus-per-task 0.5
    track batch clips/ --out results/ --detections '{dir}/{stem}_det.txt'   # a det file per video

Every ``track`` option passes through to each run. Exit code 0 when every input is done or
skipped, 1 when some failed (see DIR/fleet.csv), 2 for a problem with the command itself.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import List

from ..errors import UserError

log = logging.getLogger("tracker")


def build_batch_parser() -> argparse.ArgumentParser:
    from ..cli import add_track_options

    p = argparse.ArgumentParser(
        prog="track batch", conflict_handler="resolve",
        description="Track many videos in parallel on Ray: one task per video, results in DIR/<stem>/ "
                    "(the files of a 'track' run), DIR/fleet.csv and DIR/fleet.json. A rerun skips "
                    "inputs already done.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="video file, folder (searched for videos and MOT sequences), quoted glob "
                        "('videos/**/*.mp4') or manifest (.txt/.list: one path per line)")
    add_track_options(p)
    g = p.add_argument_group("batch")
    g.add_argument("--out", required=True, metavar="DIR", help="batch folder: DIR/<stem>/ per input")
    g.add_argument("--detections", metavar="TEMPLATE",
                   help="det file per input: a template with {path}, {dir}, {stem}, e.g. "
                        "'{dir}/{stem}_det.txt' or '{path}/det/det.txt' (MOT sequences)")
    g.add_argument("--workers", type=int, help="parallel videos (default: every CPU slot of the runtime)")
    g.add_argument("--ray-address", metavar="ADDR",
                   help="join this Ray cluster (HOST:PORT from 'ray start --head', or auto); "
                        "default: start a local Ray runtime on this machine")
    g.add_argument("--cpus-per-task", type=float, default=1.0,
                   help="CPUs each worker reserves, also its inference threads (default 1)")
    g.add_argument("--gpus-per-task", type=float, default=0.0,
                   help="GPUs each worker reserves, e.g. 0.5 = two workers per GPU (default 0)")
    g.add_argument("--force", action="store_true", help="redo inputs whose folder is already complete")
    return p


def _absolute(value):
    """A relative path the user named on this machine, made absolute for workers elsewhere."""
    if value and not os.path.isabs(str(value)) and os.path.exists(str(value)):
        return os.path.abspath(str(value))
    return value


def _interrupt(signum, _frame) -> None:
    raise KeyboardInterrupt


def _batch_config(args: argparse.Namespace):
    """The config every run of the batch uses (checked here, once, before Ray starts), with paths
    made absolute for workers elsewhere; and the ``--detections`` template."""
    from ..cli import _overrides_from_args
    from ..config import load_config
    from ..detectors.weights import weights_dir
    from ..trackers import make_tracker

    template = args.detections
    per_run = argparse.Namespace(**vars(args))
    per_run.detections, per_run.out = None, None   # per input
    cfg = load_config(_absolute(args.config), _overrides_from_args(per_run))
    d = cfg.detector
    d.model, d.weights_dir, cfg.reid.model = _absolute(d.model), _absolute(d.weights_dir), _absolute(cfg.reid.model)
    if cfg.tracker.name.endswith((".yaml", ".yml")):
        cfg.tracker.name = _absolute(cfg.tracker.name)
    if d.weights_dir is None and weights_dir(None) is not None:
        d.weights_dir = str(weights_dir(None))   # workers on other machines may lack the env variable
    if d.threads is None:
        d.threads = max(1, int(args.cpus_per_task))   # a worker's share of the cores, not all of them
    if template and not template.startswith("{") and not os.path.isabs(template):
        template = os.path.join(os.getcwd(), template)
    make_tracker(cfg.tracker.name, overrides=dict(cfg.tracker.params), frame_rate=30.0)  # bad tracker: exit 2 now
    return cfg, template


def main_batch(argv: List[str]) -> int:
    from .fleet import check_reachable, import_ray, lock_output, remove_leftovers, run_batch, write_fleet_json
    from .inputs import expand_inputs

    t0 = time.monotonic()
    args = build_batch_parser().parse_args(argv)
    if args.name:
        raise UserError("track batch writes DIR/<stem>/ per input: use --out DIR, not --name")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be >= 1, got {args.workers}")
    if args.cpus_per_task <= 0 or args.gpus_per_task < 0:
        raise UserError("--cpus-per-task must be > 0 and --gpus-per-task >= 0")
    import_ray()                       # before anything slow: a missing Ray or a wrong address
    if args.ray_address:               # is reported in a second
        check_reachable(args.ray_address)
    cfg, template = _batch_config(args)

    out_root = Path(args.out).resolve()
    try:
        out_root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create output folder {out_root}: {err.strerror or err}") from None
    items = expand_inputs(args.inputs, out_root)
    if not items:
        raise UserError("no inputs: pass video files, folders, globs or a manifest")
    lock = lock_output(out_root)
    previous = signal.signal(signal.SIGTERM, _interrupt)   # stop like Ctrl-C: Ray is shut down
    try:
        remove_leftovers(out_root)
        show_bar = not cfg.quiet and sys.stderr.isatty()
        result = run_batch(items, out_root, cfg, template, args.workers, args.ray_address,
                           args.cpus_per_task, args.gpus_per_task, args.force, show_bar)
        remove_leftovers(out_root)
        summary = write_fleet_json(out_root, result, time.monotonic() - t0)
    finally:
        signal.signal(signal.SIGTERM, previous)
        (out_root / ".batch.lock").unlink(missing_ok=True)
        lock.close()
    log.info(f"{summary['inputs']} inputs: {summary['done']} done, {summary['skipped']} skipped, "
             f"{summary['failed']} failed; {summary['frames']} frames at {summary['fleet_fps']} frames/s "
             f"on {summary['workers']} workers; {out_root / 'fleet.csv'}")
    return 1 if summary["failed"] else 0
