"""Command-line parts of analytics: ``--line/--zone/--count-bin`` for ``track`` and the ``track analyze``
and ``track report`` subcommands.

    track video.mp4 --line door=0.5,0,0.5,1 --zone desk=100,100,300,100,300,250,100,250
    track analyze runs/track/exp --line door=0.4,0,0.4,1 --out runs/analyze/door
    track report runs/track/exp
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import List


def add_analytics_args(group) -> None:
    group.add_argument("--line", action="append", metavar="NAME=x1,y1,x2,y2",
                       help="counting line (repeatable); pixels, or fractions of the frame when all values "
                            "are <= 1; 'in' = from the left of P1->P2 to its right as seen in the image")
    group.add_argument("--zone", action="append", metavar="NAME=x1,y1,x2,y2,x3,y3,...",
                       help="polygon zone (repeatable): enter/exit events, dwell time, occupancy")
    group.add_argument("--count-bin", metavar="DURATION", help="time bins of counts.csv, e.g. 60s, 5m, 1h")


def analytics_overrides(args: argparse.Namespace) -> List[str]:
    """``--line`` / ``--zone`` / ``--count-bin`` as config overrides (YAML flow lists)."""
    out = []
    if args.line:
        out.append(f"analytics.lines={json.dumps(list(args.line))}")
    if args.zone:
        out.append(f"analytics.zones={json.dumps(list(args.zone))}")
    if args.count_bin:
        out.append(f"analytics.count_bin={json.dumps(str(args.count_bin))}")
    return out


def _parse_size(text: str):
    from ..errors import UserError

    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w > 0 and h > 0:
            return w, h
    except ValueError:
        pass
    raise UserError(f"--size expects WIDTHxHEIGHT, e.g. 1920x1080, got {text!r}")


def main_analyze(argv: List[str]) -> int:
    from ..config import load_config
    from ..run import next_run_dir
    from . import AnalyticsSetup
    from .analyze import analyze, load_tracks

    p = argparse.ArgumentParser(prog="track analyze",
                                description="Count lines and zones on existing tracks (tracks.csv, tracks.txt or "
                                            "a run folder) without tracking again.")
    p.add_argument("tracks", metavar="TRACKS", help="tracks.csv, tracks.txt or a run folder")
    add_analytics_args(p)
    p.add_argument("--out", help="output folder (default runs/analyze/expN)")
    p.add_argument("--fps", type=float, help="frame rate (default: the run's summary.json, tracks.csv times, or 30)")
    p.add_argument("--size", help="frame size WIDTHxHEIGHT for fractional coordinates (default: from the run)")
    p.add_argument("--config", help="YAML config whose analytics: section is used (see configs/default.yaml)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key, e.g. --set analytics.margin=0.2")
    args = p.parse_args(argv)
    cfg = load_config(args.config, analytics_overrides(args) + list(args.set))
    setup = AnalyticsSetup.from_config(cfg.analytics)
    if not setup.lines and not setup.zones:
        from ..errors import UserError
        raise UserError("nothing to count: give at least one --line or --zone")
    frames, meta = load_tracks(args.tracks, args.fps)
    if args.size:
        meta["frame_size"] = _parse_size(args.size)
    meta["tracks"] = args.tracks
    out = Path(args.out) if args.out else next_run_dir("runs/analyze", "exp")
    if any((out / name).is_file() for name in ("tracks.csv", "tracks.txt")):
        from ..errors import UserError
        # its summary.json and events.jsonl are the run's own record: recounting must not replace them
        raise UserError(f"--out {out} holds a tracking run (tracks.csv / tracks.txt); analyze would overwrite "
                        "its summary.json and events.jsonl: choose another folder")
    totals = analyze(frames, setup, out, meta)
    for name, t in totals["lines"].items():
        print(f"{name}: in {t['in']}  out {t['out']}")
    for name, t in totals["zones"].items():
        print(f"{name}: entered {t['enter']}  max occupancy {t['max_occupancy']}  mean dwell {t['mean_dwell_s']} s")
    print(f"results in {out}")
    return 0


def main_report(argv: List[str]) -> int:
    from .report import write_report

    p = argparse.ArgumentParser(prog="track report",
                                description="Write RUN_DIR/report.html: one offline page with the run's summary, "
                                            "its video, plots, counts and slowest frames.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder of 'track' (or of 'track analyze')")
    p.add_argument("--embed-video", action="store_true",
                   help="put the video inside report.html (one file to send; large) instead of beside it")
    args = p.parse_args(argv)
    path = write_report(Path(args.run_dir), embed_video=args.embed_video)
    print(f"report: {path}")
    return 0
