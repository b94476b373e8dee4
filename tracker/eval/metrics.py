"""MOTChallenge scores (HOTA, CLEAR/MOTA, Identity/IDF1) with TrackEval's metric classes.

We build TrackEval's per-sequence data dict ourselves instead of going through its file-based
``Evaluator`` (which wants a fixed folder layout and prints a lot), reproducing the preprocessing of
``trackeval.datasets.MotChallenge2DBox`` step for step, per benchmark:

1. similarity = IoU of every gt box with every tracker box (xywh);
2. MOT16/17/20 only: tracker boxes matched (Hungarian, IoU >= 0.5) to gt boxes of a *distractor*
   class (person_on_vehicle 2, static_person 7, distractor 8, reflection 12; MOT20 also
   non_mot_vehicle 6) are removed — a tracker is not punished for following a person on a bike;
3. gt rows with the "consider" flag (column 7) at 0 are dropped, and for MOT16/17/20 every gt row
   that is not a pedestrian (class 1). MOT15 has no classes (columns 8-10 are world coordinates);
4. ids are relabelled to 0..K-1.

``multiclass`` (MOT rows with a class id per row, e.g. KITTI-style car + pedestrian) is scored one
class at a time: gt and tracker rows of that class only, then steps 1, 3 (consider flag) and 4 —
what ``MotChallenge2DBox`` gives on the rows of one class — and classes are combined with TrackEval's
``combine_classes_class_averaged`` / ``combine_classes_det_averaged`` as its ``Evaluator`` does.

``tests/test_eval_parity.py`` checks every flavour against TrackEval's own file-based evaluation.

Example:
    >>> scores = evaluate_sequence(gt_rows, result_rows, num_frames=600)   # doctest: +SKIP
    >>> summary(scores)["HOTA"]                                             # doctest: +SKIP
"""
from __future__ import annotations

import contextlib
import io
from typing import Dict, Mapping, Optional

import numpy as np
from scipy.optimize import linear_sum_assignment

import trackeval
from trackeval.datasets._base_dataset import _BaseDataset

from ..errors import UserError

PEDESTRIAN = 1
DISTRACTOR_CLASSES = (2, 7, 8, 12)  # person_on_vehicle, static_person, distractor, reflection
MOT20_DISTRACTOR_CLASSES = DISTRACTOR_CLASSES + (6,)  # + non_mot_vehicle
BENCHMARKS = ("MOT15", "MOT16", "MOT17", "MOT20", "multiclass")
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


def _distractors(benchmark: str) -> tuple:
    if benchmark in ("MOT15", "multiclass"):
        return ()
    return MOT20_DISTRACTOR_CLASSES if benchmark == "MOT20" else DISTRACTOR_CLASSES


def preprocess_sequence(gt: np.ndarray, res: np.ndarray, num_frames: int, benchmark: str = "MOT17",
                        class_id: Optional[int] = None, seq: str = "sequence") -> dict:
    """TrackEval's MOTChallenge data dict from gt rows and result rows (MOTChallenge columns).

    ``class_id``: for ``multiclass``, the class scored (gt and result rows of other classes dropped).
    """
    if benchmark not in BENCHMARKS:
        raise UserError(f"unknown benchmark {benchmark!r}: choose one of {', '.join(BENCHMARKS)}")
    gt = np.asarray(gt, np.float64).reshape(-1, np.shape(gt)[1] if np.ndim(gt) == 2 else 10)
    res = np.asarray(res, np.float64).reshape(-1, np.shape(res)[1] if np.ndim(res) == 2 else 10)
    if benchmark == "multiclass":
        gt = gt[gt[:, 7] == class_id] if gt.shape[1] > 7 else gt[:0]
        res = res[res[:, 7] == class_id] if res.shape[1] > 7 else res[:0]
    distractors = _distractors(benchmark)
    by_class = benchmark in ("MOT16", "MOT17", "MOT20")
    gt_t = _rows_by_frame(gt, num_frames)
    res_t = _rows_by_frame(res, num_frames)
    data = {k: [None] * num_frames for k in
            ("gt_ids", "tracker_ids", "gt_dets", "tracker_dets", "tracker_confidences", "similarity_scores")}
    for t in range(num_frames):
        g, r = gt_t[t], res_t[t]
        g_ids, g_dets = g[:, 1].astype(int), g[:, 2:6]
        g_cls = g[:, 7].astype(int) if g.shape[1] > 7 else np.ones(len(g), int)
        g_consider = g[:, 6].astype(int)
        r_ids, r_dets, r_conf = r[:, 1].astype(int), r[:, 2:6], r[:, 6]
        for ids, who in ((r_ids, "results"), (g_ids, "ground truth")):
            if len(np.unique(ids)) != len(ids):
                raise UserError(f"{seq}: {who} repeat an id within frame {t + 1} (ids must be unique per "
                                "frame)")
        sim = _BaseDataset._calculate_box_ious(g_dets, r_dets, box_format="xywh")
        remove = np.zeros(0, int)
        if distractors and len(g) and len(r):  # step 2: drop tracker boxes matched to distractors
            match = sim.copy()
            match[match < 0.5 - _EPS] = 0
            rows, cols = linear_sum_assignment(-match)
            ok = match[rows, cols] > 0 + _EPS
            rows, cols = rows[ok], cols[ok]
            remove = cols[np.isin(g_cls[rows], distractors)]
        data["tracker_ids"][t] = np.delete(r_ids, remove)
        data["tracker_dets"][t] = np.delete(r_dets, remove, axis=0)
        data["tracker_confidences"][t] = np.delete(r_conf, remove)
        sim = np.delete(sim, remove, axis=1)
        keep = g_consider != 0  # step 3
        if by_class:
            keep &= g_cls == PEDESTRIAN
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


def evaluate_sequence(gt: np.ndarray, res: np.ndarray, num_frames: int, benchmark: str = "MOT17",
                      class_id: Optional[int] = None, seq: str = "sequence") -> Dict[str, dict]:
    """TrackEval HOTA/CLEAR/Identity results of one sequence: ``{"HOTA": {...}, "CLEAR": ..., ...}``."""
    data = preprocess_sequence(gt, res, num_frames, benchmark, class_id, seq)
    with contextlib.redirect_stdout(io.StringIO()):
        return {name: m.eval_sequence(data) for name, m in _metrics().items()}


def combine_sequences(per_seq: Mapping[str, Dict[str, dict]]) -> Dict[str, dict]:
    """TrackEval's combined result over sequences (detection-weighted, as the MOT benchmarks report)."""
    out = {}
    for name, metric in _metrics().items():
        out[name] = metric.combine_sequences({seq: res[name] for seq, res in per_seq.items()})
    return out


def combine_classes(per_class: Mapping[str, Dict[str, dict]]) -> Dict[str, Dict[str, dict]]:
    """TrackEval's class combinations (of sequence-combined results), as its ``Evaluator`` names them:
    ``cls_comb_cls_av`` (mean over classes) and ``cls_comb_det_av`` (detection-weighted)."""
    out = {"cls_comb_cls_av": {}, "cls_comb_det_av": {}}
    for name, metric in _metrics().items():
        res = {c: r[name] for c, r in per_class.items()}
        out["cls_comb_cls_av"][name] = metric.combine_classes_class_averaged(res)
        out["cls_comb_det_av"][name] = metric.combine_classes_det_averaged(res)
    return out


def summary(result: Dict[str, dict]) -> Dict[str, float]:
    """The headline numbers (percent, as MOTChallenge prints them) from one result dict."""
    hota, clear, ident = result["HOTA"], result["CLEAR"], result["Identity"]
    return {
        "HOTA": 100 * float(np.mean(hota["HOTA"])),
        "DetA": 100 * float(np.mean(hota["DetA"])),
        "AssA": 100 * float(np.mean(hota["AssA"])),
        "LocA": 100 * float(np.mean(hota["LocA"])),
        "MOTA": 100 * float(clear["MOTA"]),
        "MOTP": 100 * float(clear["MOTP"]),
        "IDF1": 100 * float(ident["IDF1"]),
        "IDP": 100 * float(ident["IDP"]),
        "IDR": 100 * float(ident["IDR"]),
        "IDSW": int(clear["IDSW"]),
        "FP": int(clear["CLR_FP"]),
        "FN": int(clear["CLR_FN"]),
        "Frag": int(clear["Frag"]),
        "MT": int(clear["MT"]),
        "ML": int(clear["ML"]),
    }
