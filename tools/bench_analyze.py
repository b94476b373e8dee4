#!/usr/bin/env python
"""Memory and time of ``track analyze`` and ``track report`` on a long run's tracks.

A camera left running for a day writes millions of tracks.csv rows. This writes a synthetic run
folder (``--frames`` frames at 15 fps, ``--tracks`` boxes walking across each frame, a new set of ids
every 300 frames), then runs ``track analyze`` (one line) and ``track report`` on it in child
processes. It prints their peak resident memory and wall time, and the memory per row above a
10-frame run of the same shape (the imports and the interpreter).

    python tools/bench_analyze.py --frames 100000 --tracks 10
    python tools/bench_analyze.py --repo /tmp/old-checkout      # the same, with another checkout's code
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FPS = 15.0


def write_run(folder: Path, frames: int, tracks: int) -> int:
    """A run folder with tracks.csv and summary.json; returns the number of rows."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "tracks.csv", "w") as fh:
        fh.write("frame,time_s,track_id,class_id,class_name,x1,y1,x2,y2,score,detected\n")
        for f in range(1, frames + 1):
            t = (f - 1) / FPS
            for k in range(tracks):
                x = (f % 300) * 2 + k * 10
                fh.write(f"{f},{t:.3f},{k + tracks * (f // 300)},0,person,{x:.2f},100.00,{x + 30:.2f},200.00,"
                         "0.9000,1\n")
    (folder / "summary.json").write_text(json.dumps({"frames": frames, "source_fps": FPS, "source": "synthetic"}))
    return frames * tracks


def run(repo: Path, args: list) -> tuple:
    """(peak RSS in MiB, wall seconds) of ``track ARGS`` with ``repo``'s code, in a fresh process."""
    code = "import sys; from tracker.cli import main; sys.exit(main())"
    env = dict(os.environ, PYTHONPATH=str(repo))
    start = time.perf_counter()
    # a fresh child per measurement: ru_maxrss of RUSAGE_CHILDREN is the largest child so far, so
    # each is measured from a process of its own that waits for one child
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, sys.executable, "-c", code, *map(str, args)], env=env,
                         capture_output=True, text=True, cwd=str(repo))
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0, time.perf_counter() - start


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=100_000)
    p.add_argument("--tracks", type=int, default=10, help="boxes per frame")
    p.add_argument("--repo", type=Path, default=REPO, help="checkout whose code runs (default: this one)")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        rows = write_run(Path(tmp) / "run", a.frames, a.tracks)
        write_run(Path(tmp) / "small", 10, a.tracks)
        results = {}
        for name, folder in (("small", "small"), ("run", "run")):
            results[name, "analyze"] = run(a.repo, ["analyze", Path(tmp) / folder, "--size", "1280x720",
                                                    "--line", "a=0.25,0,0.25,1", "--out", Path(tmp) / f"an_{name}"])
            results[name, "report"] = run(a.repo, ["report", Path(tmp) / folder])
    cmd = "python tools/bench_analyze.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"Command: `{cmd}` ({rows:,} rows; code: {a.repo})\n")
    print("| command | peak RSS (MiB) | wall (s) | bytes per row above a 10-frame run |")
    print("|---|---:|---:|---:|")
    for what in ("analyze", "report"):
        rss, wall = results["run", what]
        base = results["small", what][0]
        print(f"| track {what} | {rss:.0f} | {wall:.1f} | {(rss - base) * 2**20 / rows:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
