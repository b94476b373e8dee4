"""Benchmark ``track batch`` (Ray) against a shell for-loop of ``track`` on N short clips.

    flock /tmp/heavy.lock python tools/bench_batch.py ../shared/videos/people_walking.mp4 \\
        --clips 8 --frames 60 --model ../shared/models/yolo11n.pt --imgsz 320

Cuts ``--clips`` clips of ``--frames`` frames from the video, then runs, as a user would, each as a
subprocess timed from start to exit:
- ``loop``: ``for f in clips/*.mp4; do track $f --out loop/<stem>; done`` (each process loads the model)
- ``loop -P2``: the same loop two at a time (``xargs -P 2``), the shell's own parallelism
- ``batch wN``: ``track batch clips --out DIR --workers N`` for each N in ``--workers`` (a local Ray
  runtime started by the command; each worker loads the model once)
Prints a Markdown table: wall time, frames/s over all clips, Ray start-up and the time from starting
the workers to their first frames (both from fleet.json).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

TRACK = str(Path(sys.executable).parent / "track")


def make_clips(video: str, out: Path, clips: int, frames: int) -> int:
    cap = cv2.VideoCapture(video)
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    out.mkdir(parents=True)
    total = 0
    for c in range(clips):
        writer = cv2.VideoWriter(str(out / f"clip{c + 1:02d}.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        for _ in range(frames):
            ok, image = cap.read()
            if not ok:
                break
            writer.write(image)
            total += 1
        writer.release()
    return total


def timed(cmd, env, shell=False) -> float:
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, shell=shell, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {cmd}\n{proc.stderr[-2000:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video")
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--model", default="yolo11n.pt")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    env = dict(os.environ, RAY_TMPDIR=tempfile.mkdtemp(prefix="rayb", dir="/tmp"))
    try:
        frames = make_clips(args.video, work / "clips", args.clips, args.frames)
        opts = f"--model {args.model} --imgsz {args.imgsz} --no-video --quiet"
        runs = {"loop": f"for f in {work}/clips/*.mp4; do {TRACK} \"$f\" --out {work}/loop/$(basename \"$f\" .mp4) {opts}; done",
                "loop -P2": f"ls {work}/clips/*.mp4 | xargs -P 2 -I{{}} sh -c '{TRACK} \"{{}}\" --out {work}/loopp/$(basename \"{{}}\" .mp4) {opts}'"}
        for n in [int(x) for x in args.workers.split(",")]:
            runs[f"batch w{n}"] = (f"{TRACK} batch {work}/clips --out {work}/batch{n} --workers {n} "
                                   f"--cpus-per-task {max(1, (os.cpu_count() or 1) // n)} {opts}")
        results = {name: [] for name in runs}
        startup = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, cmd in runs.items():
                for d in ("loop", "loopp", *[f"batch{n}" for n in args.workers.split(",")]):
                    shutil.rmtree(work / d, ignore_errors=True)
                results[name].append(timed(cmd, env, shell=True))
                if name.startswith("batch"):
                    fleet = json.loads((work / f"batch{name.split('w')[1]}" / "fleet.json").read_text())
                    assert fleet["done"] == args.clips, fleet
                    startup[name].append((fleet["ray_start_s"], fleet["first_frames_s"] or 0.0))
        best_loop = min(results["loop"])
        print(f"{args.clips} clips x {args.frames} frames ({frames} frames), {args.model} imgsz {args.imgsz}, "
              f"--no-video, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
              f"best of {args.rounds}")
        print("| command | wall s | frames/s | vs loop | Ray start s | workers to first frames s |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, walls in results.items():
            wall = min(walls)
            ray_s = " | ".join(f"{v:.1f}" for v in min(startup[name])) if startup[name] else " | "
            print(f"| {name} | {wall:.1f} | {frames / wall:.1f} | {best_loop / wall:.2f}x | {ray_s} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(env["RAY_TMPDIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
