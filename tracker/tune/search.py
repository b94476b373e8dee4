"""What one trial computes, and how the configuration to keep is chosen without overfitting.

Sequences are split into K folds (by sequence, never by frame: frames of one video are not
independent). A trial tracks every sequence with its parameters once and records the metric of
each fold (TrackEval's combination over the fold's sequences).

Choosing (``choose``) uses held-out folds only:
  - the honest estimate of what tuning gains (``heldout_gain``): for each fold, take the trial
    that is best on the *other* folds and read its score on this fold (nested cross-validation);
  - the configuration written is the default unless tuning gains on held-out folds and some trial
    beats the default on *every* fold; then, among such trials within ``tolerance`` of the best mean,
    the one nearest the default (each parameter scaled by its range) — the smallest change that
    gives the gain, which is the one most likely to carry over to sequences nobody tuned on.

Example:
    >>> trials = [TrialScores(0, {"a": 1}, [50.0, 40.0]), TrialScores(1, {"a": 2}, [51.0, 41.0])]
    >>> choice = choose(trials, trials[0], {"a": Range("a", 0, 4, 1, True)})
    >>> choice.trial.number, round(choice.heldout_gain, 2)
    (1, 1.0)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from .space import Range

_WORKER: dict = {}   # per process: the data every trial needs, loaded once


@dataclass
class TrialScores:
    number: int
    params: Dict[str, float]
    folds: List[float]           # the metric on each fold's sequences

    @property
    def mean(self) -> float:
        return float(np.mean(self.folds))


@dataclass
class Choice:
    trial: TrialScores           # the configuration to write (may be the default)
    default: TrialScores
    heldout_tuned: float         # mean over folds of the score of the trial chosen on the other folds
    heldout_per_fold: List[float]
    reason: str

    @property
    def heldout_gain(self) -> float:
        return self.heldout_tuned - self.default.mean


def assign_folds(names: Sequence[str], k: int) -> List[List[str]]:
    """Sequences (sorted by name) dealt round-robin into ``k`` folds."""
    folds: List[List[str]] = [[] for _ in range(k)]
    for i, name in enumerate(sorted(names)):
        folds[i % k].append(name)
    return folds


def _distance(t: TrialScores, default: TrialScores, space: Mapping[str, Range]) -> float:
    return float(sum((r.scaled(t.params.get(n, r.default)) - r.scaled(default.params.get(n, r.default))) ** 2
                     for n, r in space.items()))


def choose(trials: Sequence[TrialScores], default: TrialScores, space: Mapping[str, Range],
           tolerance: float = 0.2) -> Choice:
    """The configuration to keep and the held-out estimate of the gain (see the module docstring)."""
    k = len(default.folds)
    per_fold = []
    for j in range(k):
        on_others = max(trials, key=lambda t: (np.mean([s for i, s in enumerate(t.folds) if i != j]), -t.number))
        per_fold.append(on_others.folds[j])
    heldout = float(np.mean(per_fold))
    better_everywhere = [t for t in trials if t.number != default.number
                         and all(s > d for s, d in zip(t.folds, default.folds))]
    if heldout <= default.mean:
        return Choice(default, default, heldout, per_fold,
                      "kept the default: the trials chosen on other folds do no better on held-out folds")
    if not better_everywhere:
        return Choice(default, default, heldout, per_fold, "kept the default: no trial beats it on every fold")
    best = max(t.mean for t in better_everywhere)
    near = [t for t in better_everywhere if t.mean >= best - tolerance]
    chosen = min(near, key=lambda t: (_distance(t, default, space), -t.mean))
    return Choice(chosen, default, heldout, per_fold,
                  f"trial {chosen.number}: beats the default on every fold; nearest the default of the "
                  f"{len(near)} trial(s) within {tolerance} of the best mean")


# -- the work of one trial (runs in worker processes) ----------------------------------------------
def init_worker(payload: dict) -> None:
    """Load detections and ground truth once per process (``payload`` is small: paths and names)."""
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from ..eval.cli import sequence_detections
    from ..eval.dataset import read_gt
    from ..trackers import load_tracker_config

    feature_dir = Path(payload["features"]) if payload["features"] else None
    seqs = payload["sequences"]
    _WORKER.update(
        payload,
        dets={s.name: sequence_detections(s, feature_dir) for s in seqs},
        gts={s.name: read_gt(s) for s in seqs},
        tracker=load_tracker_config(payload["tracker"], payload["overrides"]),
    )


def run_trial(params: Dict[str, float]) -> List[float]:
    """Track every sequence with ``params``; the metric per fold."""
    from ..eval.cli import track_sequence
    from ..eval.metrics import combine_sequences, evaluate_sequence, summary

    w = _WORKER
    cls, base = w["tracker"]
    config = dataclasses.replace(base, **params)
    per_seq = {}
    for s in w["sequences"]:
        rows, _, _ = track_sequence(cls(config, frame_rate=s.fps), w["dets"][s.name], s.length)
        per_seq[s.name] = evaluate_sequence(w["gts"][s.name], rows, s.length, w["benchmark"], seq=s.name)
    return [summary(combine_sequences({n: per_seq[n] for n in fold}))[w["metric"]] for fold in w["folds"]]


def local_trial(payload: dict, params: Optional[Dict[str, float]] = None) -> List[float]:
    """One trial in this process (for tests and ``--jobs 1``)."""
    init_worker(payload)
    return run_trial(params or {})
