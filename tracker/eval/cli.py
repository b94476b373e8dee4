"""``track eval``: run a tracker on MOTChallenge sequences and score it with TrackEval.

    track eval DATA_ROOT [--tracker NAME|YAML] [--detections public|model] [--features DIR]
               [--out DIR] [--interpolate] [--set key=value ...]

For every folder with a ``seqinfo.ini`` under DATA_ROOT: read detections (``det/det.txt``, the
``--features DIR/<seq>.npy`` rows with embeddings, or run the detector on ``img1/``), track them
frame by frame, write ``OUT/<seq>.txt`` and, where ``gt/gt.txt`` exists, print and save
HOTA/MOTA/IDF1/IDSW per sequence and combined (``OUT/scores.csv``, ``OUT/scores.json``).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import numpy as np

from ..errors import UserError
from ..types import Detections
from .metrics import combine_sequences, evaluate_sequence, summary
from ..formats.mot import (format_mot_rows, is_mot_sequence, read_det_file, read_feature_file,
                     read_mot_results, read_seqinfo)

COLUMNS = ("HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW", "FP", "FN")


def find_sequences(root) -> List[Path]:
    """MOTChallenge sequence folders at or below ``root`` (sorted by name)."""
    root = Path(root)
    if not root.exists():
        raise UserError(f"data root not found: {root}")
    if is_mot_sequence(root):
        return [root]
    seqs = sorted({Path(d) for d, _, files in os.walk(root) if "seqinfo.ini" in files}, key=lambda p: p.name)
    if not seqs:
        raise UserError(f"no MOTChallenge sequences (folders with seqinfo.ini) under {root}")
    return seqs


def parse_overrides(pairs: Iterable[str]) -> Dict[str, str]:
    """``["track_buffer=60", "tracker.nsa=true"]`` -> ``{"track_buffer": "60", "nsa": "true"}``."""
    out = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set expects key=value, got {pair!r}")
        key = key.strip()
        if key.startswith("tracker."):
            key = key[len("tracker."):]
        out[key] = value.strip()
    return out


def score_sequences(pairs: Dict[str, tuple]) -> Dict[str, Dict[str, float]]:
    """``{seq: (gt_rows, result_rows, num_frames)}`` -> ``{seq | "COMBINED": summary}``."""
    per_seq = {seq: evaluate_sequence(gt, res, n) for seq, (gt, res, n) in pairs.items()}
    table = {seq: summary(r) for seq, r in per_seq.items()}
    if per_seq:
        table["COMBINED"] = summary(combine_sequences(per_seq))
    return table


def format_table(table: Dict[str, Dict[str, float]]) -> str:
    lines = [f"{'sequence':<22}" + "".join(f"{c:>9}" for c in COLUMNS)]
    for seq, row in table.items():
        cells = "".join(f"{row[c]:>9.2f}" if isinstance(row[c], float) else f"{row[c]:>9d}" for c in COLUMNS)
        lines.append(f"{seq:<22}{cells}")
    return "\n".join(lines)


def save_table(table: Dict[str, Dict[str, float]], out_dir: Path, extra: Optional[dict] = None) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    keys = list(next(iter(table.values())).keys()) if table else list(COLUMNS)
    with open(out_dir / "scores.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sequence"] + keys)
        for seq, row in table.items():
            writer.writerow([seq] + [row[k] for k in keys])
    (out_dir / "scores.json").write_text(json.dumps({"scores": table, **(extra or {})}, indent=2))


def read_gt(seq_dir: Path) -> Optional[np.ndarray]:
    gt = seq_dir / "gt" / "gt.txt"
    return read_mot_results(gt) if gt.is_file() else None


def track_sequence(tracker, dets_by_frame: Dict[int, Detections], num_frames: int, images=None
                   ) -> tuple[np.ndarray, float, np.ndarray]:
    """Run ``tracker`` over frames 1..num_frames (``images(frame)`` gives its image, if known).

    Returns (MOT result rows, tracking seconds, per row: True when matched to a detection,
    False for a predicted box).
    """
    tracker.reset()
    lines: List[str] = []
    observed: List[np.ndarray] = []
    spent = 0.0
    empty = Detections.empty()
    for frame in range(1, num_frames + 1):
        dets = dets_by_frame.get(frame, empty)
        image = images(frame) if images is not None else None
        start = time.perf_counter()
        tracks = tracker.update(dets, image=image)
        spent += time.perf_counter() - start
        lines.append(format_mot_rows(frame, tracks))
        observed.append(tracks.det_index >= 0)
    text = "".join(lines)
    rows = np.array([l.split(",") for l in text.splitlines()], np.float64) if text else np.zeros((0, 10))
    return rows.reshape(-1, 10), spent, np.concatenate(observed) if observed else np.zeros(0, bool)


def _image_reader(seq_dir: Path, info):
    """Frame number -> BGR image from ``img1/`` (for camera-motion compensation), or None if absent."""
    folder = seq_dir / info.im_dir
    if not folder.is_dir():
        return None
    import cv2

    return lambda frame: cv2.imread(str(folder / f"{frame:06d}{info.im_ext}"))


def _model_detections(seq_dir: Path, info, model: str, device: Optional[str]) -> Dict[int, Detections]:
    """Run the project's detector on ``img1/`` (lazy import: needs the detectors package)."""
    try:
        import cv2
        from ..detectors import make_detector
        from ..types import Frame
    except ImportError as err:
        raise UserError(f"--detections model needs the detector package ({err}); use --detections public") from None
    detector = make_detector(model=model, device=device, classes="person")
    out = {}
    for frame in range(1, info.length + 1):
        path = seq_dir / info.im_dir / f"{frame:06d}{info.im_ext}"
        image = cv2.imread(str(path))
        if image is None:
            raise UserError(f"cannot read image {path} (--detections model needs the sequence's frames)")
        out[frame] = detector.detect([Frame(frame - 1, (frame - 1) / info.fps, image)])[0]
    return out


def build_parser() -> argparse.ArgumentParser:
    from ..trackers import DEFAULT_TRACKER
    p = argparse.ArgumentParser(prog="track eval", description="Run a tracker on MOTChallenge sequences "
                                "and score it with TrackEval (HOTA, MOTA, IDF1).")
    p.add_argument("data_root", help="a MOTChallenge sequence folder or a folder containing them")
    p.add_argument("--tracker", default=DEFAULT_TRACKER, help=f"tracker name or YAML (default {DEFAULT_TRACKER})")
    p.add_argument("--detections", choices=("public", "model"), default="public",
                   help="public: each sequence's det/det.txt; model: run the detector on img1/")
    p.add_argument("--features", help="folder of <seq>.npy rows frame,-1,x,y,w,h,score,f1..fD "
                   "(detections with embeddings); sequences without a file are skipped")
    p.add_argument("--model", default="yolo11n.pt", help="detector weights for --detections model")
    p.add_argument("--device", default=None, help="detector device for --detections model")
    p.add_argument("--out", help="output folder (default runs/eval/<tracker>)")
    p.add_argument("--interpolate", action="store_true", help="offline: fill gaps of finished tracks")
    p.add_argument("--interpolate-method", choices=("linear", "gaussian"), default="gaussian",
                   help="linear, or linear then Gaussian smoothing of each track (default)")
    p.add_argument("--max-gap", type=int, default=30, help="longest gap (frames) --interpolate fills")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a tracker option, e.g. --set track_buffer=60 (repeatable)")
    p.add_argument("--no-images", action="store_true",
                   help="do not give the tracker the img1/ frames (no camera-motion compensation)")
    p.add_argument("--quiet", action="store_true", help="print only the combined line")
    return p


def main_eval(argv: List[str]) -> int:
    """Entry point of ``track eval``; returns the exit code (UserError propagates to the CLI)."""
    from ..trackers import load_tracker_config
    from ..trackers.interpolate import interpolate_tracks

    args = build_parser().parse_args(argv)
    overrides = parse_overrides(args.overrides)
    tracker_cls, config = load_tracker_config(args.tracker, overrides)  # fail early on bad names
    out_dir = Path(args.out or Path("runs") / "eval" / Path(str(args.tracker)).stem)
    out_dir.mkdir(parents=True, exist_ok=True)
    feature_dir = Path(args.features) if args.features else None
    if feature_dir is not None and not feature_dir.is_dir():
        raise UserError(f"features folder not found: {feature_dir}")

    pairs, seconds, frames = {}, 0.0, 0
    for seq_dir in find_sequences(args.data_root):
        info = read_seqinfo(seq_dir)
        if feature_dir is not None:
            npy = feature_dir / f"{seq_dir.name}.npy"
            if not npy.is_file():
                print(f"{seq_dir.name}: skipped (no {npy.name} in {feature_dir})")
                continue
            dets = read_feature_file(npy)
        elif args.detections == "public":
            dets = read_det_file(seq_dir / "det" / "det.txt", max_frame=info.length or None)
        else:
            dets = _model_detections(seq_dir, info, args.model, args.device)
        length = info.length or max(dets, default=0)
        tracker = tracker_cls(config, frame_rate=info.fps)
        images = None if args.no_images else _image_reader(seq_dir, info)
        rows, spent, observed = track_sequence(tracker, dets, length, images)
        seconds, frames = seconds + spent, frames + length
        if args.interpolate:
            rows = interpolate_tracks(rows, max_gap=args.max_gap, method=args.interpolate_method,
                                      observed=observed)
        with open(out_dir / f"{seq_dir.name}.txt", "w") as fh:
            fh.writelines(f"{int(r[0])},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},{r[6]:.4f},-1,-1,-1\n"
                          for r in rows)
        gt = read_gt(seq_dir)
        if gt is not None:
            pairs[seq_dir.name] = (gt, rows, length)
    if frames == 0:
        raise UserError(f"no sequences to evaluate under {args.data_root}")
    ms = 1000 * seconds / frames
    if pairs:
        table = score_sequences(pairs)
        text = format_table(table)
        print(text if not args.quiet else text.splitlines()[-1])
        save_table(table, out_dir, {"tracker": str(args.tracker), "overrides": overrides,
                                    "interpolate": args.interpolate, "tracker_ms_per_frame": ms})
    print(f"tracker time: {ms:.3f} ms/frame")
    print(f"results: {out_dir}")
    return 0
