#!/usr/bin/env python
"""Measure ReID embedding throughput: a batch of 32 real person crops, ONNX Runtime vs torch vs
OpenVINO (the same .onnx file).

Crops are MOT17-04 ground-truth people from one 1920x1080 frame. For each embedder the batch is
embedded ``--repeat`` times after a warm-up; the median and best time per batch are reported, plus the
cost of cutting the crops out of the frame (cv2 per-crop resize, which the embedders use, vs
torchvision ``roi_align`` on the whole frame). Prints a Markdown table for docs/benchmarks.md.

Example:
    OMP_NUM_THREADS=1 python tools/bench_reid.py --threads 1
    python tools/bench_reid.py --threads 2 --device cuda --half     # on a GPU machine
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from tracker.boxes import tlwh_to_xyxy  # noqa: E402
from tracker.reid import load_embedder  # noqa: E402
from tracker.reid.crops import crop_boxes, to_network_input  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def timings_ms(fn: Callable[[], object], repeat: int, warmup: int = 2) -> Tuple[float, float]:
    """(median, best) wall time of ``fn`` in ms. The best run is the least disturbed by other
    processes on a shared machine; the median is what a loaded machine gives."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), min(times)


def person_boxes(seq: Path, n: int):
    """The first frame of ``seq`` with n gt person boxes (repeating boxes if it has fewer)."""
    gt = np.loadtxt(seq / "gt" / "gt.txt", delimiter=",")
    g = gt[(gt[:, 0] == 1) & (gt[:, 6] == 1) & (gt[:, 7] == 1)]
    boxes = tlwh_to_xyxy(g[:, 2:6])
    return cv2.imread(str(seq / "img1" / "000001.jpg")), boxes[np.arange(n) % len(boxes)]


def roi_align_crops(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The alternative to cv2 crops: roi_align on the whole frame as a float tensor."""
    from torchvision.ops import roi_align

    x = torch.from_numpy(image).permute(2, 0, 1)[None].float()
    rois = torch.from_numpy(np.concatenate([np.zeros((len(boxes), 1)), boxes], 1)).float()
    return roi_align(x, rois, (256, 128), sampling_ratio=2, aligned=True).numpy()


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=[str(SHARED / "models" / "osnet_x0_25_msmt17.onnx"),
                                                   str(SHARED / "models" / "osnet_x0_25_msmt17.pth")],
                   help="ReID models to compare (anything load_embedder accepts)")
    p.add_argument("--seq", type=Path, default=SHARED / "data" / "MOT17-mini" / "train" / "MOT17-04-FRCNN")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--threads", type=int, default=1, help="torch and ONNX Runtime CPU threads")
    p.add_argument("--device", default="cpu")
    p.add_argument("--half", action="store_true", help="float16 for torch models (GPU only)")
    p.add_argument("--no-openvino", dest="openvino", action="store_false",
                   help="skip the OpenVINO rows (the .onnx models run by OpenVINO)")
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # OnnxEmbedder reads it for its session
    image, boxes = person_boxes(args.seq, args.batch)
    crops, _ = crop_boxes(image, boxes)
    rows: List[str] = [
        f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
        f"{args.threads} thread(s); device {args.device}; batch {args.batch} crops 256x128 "
        f"from a {image.shape[1]}x{image.shape[0]} frame; {args.repeat} runs",
        "",
        "| step | median ms / batch | best ms / batch | crops / s (best) |",
        "|---|---:|---:|---:|",
    ]

    def row(name: str, ms: Tuple[float, float]) -> None:
        rows.append(f"| {name} | {ms[0]:.1f} | {ms[1]:.1f} | {args.batch * 1000 / ms[1]:.0f} |")

    row("crops: cv2 resize per box (used)", timings_ms(lambda: crop_boxes(image, boxes), args.repeat))
    row("crops: roi_align on the frame tensor", timings_ms(lambda: roi_align_crops(image, boxes), args.repeat))
    row("normalise to network input", timings_ms(lambda: to_network_input(crops), args.repeat))
    embedders = [load_embedder(spec, device=args.device, half=args.half) for spec in args.models]
    if args.device == "cpu" and args.openvino:   # the same .onnx files on OpenVINO
        from tracker.reid.openvino import OpenVinoEmbedder

        embedders += [OpenVinoEmbedder(spec, threads=args.threads) for spec in args.models
                      if spec.endswith(".onnx")]
    for emb in embedders:
        row(f"embed: {emb.name}", timings_ms(lambda: emb.embed_crops(crops), args.repeat))
        row(f"crop + embed: {emb.name}", timings_ms(lambda: emb.embed(image, boxes), args.repeat))
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
