#!/usr/bin/env python
"""CPU cost of the annotated video: the video sink's drawing + encoding, per frame, per encoder setting.

On a 2-core machine every millisecond the video thread spends is taken from inference, so what counts
is CPU time (all threads of the process), not wall time. Each setting writes the same frames of a real
video through ``tracker.sinks.video.VideoSink`` (the sink ``track`` uses), with boxes drawn on every
frame (a fixed grid of 20 tracks, so drawing is included), alternating over ``--rounds``.

    python tools/bench_video_sink.py ../shared/videos/people_walking.mp4 --frames 300 --rounds 2
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from tracker.sinks import video  # noqa: E402
from tracker.types import Frame, Tracks  # noqa: E402

# (label, codec, x264 preset, encoder threads); the last H.264 row is the default
SETTINGS = [
    ("mp4v (OpenCV, what `yolo track` writes)", "mp4v", None, None),
    ("H.264 veryfast, threads auto", "h264", "veryfast", 0),
    ("H.264 superfast, 1 thread", "h264", "superfast", 1),
    ("H.264 ultrafast, threads auto", "h264", "ultrafast", 0),
    ("H.264 ultrafast, 1 thread", "h264", "ultrafast", 1),
]


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def read_frames(path: str, count: int) -> list:
    cap = cv2.VideoCapture(path)
    frames = []
    while len(frames) < count:
        ok, image = cap.read()
        if not ok:
            break
        frames.append(image)
    cap.release()
    if not frames:
        sys.exit(f"error: cannot read frames from {path}")
    return frames


def grid_tracks(width: int, height: int, n: int = 20) -> Tracks:
    """n boxes spread over the frame (as a busy scene has), ids 1..n."""
    cols = 5
    xs = (np.arange(n) % cols) * width / cols + width * 0.05
    ys = (np.arange(n) // cols) * height / (n // cols) + height * 0.05
    xyxy = np.stack([xs, ys, xs + width * 0.1, ys + height * 0.15], axis=1)
    return Tracks(xyxy, np.arange(1, n + 1), np.full(n, 0.9), np.zeros(n, np.int64), np.arange(n))


def run_setting(frames: list, codec: str, preset, threads, out: Path) -> tuple:
    if preset is not None:
        video.X264_PRESET, video.X264_THREADS = preset, threads
    tracks = grid_tracks(frames[0].shape[1], frames[0].shape[0])
    sink = video.VideoSink(out, fps=25, names={0: "person"}, codec=codec)
    start = cpu_s()
    for i, image in enumerate(frames):
        sink.write(Frame(i, i / 25, image), tracks)
    sink.close()
    ms = (cpu_s() - start) / len(frames) * 1000
    return ms, os.path.getsize(sink.path) / len(frames) / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("video")
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    frames = read_frames(args.video, args.frames)
    default = (video.X264_PRESET, video.X264_THREADS)
    results = {label: [] for label, *_ in SETTINGS}
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for label, codec, preset, threads in SETTINGS:
                ms, kib = run_setting(frames, codec, preset, threads, Path(tmp) / "out.mp4")
                results[label].append(ms)
                sizes[label] = kib
    video.X264_PRESET, video.X264_THREADS = default
    h, w = frames[0].shape[:2]
    print(f"Command: `python tools/bench_video_sink.py {args.video} --frames {args.frames} "
          f"--rounds {args.rounds}` ({len(frames)} frames {w}x{h}, 20 boxes drawn per frame, "
          f"median of {args.rounds} alternating rounds; default: {default[0]}, {default[1]} thread)\n")
    print("| setting | CPU ms / frame (draw + encode) | KiB / frame |")
    print("|---|---:|---:|")
    for label, *_ in SETTINGS:
        print(f"| {label} | {statistics.median(results[label]):.2f} | {sizes[label]:.1f} |")


if __name__ == "__main__":
    main()
