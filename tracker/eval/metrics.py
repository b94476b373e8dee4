"""MOTChallenge scores (HOTA, CLEAR/MOTA, Identity/IDF1) with TrackEval's metric classes.

We build TrackEval's per-sequence data dict ourselves instead of going through its file-based
``Evaluator`` (which wants a fixed folder layout and prints a lot), reproducing the preprocessing of
``trackeval.datasets.MotChallenge2DBox`` step for step:

1. similarity = IoU of every gt box with every tracker box (xywh);
2. tracker boxes matched (Hungarian, IoU >= 0.5) to gt boxes of a *distractor* class
   (person_on_vehicle 2, static_person 7, distractor 8, reflection 12) are removed — a tracker is not
   punished for following a person on a bike;
3. only pedestrian gt (class 1) with the "consider" flag (column 7 != 0) is kept;
4. ids are relabelled to 0..K-1.

``tests/test_eval.py`` checks the result against ``MotChallenge2DBox`` on the same files.

Example:
    >>> scores = evaluate_sequence(gt_rows, result_rows, num_frames=600)   # doctest: +SKIP
    >>> summary(scores)["HOTA"]                                             # doctest: +SKIP
"""
from __future__ import annotations

import contextlib
import io
from typing import Dict, Mapping

import numpy as np
from scipy.optimize import linear_sum_assignment

import trackeval
from trackeval.datasets._base_dataset import _BaseDataset

PEDESTRIAN = 1
DISTRACTOR_CLASSES = (2, 7, 8, 12)  # person_on_vehicle, static_person, distractor, reflection
_EPS = np.finfo("float").eps


def _metrics():
    quiet = {"PRINT_CONFIG": False}
    return {"HOTA": trackeval.metrics.HOTA(quiet), "CLEAR": trackeval.metrics.CLEAR(quiet),
            "Identity": trackeval.metrics.Identity(quiet)}


def _rows_by_frame(rows: np.ndarray, num_frames: int) -> list:
    """Split rows (column 0 = 1-based frame) into a list of per-timestep arrays."""
    rows = np.asarray(rows, np.float64).reshape(-1, rows.shape[1] if np.ndim(rows) == 2 else 10)
    frames = rows[:, 0].astype(np.int64) if len(rows) else np.zeros(0, np.int64)
    order = np.argsort(frames, kind="stable")
    rows, frames = rows[order], frames[order]
    bounds = np.searchsorted(frames, np.arange(1, num_frames + 2))
    return [rows[bounds[t]:bounds[t + 1]] for t in range(num_frames)]


def preprocess_sequence(gt: np.ndarray, res: np.ndarray, num_frames: int) -> dict:
    """TrackEval's MOTChallenge data dict from gt rows and result rows (MOTChallenge columns)."""
    gt_t = _rows_by_frame(gt, num_frames)
    res_t = _rows_by_frame(res, num_frames) if len(res) else [np.zeros((0, 10))] * num_frames
    data = {k: [None] * num_frames for k in
            ("gt_ids", "tracker_ids", "gt_dets", "tracker_dets", "tracker_confidences", "similarity_scores")}
    for t in range(num_frames):
        g, r = gt_t[t], res_t[t]
        g_ids, g_dets = g[:, 1].astype(int), g[:, 2:6]
        g_cls = g[:, 7].astype(int) if g.shape[1] > 7 else np.ones(len(g), int)
        g_consider = g[:, 6].astype(int)
        r_ids, r_dets, r_conf = r[:, 1].astype(int), r[:, 2:6], r[:, 6]
        if len(np.unique(r_ids)) != len(r_ids):
            raise ValueError(f"tracker ids repeat within frame {t + 1}")
        sim = _BaseDataset._calculate_box_ious(g_dets, r_dets, box_format="xywh")
        remove = np.zeros(0, int)
        if len(g) and len(r):  # step 2: drop tracker boxes matched to distractors
            match = sim.copy()
            match[match < 0.5 - _EPS] = 0
            rows, cols = linear_sum_assignment(-match)
            ok = match[rows, cols] > 0 + _EPS
            rows, cols = rows[ok], cols[ok]
            remove = cols[np.isin(g_cls[rows], DISTRACTOR_CLASSES)]
        data["tracker_ids"][t] = np.delete(r_ids, remove)
        data["tracker_dets"][t] = np.delete(r_dets, remove, axis=0)
        data["tracker_confidences"][t] = np.delete(r_conf, remove)
        sim = np.delete(sim, remove, axis=1)
        keep = (g_consider != 0) & (g_cls == PEDESTRIAN)  # step 3
        data["gt_ids"][t], data["gt_dets"][t] = g_ids[keep], g_dets[keep]
        data["similarity_scores"][t] = sim[keep]
    for kind in ("gt", "tracker"):  # step 4: contiguous ids
        ids = [data[f"{kind}_ids"][t] for t in range(num_frames)]
        unique = np.unique(np.concatenate(ids)) if ids else np.zeros(0, int)
        lookup = np.full(int(unique.max()) + 1 if len(unique) else 1, -1)
        lookup[unique] = np.arange(len(unique))
        data[f"{kind}_ids"] = [lookup[i].astype(int) for i in ids]
        data[f"num_{kind}_ids"] = len(unique)
        data[f"num_{kind}_dets"] = int(sum(len(i) for i in ids))
    data["num_timesteps"] = num_frames
    return data


def evaluate_sequence(gt: np.ndarray, res: np.ndarray, num_frames: int) -> Dict[str, dict]:
    """TrackEval HOTA/CLEAR/Identity results of one sequence: ``{"HOTA": {...}, "CLEAR": ..., ...}``."""
    data = preprocess_sequence(gt, res, num_frames)
    with contextlib.redirect_stdout(io.StringIO()):
        return {name: m.eval_sequence(data) for name, m in _metrics().items()}


def combine_sequences(per_seq: Mapping[str, Dict[str, dict]]) -> Dict[str, dict]:
    """TrackEval's combined result over sequences (detection-weighted, as the MOT benchmarks report)."""
    out = {}
    for name, metric in _metrics().items():
        out[name] = metric.combine_sequences({seq: res[name] for seq, res in per_seq.items()})
    return out


def summary(result: Dict[str, dict]) -> Dict[str, float]:
    """The headline numbers (percent, as MOTChallenge prints them) from one result dict."""
    hota, clear, ident = result["HOTA"], result["CLEAR"], result["Identity"]
    return {
        "HOTA": 100 * float(np.mean(hota["HOTA"])),
        "DetA": 100 * float(np.mean(hota["DetA"])),
        "AssA": 100 * float(np.mean(hota["AssA"])),
        "MOTA": 100 * float(clear["MOTA"]),
        "IDF1": 100 * float(ident["IDF1"]),
        "IDSW": int(clear["IDSW"]),
        "FP": int(clear["CLR_FP"]),
        "FN": int(clear["CLR_FN"]),
        "Frag": int(clear["Frag"]),
    }
