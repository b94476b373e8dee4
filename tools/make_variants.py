#!/usr/bin/env python
"""Robustness variants of MOTChallenge sequences: "does my tracker hold up if my camera moves or my
detector is worse?"

    python tools/make_variants.py ../shared/data/MOT17-dev /work/variants            # every family
    python tools/make_variants.py SRC OUT --families pan shake fps2 --seed 1
    python tools/bench_trackers.py ../shared/data/MOT17-dev /work/variants       # then compare, per family

From every sequence under SRC with ``gt/gt.txt`` and ``det/det.txt`` it writes, for each family,
``OUT/<family>/<sequence>-<family>/`` — a complete MOTChallenge sequence (``seqinfo.ini``, ``gt/``,
``det/``; no images). Everything is drawn from ``numpy.random.default_rng`` seeded by ``--seed``, the
family and the sequence name, so the same command writes the same files byte for byte.

Families (:data:`FAMILIES`):
  camera motion — one smooth per-frame similarity (scale about the image centre + translation) applied
  to gt and det alike, as if the camera had moved; boxes are clipped to the image and dropped when
  less than ``MIN_VISIBLE`` of them stays inside (gt visibility is scaled by the part left inside):
    ``pan``      sinusoidal horizontal + slower vertical pan (peak ~10 px/frame at 1080p, 30 fps);
    ``zoom``     slow zoom in and out (scale 0.75-1.33);
    ``shake``    hand-held shake: smoothed random translation and scale jitter, jerks of a few percent;
    ``forward``  a vehicle driving forward: zoom about a point near the horizon growing 1 -> 1.6,
                 with a slight sway;
  frame rate — ``fps2`` / ``fps3``: every 2nd / 3rd frame kept, frames renumbered, ``frameRate`` and
  ``seqLength`` updated;
  detector — on the public detections unless stated:
    ``misses``   detections dropped in bursts (a per-object two-state chain), more often the more
                 the matched gt object is occluded (gt visibility);
    ``score``    scores recalibrated (``s**2 * 0.9``) plus Gaussian noise (sd 0.1);
    ``jitter``   box centre noise 5% and size noise 5% of the box size;
    ``fp``       false positives: 15% more boxes per frame at random places, sizes like the real ones;
    ``strong``   a "strong modern detector" made from gt: recall ``--strong-recall`` (lower for occluded
                 objects), precision ``--strong-precision``, 3% jitter, calibrated scores.
"""
from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path
from typing import Callable, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker.boxes import iou_matrix, tlwh_to_xyxy  # noqa: E402
from tracker.formats.mot import (SeqInfo, parse_det_rows, read_mot_results, read_seqinfo,  # noqa: E402
                                 write_mot_rows, write_seqinfo)

MIN_VISIBLE = 0.5  # a box with less than this fraction of its area inside the image is dropped
CAMERA_FAMILIES = ("pan", "zoom", "shake", "forward")
RATE_FAMILIES = ("fps2", "fps3")
DETECTOR_FAMILIES = ("misses", "score", "jitter", "fp", "strong")
FAMILIES = CAMERA_FAMILIES + RATE_FAMILIES + DETECTOR_FAMILIES


# -- camera motion: per-frame similarity (scale s about the image centre, then translation) -----------
def camera_path(family: str, n: int, fps: float, width: int, height: int, rng: np.random.Generator
                ) -> np.ndarray:
    """(n, 3) per frame ``[scale, tx, ty]``; frame 1 is the identity-ish start of a smooth path."""
    t = np.arange(n) / fps  # seconds
    one, zero = np.ones(n), np.zeros(n)
    if family == "pan":
        period = rng.uniform(8, 12)
        tx = 0.2 * width * np.sin(2 * np.pi * t / period)
        ty = 0.05 * height * np.sin(2 * np.pi * t / (1.7 * period))
        return np.stack([one, tx, ty], 1)
    if family == "zoom":
        period = rng.uniform(8, 12)
        return np.stack([np.exp(0.285 * np.sin(2 * np.pi * t / period)), zero, zero], 1)
    if family == "shake":
        def smooth_noise(sd: float, span: int) -> np.ndarray:
            kernel = np.exp(-0.5 * (np.arange(-3 * span, 3 * span + 1) / span) ** 2)
            walk = np.convolve(rng.normal(0, 1, n + 6 * span), kernel / np.sqrt((kernel ** 2).sum()), "valid")
            return sd * walk[:n]
        span = max(1, int(round(fps / 10)))  # ~0.1 s: hand tremor
        tx = smooth_noise(0.02 * width, span)
        ty = smooth_noise(0.02 * height, span)
        scale = np.exp(smooth_noise(0.02, span))
        return np.stack([scale, tx, ty], 1)
    if family == "forward":
        # zoom about a focus of expansion above the centre (the horizon): x' = s (x - f) + f
        scale = 1.0 + 0.6 * t / max(t[-1], 1e-9)
        fx, fy = width / 2, 0.4 * height
        sway = 0.01 * width * np.sin(2 * np.pi * t / rng.uniform(3, 5))
        cx, cy = width / 2, height / 2
        # express as scale about the image centre + translation
        tx = (1 - scale) * (fx - cx) + sway
        ty = (1 - scale) * (fy - cy)
        return np.stack([scale, tx, ty], 1)
    raise ValueError(family)


def move_boxes(rows: np.ndarray, path: np.ndarray, width: int, height: int, vis_col: Optional[int]
               ) -> np.ndarray:
    """Apply each row's frame transform to its tlwh box (cols 2-5); clip to the image, drop rows with
    less than ``MIN_VISIBLE`` inside; scale the visibility column (gt) by the part left inside."""
    if len(rows) == 0:
        return rows
    rows = rows.copy()
    s, tx, ty = path[rows[:, 0].astype(int) - 1].T
    cx, cy = width / 2, height / 2
    x1 = s * (rows[:, 2] - cx) + cx + tx
    y1 = s * (rows[:, 3] - cy) + cy + ty
    w, h = s * rows[:, 4], s * rows[:, 5]
    cx1, cy1 = np.clip(x1, 0, width), np.clip(y1, 0, height)
    cx2, cy2 = np.clip(x1 + w, 0, width), np.clip(y1 + h, 0, height)
    inside = np.clip(cx2 - cx1, 0, None) * np.clip(cy2 - cy1, 0, None) / np.maximum(w * h, 1e-9)
    rows[:, 2], rows[:, 3], rows[:, 4], rows[:, 5] = cx1, cy1, cx2 - cx1, cy2 - cy1
    if vis_col is not None and rows.shape[1] > vis_col:
        rows[:, vis_col] = np.clip(rows[:, vis_col] * inside, 0, 1)
    keep = (inside >= MIN_VISIBLE) & (rows[:, 4] >= 1) & (rows[:, 5] >= 1)
    return rows[keep]


# -- detector changes ------------------------------------------------------------------------------
def _gt_people(gt: np.ndarray) -> np.ndarray:
    """Rows of gt that count in MOT17 evaluation: considered (col 6 == 1), class pedestrian (1)."""
    ok = gt[:, 6] == 1
    if gt.shape[1] > 7:
        ok &= gt[:, 7] == 1
    return gt[ok]


def _match_gt(det: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per det row: index of the gt row of the same frame it overlaps most (IoU >= 0.5) or -1, and
    that gt row's visibility (1 where unmatched)."""
    idx = np.full(len(det), -1, np.int64)
    for f in np.unique(det[:, 0]):
        d = np.flatnonzero(det[:, 0] == f)
        g = np.flatnonzero(gt[:, 0] == f)
        if len(g) == 0:
            continue
        iou = iou_matrix(tlwh_to_xyxy(det[d][:, 2:6]), tlwh_to_xyxy(gt[g][:, 2:6]))
        best = iou.argmax(1)
        hit = iou[np.arange(len(d)), best] >= 0.5
        idx[d[hit]] = g[best[hit]]
    vis = np.ones(len(det))
    if gt.shape[1] > 8:
        vis[idx >= 0] = gt[idx[idx >= 0], 8]
    return idx, vis


def bursty_keep(obj: np.ndarray, frame: np.ndarray, p_start: np.ndarray, p_end: float,
                rng: np.random.Generator) -> np.ndarray:
    """Per row a True/False "detected" from a two-state chain per object id ``obj`` (rows of one object
    in frame order): a miss starts with probability ``p_start`` (per row) and ends with ``p_end``."""
    keep = np.ones(len(obj), bool)
    u = rng.random(len(obj))
    order = np.lexsort((frame, obj))
    missing, last_obj = False, None
    for i in order:
        if obj[i] != last_obj:
            missing, last_obj = False, obj[i]
        missing = (u[i] >= p_end) if missing else (u[i] < p_start[i])
        keep[i] = not missing
    return keep


def add_misses(det: np.ndarray, gt: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    idx, vis = _match_gt(det, gt)
    obj = np.where(idx >= 0, gt[np.maximum(idx, 0), 1], -1 - np.arange(len(det)))  # FPs: own "object"
    p_start = 0.04 + 0.3 * (1 - vis)
    return det[bursty_keep(obj, det[:, 0], p_start, 0.35, rng)]


def recalibrate_scores(det: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    det = det.copy()
    det[:, 6] = np.clip(det[:, 6] ** 2 * 0.9 + rng.normal(0, 0.1, len(det)), 0.01, 1.0)
    return det


def jitter_boxes(det: np.ndarray, rng: np.random.Generator, rel: float = 0.05) -> np.ndarray:
    det = det.copy()
    w, h = det[:, 4].copy(), det[:, 5].copy()
    cx = det[:, 2] + w / 2 + rng.normal(0, rel, len(det)) * w
    cy = det[:, 3] + h / 2 + rng.normal(0, rel, len(det)) * h
    w = w * np.exp(rng.normal(0, rel, len(det)))
    h = h * np.exp(rng.normal(0, rel, len(det)))
    det[:, 2], det[:, 3], det[:, 4], det[:, 5] = cx - w / 2, cy - h / 2, w, h
    return det


def add_false_positives(det: np.ndarray, n_frames: int, width: int, height: int, rng: np.random.Generator,
                        rate: float = 0.15) -> np.ndarray:
    per_frame = rate * len(det) / max(n_frames, 1)
    counts = rng.poisson(per_frame, n_frames)
    n = int(counts.sum())
    if n == 0 or len(det) == 0:
        return det
    frames = np.repeat(np.arange(1, n_frames + 1), counts)
    size = det[rng.integers(0, len(det), n), 4:6]
    x = rng.uniform(0, 1, n) * np.maximum(width - size[:, 0], 1)
    y = rng.uniform(0, 1, n) * np.maximum(height - size[:, 1], 1)
    fp = np.zeros((n, det.shape[1]))
    fp[:, 0], fp[:, 1], fp[:, 2], fp[:, 3], fp[:, 4:6] = frames, -1, x, y, size
    fp[:, 6] = rng.uniform(0.1, 0.9, n)
    return _sort_frames(np.concatenate([det, fp]))


def strong_detections(gt: np.ndarray, n_frames: int, width: int, height: int, rng: np.random.Generator,
                      recall: float = 0.9, precision: float = 0.95) -> np.ndarray:
    """Detections a modern detector would give, made from gt: missed more when occluded (bursts),
    3% jitter, true positives scoring high, false positives low."""
    people = _gt_people(gt)
    vis = people[:, 8] if people.shape[1] > 8 else np.ones(len(people))
    # miss rate rises with occlusion; mean over MOT17 visibilities ~ (1 - recall)
    base = max(0.0, 1 - recall)
    p_start = np.clip(base * 0.35 / 0.65 * (0.3 + 1.4 * (1 - vis)), 0, 1)
    kept = people[bursty_keep(people[:, 1], people[:, 0], p_start, 0.35, rng)]
    det = np.zeros((len(kept), 7))
    det[:, 0], det[:, 1], det[:, 2:6] = kept[:, 0], -1, kept[:, 2:6]
    det = jitter_boxes(det, rng, rel=0.03)
    det[:, 6] = np.clip(rng.beta(8, 1.5, len(det)) * (0.5 + 0.5 * kept[:, 8] if kept.shape[1] > 8 else 1),
                        0.05, 1.0)
    n_fp = len(det) * (1 - precision) / max(precision, 1e-6)
    return add_false_positives(det, n_frames, width, height, rng, rate=n_fp / max(len(det), 1))


def _sort_frames(rows: np.ndarray) -> np.ndarray:
    return rows[np.argsort(rows[:, 0], kind="stable")]


def _clean(rows: np.ndarray, width: int, height: int) -> np.ndarray:
    """Clip boxes to the image and drop those left smaller than a pixel (valid det/gt rows)."""
    if len(rows) == 0:
        return rows
    rows = rows.copy()
    x2 = np.clip(rows[:, 2] + rows[:, 4], 0, width)
    y2 = np.clip(rows[:, 3] + rows[:, 5], 0, height)
    rows[:, 2], rows[:, 3] = np.clip(rows[:, 2], 0, width), np.clip(rows[:, 3], 0, height)
    rows[:, 4], rows[:, 5] = x2 - rows[:, 2], y2 - rows[:, 3]
    return _sort_frames(rows[(rows[:, 4] >= 1) & (rows[:, 5] >= 1)])


# -- one variant -----------------------------------------------------------------------------------
def make_variant(family: str, gt: np.ndarray, det: np.ndarray, info: SeqInfo, seed: int,
                 strong_recall: float = 0.9, strong_precision: float = 0.95
                 ) -> tuple[np.ndarray, np.ndarray, SeqInfo]:
    """Return (gt, det, seqinfo) of ``family`` applied to one sequence (pure function of its inputs)."""
    rng = np.random.default_rng([seed, zlib.crc32(family.encode()), zlib.crc32(info.name.encode())])
    w, h, n = info.width, info.height, info.length
    name = f"{info.name}-{family}"
    new_info = SeqInfo(name, info.fps, n, w, h, info.im_dir, info.im_ext)
    if family in CAMERA_FAMILIES:
        path = camera_path(family, n, info.fps, w, h, rng)
        return move_boxes(gt, path, w, h, vis_col=8), move_boxes(det, path, w, h, vis_col=None), new_info
    if family in RATE_FAMILIES:
        step = int(family[3:])

        def subsample(rows: np.ndarray) -> np.ndarray:
            rows = rows[(rows[:, 0].astype(int) - 1) % step == 0].copy()
            rows[:, 0] = (rows[:, 0].astype(int) - 1) // step + 1
            return rows
        new_info.fps, new_info.length = info.fps / step, (n + step - 1) // step
        return subsample(gt), subsample(det), new_info
    if family == "misses":
        det = add_misses(det, _gt_people(gt), rng)
    elif family == "score":
        det = recalibrate_scores(det, rng)
    elif family == "jitter":
        det = jitter_boxes(det, rng)
    elif family == "fp":
        det = add_false_positives(det, n, w, h, rng)
    elif family == "strong":
        det = strong_detections(gt, n, w, h, rng, strong_recall, strong_precision)
    else:
        raise ValueError(f"unknown family {family!r}")
    return gt, _clean(det, w, h), new_info


def write_sequence(out_dir: Path, gt: np.ndarray, det: np.ndarray, info: SeqInfo) -> Path:
    seq = out_dir / info.name
    write_seqinfo(seq, info)
    write_mot_rows(seq / "gt" / "gt.txt", _sort_frames(gt))
    write_mot_rows(seq / "det" / "det.txt", _sort_frames(det[:, :7]))
    return seq


def source_sequences(src: Path) -> list:
    seqs = sorted({p.parent.parent for p in Path(src).rglob("gt/gt.txt") if (p.parent.parent / "det" / "det.txt").is_file()
                   and (p.parent.parent / "seqinfo.ini").is_file()}, key=lambda p: p.name)
    if not seqs:
        raise SystemExit(f"error: no sequences with seqinfo.ini, gt/gt.txt and det/det.txt under {src}")
    return seqs


def make_variants(src: Path, out: Path, families=FAMILIES, seed: int = 0, strong_recall: float = 0.9,
                  strong_precision: float = 0.95, log: Callable[[str], None] = print) -> list:
    """Write every family of every sequence under ``src``; returns the sequence folders written."""
    written = []
    for seq_dir in source_sequences(src):
        info = read_seqinfo(seq_dir)
        gt = read_mot_results(seq_dir / "gt" / "gt.txt")
        det = parse_det_rows((seq_dir / "det" / "det.txt").read_text(), seq_dir / "det" / "det.txt")
        for family in families:
            g, d, i = make_variant(family, gt, det[:, :7], info, seed, strong_recall, strong_precision)
            written.append(write_sequence(Path(out) / family, g, d, i))
            log(f"{family:<8} {i.name:<28} {i.length:>5} frames  {len(g):>6} gt  {len(d):>6} det")
    return written


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("src", type=Path, help="folder of MOTChallenge sequences with gt/ and det/")
    p.add_argument("out", type=Path, help="output folder: OUT/<family>/<seq>-<family>/")
    p.add_argument("--families", nargs="*", default=list(FAMILIES), choices=FAMILIES)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--strong-recall", type=float, default=0.9)
    p.add_argument("--strong-precision", type=float, default=0.95)
    args = p.parse_args(argv)
    if not (0 < args.strong_recall <= 1 and 0 < args.strong_precision <= 1):
        p.error("--strong-recall and --strong-precision must be in (0, 1]")
    make_variants(args.src, args.out, args.families, args.seed, args.strong_recall, args.strong_precision)
    return 0


if __name__ == "__main__":
    sys.exit(main())
