#!/usr/bin/env python
"""GPU detector speed: torch FP16 vs TensorRT FP16, batch 1 / 8 / 32, frames/s and latency.

Real frames (people_walking.mp4 by default) go through ``YoloDetector`` exactly as ``track`` runs
it (``--device cuda --half``), once per runtime and batch size: a warm-up, then ``--repeat``
timed calls. Reported per row: frames/s (frames / median call time), median and p95 latency of
one call (the time until a whole batch's boxes are back), and the TensorRT export time (first
run; later runs reuse the cached engine).

Not run on the 2-core CPU machines (they have no GPU): see docs/benchmarks.md. ``--dry-run``
checks the arguments, reads the frames and runs one batch per size on torch on the CPU, so the
script itself is tested where no GPU is lent.

Usage:
    python tools/bench_gpu.py --model ../shared/models/yolo11n.pt [--batches 1 8 32] \
        [--runtimes torch tensorrt] [--repeat 20] [--markdown docs/benchmarks.md]
    python tools/bench_gpu.py --dry-run          # any machine, CPU only
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import List, Optional, Sequence

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout without installing

from tracker.types import Frame  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def read_frames(video: Path, n: int) -> List[Frame]:
    cap = cv2.VideoCapture(str(video))
    frames = []
    while len(frames) < n:
        ok, image = cap.read()
        if not ok:
            break
        frames.append(Frame(len(frames), len(frames) / 25, image))
    cap.release()
    if not frames:
        raise SystemExit(f"error: cannot read frames from {video}")
    return frames


def batches_of(frames: List[Frame], size: int, calls: int):
    """``calls`` batches of ``size`` frames, cycling through the frames."""
    for c in range(calls):
        start = (c * size) % len(frames)
        batch = [frames[(start + i) % len(frames)] for i in range(size)]
        yield batch


def measure(detector, frames: List[Frame], size: int, repeat: int, sync) -> dict:
    for batch in batches_of(frames, size, 2):    # warm-up (CUDA kernels, TensorRT contexts)
        detector.detect(batch)
    sync()
    times = []
    for batch in batches_of(frames, size, repeat):
        start = time.perf_counter()
        detector.detect(batch)   # returns numpy boxes: the GPU work is finished here
        sync()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    p95 = float(np.percentile(times, 95))
    return {"fps": size / median, "median_ms": median * 1000, "p95_ms": p95 * 1000}


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(SHARED / "models" / "yolo11n.pt"))
    p.add_argument("--video", type=Path, default=SHARED / "videos" / "people_walking.mp4")
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    p.add_argument("--runtimes", nargs="+", default=["torch", "tensorrt"], choices=["torch", "tensorrt"])
    p.add_argument("--repeat", type=int, default=20, help="timed calls per row")
    p.add_argument("--device", default="cuda:0")
    p.add_argument("--markdown", help="append the table to this Markdown file")
    p.add_argument("--dry-run", action="store_true",
                   help="no GPU: torch on the CPU, one call per batch size (tests the script)")
    a = p.parse_args(argv)
    if any(b < 1 for b in a.batches):
        p.error("--batches must be >= 1")
    if a.repeat < 1:
        p.error("--repeat must be >= 1")
    return a


def main(argv: Optional[Sequence[str]] = None) -> int:
    import torch

    from tracker.detectors.yolo import YoloDetector
    from tracker.errors import UserError

    a = parse_args(argv)
    if a.dry_run:
        a.device, a.runtimes, a.repeat = "cpu", ["torch"], 1
    elif not torch.cuda.is_available():
        print("error: no CUDA GPU here; run on a GPU machine, or use --dry-run", file=sys.stderr)
        return 2
    frames = read_frames(a.video, max(a.batches))
    sync = torch.cuda.synchronize if a.device.startswith("cuda") else (lambda: None)
    gpu = torch.cuda.get_device_name(0) if a.device.startswith("cuda") else "none (dry run, CPU)"
    rows = []
    for runtime in a.runtimes:
        for size in a.batches:
            try:   # one detector per batch size: a TensorRT engine is built for its batch
                det = YoloDetector(a.model, imgsz=a.imgsz, device=a.device, half=a.device != "cpu",
                                   runtime=runtime, batch=size)
            except UserError as err:
                print(f"error: {err}", file=sys.stderr)
                return 2
            start = time.perf_counter()
            det.detect(frames[:1])               # TensorRT: the export happens here (or the cache)
            first_s = time.perf_counter() - start
            if det.runtime != runtime:
                print(f"{runtime}: not available here (ran {det.runtime}); row skipped", file=sys.stderr)
                break
            r = measure(det, frames, size, a.repeat, sync)
            rows.append((runtime, size, r, det.export_s, first_s))
            print(f"{runtime:9s} batch {size:3d}: {r['fps']:8.1f} frames/s  median {r['median_ms']:7.1f} ms  "
                  f"p95 {r['p95_ms']:7.1f} ms", flush=True)
    cmd = "python tools/bench_gpu.py " + " ".join(argv if argv is not None else sys.argv[1:])
    table = [f"Command: `{cmd}` (GPU: {gpu}; {Path(a.model).name}, imgsz {a.imgsz}, FP16, "
             f"{a.repeat} timed calls per row)", "",
             "| runtime | batch | frames/s | median latency (ms) | p95 latency (ms) | export (s, first run) |",
             "|---|---:|---:|---:|---:|---:|"]
    for runtime, size, r, export_s, _ in rows:
        export = f"{export_s:.1f}" if export_s else "-"
        table.append(f"| {runtime} | {size} | {r['fps']:.1f} | {r['median_ms']:.1f} | {r['p95_ms']:.1f} | {export} |")
    print("\n".join(table))
    if a.markdown:
        with open(a.markdown, "a") as fh:
            fh.write("\n".join(table) + "\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
