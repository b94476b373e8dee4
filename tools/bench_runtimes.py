#!/usr/bin/env python
"""Detector-only speed and box parity of each runtime against torch, on real frames.

For yolo11n on ``--frames`` frames of people_walking.mp4 (768x432, 16:9): torch (ultralytics,
rectangular letterbox 384x640), ONNX Runtime and OpenVINO at the rectangular export 384x640,
OpenVINO at a 640x640 square export (what ``yolo export format=openvino`` makes), and OpenVINO
in bf16 (its default on CPUs with bf16 units, which we override). Each row: median ms per frame
(one frame per call, after a warm-up; the median of ``--rounds`` passes over the frames, rows
alternating), and against torch's boxes: matched boxes, the lowest IoU of a match, the largest
score difference and unmatched boxes (either side).

Usage:
    python tools/bench_runtimes.py [--frames 40] [--rounds 3] [--model ../shared/models/yolo11n.pt]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout without installing

from tracker.boxes import iou_matrix  # noqa: E402
from tracker.trackers.matching import linear_assignment  # noqa: E402
from tracker.types import Frame  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def parity(reference, other) -> dict:
    matched, worst_iou, worst_score, unmatched = 0, 1.0, 0.0, 0
    for a, b in zip(reference, other):
        iou = iou_matrix(a.xyxy, b.xyxy)
        pairs, free_a, free_b = linear_assignment(1 - iou, max_cost=0.5)
        unmatched += len(free_a) + len(free_b)
        if len(pairs):
            matched += len(pairs)
            worst_iou = min(worst_iou, float(iou[pairs[:, 0], pairs[:, 1]].min()))
            worst_score = max(worst_score, float(np.abs(a.score[pairs[:, 0]] - b.score[pairs[:, 1]]).max()))
    return {"matched": matched, "min_iou": worst_iou, "max_dscore": worst_score, "unmatched": unmatched}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(SHARED / "models" / "yolo11n.pt"))
    p.add_argument("--video", default=str(SHARED / "videos" / "people_walking.mp4"))
    p.add_argument("--frames", type=int, default=40)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args(argv)
    os.environ.setdefault("TRACKER_CACHE_DIR", tempfile.mkdtemp(prefix="bench_runtimes_"))
    from tracker.detectors.export import exported_model
    from tracker.detectors.yolo import YoloDetector

    cap = cv2.VideoCapture(a.video)
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    frames = []
    for index in np.linspace(0, total - 1, a.frames).astype(int):
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(index))
        ok, image = cap.read()
        if ok:
            frames.append(Frame(len(frames), 0.0, image))
    cap.release()
    weights = Path(a.model)
    square = exported_model(weights, "openvino", (640, 640))[0]
    detectors = {
        "torch (384x640 letterbox)": YoloDetector(a.model, device="cpu", runtime="torch"),
        "ONNX Runtime FP32, 384x640 export": YoloDetector(a.model, device="cpu", runtime="onnx"),
        "OpenVINO FP32, 384x640 export (ours)": YoloDetector(a.model, device="cpu", runtime="openvino"),
        "OpenVINO FP32, 640x640 export": YoloDetector(str(square), device="cpu"),
        "OpenVINO bf16 (its CPU default), 384x640": YoloDetector(a.model, device="cpu", runtime="openvino"),
    }
    bf16 = detectors["OpenVINO bf16 (its CPU default), 384x640"]
    bf16._pending_export = False
    bf16._export(frames[0].image.shape[:2])
    # undo the FP32 hint: compile again with OpenVINO's defaults
    import openvino as ov

    backend = getattr(bf16.model.predictor.model, "backend", bf16.model.predictor.model)
    core = ov.Core()
    backend.ov_compiled_model = core.compile_model(
        core.read_model(str(next(Path(bf16.model.ckpt_path).glob("*.xml")))), "CPU",
        {"PERFORMANCE_HINT": "LATENCY"})
    boxes = {name: [det.detect([f])[0] for f in frames] for name, det in detectors.items()}  # + warm-up
    times = {name: [] for name in detectors}
    for _ in range(a.rounds):
        for name, det in detectors.items():
            start = time.perf_counter()
            for f in frames:
                det.detect([f])
            times[name].append((time.perf_counter() - start) * 1000 / len(frames))
    reference = boxes["torch (384x640 letterbox)"]
    cmd = "python tools/bench_runtimes.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = [f"Command: `{cmd}` ({len(frames)} frames of {Path(a.video).name}, {a.rounds} alternating "
             "rounds, median ms per frame; parity against torch's boxes)", "",
             "| runtime | ms / frame | vs torch | matched boxes | min IoU | max score diff | unmatched |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    torch_ms = statistics.median(times["torch (384x640 letterbox)"])
    for name in detectors:
        ms = statistics.median(times[name])
        q = parity(reference, boxes[name])
        lines.append(f"| {name} | {ms:.1f} | {torch_ms / ms:.2f}x | {q['matched']} | {q['min_iou']:.3f} | "
                     f"{q['max_dscore']:.3f} | {q['unmatched']} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
