#!/usr/bin/env python
"""End-to-end speed and memory: our `track` vs ultralytics `yolo track`, same model, same video.

Both commands run as subprocesses, alternating (ours, peer, ours, peer, ...) so that load on the
shared machine affects both alike. For each run we record wall time (process start to exit, model
loading included for both), frames/s = frames / wall time, and the peak resident memory of the
process tree (sampled every 20 ms with psutil). Both save an annotated video.

Usage:
    python tools/bench_pipeline.py ../shared/videos/people_walking.mp4 \
        --model ../shared/models/yolo11n.pt --rounds 2 [--markdown docs/benchmarks.md]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import psutil

BIN = Path(sys.executable).parent


def run_measured(cmd, env) -> tuple:
    """Run ``cmd``; return (wall seconds, peak RSS of the process tree in MiB, return code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            rss = root.memory_info().rss + sum(c.memory_info().rss for c in root.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        print(f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{err[-2000:]}", file=sys.stderr)
    return wall, peak / 2**20, proc.returncode


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("video")
    p.add_argument("--model", default="yolo11n.pt")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--tracker", default=None, help="our tracker (default: the configured default)")
    p.add_argument("--peer-tracker", default="bytetrack.yaml", help="ultralytics tracker YAML")
    p.add_argument("--ours-args", default="", help="extra arguments for `track`, e.g. '--batch 4'")
    p.add_argument("--markdown", help="append the result table to this Markdown file")
    a = p.parse_args(argv)

    cap = cv2.VideoCapture(a.video)
    frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    env = dict(os.environ, YOLO_VERBOSE="False")
    work = Path(tempfile.mkdtemp(prefix="bench_pipeline_"))
    ours_cmd = [str(BIN / "track"), a.video, "--model", a.model, "--quiet", "--out", str(work / "ours")]
    if a.tracker:
        ours_cmd += ["--tracker", a.tracker]
    ours_cmd += a.ours_args.split()
    peer_cmd = [str(BIN / "yolo"), "track", f"model={a.model}", f"source={a.video}", "save=True",
                f"tracker={a.peer_tracker}", f"project={work}", "name=peer", "exist_ok=True", "verbose=False"]
    results = {"track": [], "yolo track": []}
    for r in range(a.rounds):
        for name, cmd in (("track", ours_cmd), ("yolo track", peer_cmd)):
            shutil.rmtree(work / ("ours" if name == "track" else "peer"), ignore_errors=True)
            wall, peak, rc = run_measured(cmd, env)
            if rc != 0:
                return 1
            results[name].append((wall, peak))
            print(f"round {r + 1} {name:10s}: {wall:7.1f} s  {frames / wall:6.2f} fps  peak {peak:7.0f} MiB",
                  flush=True)
    shutil.rmtree(work, ignore_errors=True)

    def fps(name):
        return statistics.median(frames / w for w, _ in results[name])

    def peak(name):
        return max(m for _, m in results[name])

    ratio_fps = fps("track") / fps("yolo track")
    ratio_mem = peak("track") / peak("yolo track")
    cmd_line = "python tools/bench_pipeline.py " + " ".join(argv if argv is not None else sys.argv[1:])
    table = [
        f"Command: `{cmd_line}` ({frames} frames, {a.rounds} alternating rounds, median fps, max peak RSS)",
        "",
        "| pipeline | frames/s | peak memory (MiB) |",
        "|---|---:|---:|",
        f"| `track` (ours) | {fps('track'):.2f} | {peak('track'):.0f} |",
        f"| `yolo track` (ultralytics, save=True) | {fps('yolo track'):.2f} | {peak('yolo track'):.0f} |",
        f"| **ratio ours / peer** | **{ratio_fps:.2f}×** | **{ratio_mem:.2f}×** |",
        "",
    ]
    print("\n".join(table))
    if a.markdown:
        with open(a.markdown, "a") as fh:
            fh.write("\n".join(table) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
