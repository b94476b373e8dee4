"""``track tune``: Optuna search over a tracker's parameters, cross-validated by sequence.

    track tune DATA_ROOT --tracker NAME|YAML [--trials N] [--folds K] [--metric HOTA] [--out DIR]
               [--jobs J] [--seqs a,b | --seqmap FILE] [--features DIR] [--params a,b] [--seed S]

Every trial tracks the sequences' public detections (``det/det.txt``, or ``--features`` rows with
embeddings; no images, so no camera-motion compensation) and is scored per fold; what is kept and
reported is chosen on held-out folds (``search.py``). Writes to ``DIR``:

    best.yaml    the configuration kept (load it with ``--tracker DIR/best.yaml``)
    trials.csv   every trial: parameters, score per fold, mean
    trials.png   the search: score of each trial, best so far, the default
    study.db     the Optuna study (SQLite): run the same command again to resume or extend it

Trials run in parallel worker processes (``--jobs``, default: every core).
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Dict, List

import yaml

from ..errors import UserError
from ..eval.cli import make_out_dir, select_sequences
from ..eval.dataset import check_benchmark, detect_benchmark, read_gt
from ..eval.report import METRICS
from .search import Choice, TrialScores, assign_folds, choose, init_worker, local_trial, run_trial
from .space import search_space


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="track tune", description="Search a tracker's parameters with Optuna, "
                                "cross-validated by sequence; keep what helps on held-out sequences.")
    p.add_argument("data_root", help="MOTChallenge sequences with gt/gt.txt and det/det.txt")
    p.add_argument("--tracker", required=True, help="tracker name or YAML to start from (its values are the default)")
    p.add_argument("--trials", type=int, default=50, help="trials in the study in all (default 50; more resumes)")
    p.add_argument("--folds", type=int, default=2, help="cross-validation folds, by sequence (default 2)")
    p.add_argument("--metric", default="HOTA", help="metric to maximise: HOTA, IDF1, MOTA, AssA, ... (default HOTA)")
    p.add_argument("--out", help="output folder (default runs/tune/<tracker>)")
    p.add_argument("--jobs", type=int, default=0, help="parallel trial processes (default: every core)")
    p.add_argument("--seqs", help="comma-separated sequence names (default: all found)")
    p.add_argument("--seqmap", help="TrackEval seqmap file naming the sequences")
    p.add_argument("--features", help="folder of <seq>.npy detections with embeddings (also tunes appearance)")
    p.add_argument("--benchmark", help="scoring rules: MOT15, MOT16, MOT17, MOT20 (default: from the data)")
    p.add_argument("--params", help="comma-separated parameters to search (default: every declared range)")
    p.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    p.add_argument("--tolerance", type=float, default=0.2,
                   help="trials within this of the best mean count as equal; the one nearest the default is kept")
    return p


def main_tune(argv: List[str]) -> int:
    import optuna

    args = build_parser().parse_args(argv)
    args.command = "track tune " + " ".join(argv)
    if args.folds < 2:
        raise UserError("--folds must be at least 2: scores are taken on held-out sequences")
    if args.trials < 1:
        raise UserError("--trials must be at least 1")
    if args.metric not in METRICS or args.metric in ("IDSW", "FP", "FN", "Frag", "ML"):
        raise UserError(f"--metric {args.metric}: choose one of HOTA, DetA, AssA, LocA, MOTA, MOTP, IDF1, IDP, IDR, MT")
    from ..trackers import load_tracker_config

    tracker_cls, base = load_tracker_config(args.tracker)
    space = search_space(base, appearance=bool(args.features),
                         only=[p.strip() for p in args.params.split(",")] if args.params else None)
    sequences = select_sequences(args)
    if args.features:
        sequences = [s for s in sequences if (Path(args.features) / f"{s.name}.npy").is_file()]
    sequences = [s for s in sequences if s.gt_file.is_file()]
    if len(sequences) < args.folds:
        raise UserError(f"{len(sequences)} sequence(s) with ground truth for {args.folds} folds: "
                        "give more sequences or fewer --folds")
    gts = [read_gt(s) for s in sequences]
    benchmark = check_benchmark(args.benchmark) or detect_benchmark([s.name for s in sequences], gts)
    if benchmark == "multiclass":
        raise UserError("track tune scores pedestrians with MOT rules; this gt has several classes "
                        "(choose --benchmark MOT17 to tune on its pedestrians)")
    del gts
    folds = assign_folds([s.name for s in sequences], args.folds)
    name = Path(str(args.tracker)).stem
    out_dir = make_out_dir(args.out or Path("runs") / "tune" / name)
    payload = {"sequences": sequences, "features": args.features, "tracker": str(args.tracker), "overrides": {},
               "benchmark": benchmark, "metric": args.metric, "folds": folds}

    study = _open_study(optuna, out_dir, name, args, space, folds)
    defaults = {n: r.default for n, r in space.items()}
    if not study.trials:
        study.enqueue_trial(defaults)   # trial 0: the default, what every trial is compared with
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    remaining = max(0, args.trials - len(done))
    print(f"tuning {name} on {len(sequences)} sequences in {args.folds} folds "
          f"({'; '.join(','.join(f) for f in folds)}), {args.metric}, {benchmark}: "
          f"{len(done)} trials done, {remaining} to run", file=sys.stderr)
    _run(optuna, study, space, payload, remaining, args.jobs or os.cpu_count() or 1)

    trials = _scores(optuna, study)
    default = next((t for t in trials if t.params == defaults), None) or _default_trial(payload, defaults)
    choice = choose(trials, default, space, args.tolerance)
    _write_outputs(out_dir, tracker_cls, base, space, trials, choice, args, folds, benchmark)
    _print_report(choice, args.metric, folds, out_dir)
    return 0


def _open_study(optuna, out_dir: Path, name: str, args, space, folds):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{(out_dir / 'study.db').resolve()}"
    key = {"tracker": name, "metric": args.metric, "folds": folds, "space": sorted(space),
           "features": bool(args.features)}
    sampler = optuna.samplers.TPESampler(seed=args.seed, multivariate=True, constant_liar=True,
                                         n_startup_trials=min(8, max(2, args.trials // 3)))
    study = optuna.create_study(study_name="tune", storage=storage, direction="maximize", sampler=sampler,
                                load_if_exists=True)
    saved = study.user_attrs.get("key")
    if saved is None:
        study.set_user_attr("key", key)
    elif saved != key:
        raise UserError(f"{out_dir / 'study.db'} holds a study of another setup ({json.dumps(saved)}); "
                        "use another --out to start a new one")
    for t in study.trials:   # an interrupted run leaves trials marked running: they never finished
        if t.state == optuna.trial.TrialState.RUNNING:
            study.tell(t.number, state=optuna.trial.TrialState.FAIL)
    return study


def _run(optuna, study, space, payload: dict, n: int, jobs: int) -> None:
    if n == 0:
        return
    from tqdm import tqdm

    distributions = {name: r.distribution() for name, r in space.items()}
    bar = tqdm(total=n, unit="trial", file=sys.stderr, disable=None, desc="tune")
    tty = not bar.disable
    finished = 0

    def record(trial, folds: List[float]) -> None:
        nonlocal finished
        trial.set_user_attr("folds", folds)
        study.tell(trial, sum(folds) / len(folds))
        finished += 1
        bar.update(1)
        best = study.best_value
        bar.set_postfix_str(f"best {best:.2f}")
        if not tty:   # a log, not a terminal: one line per trial
            print(f"trial {trial.number}: {payload['metric']} {sum(folds) / len(folds):.2f} "
                  f"(folds {', '.join(f'{s:.2f}' for s in folds)}; best {best:.2f}) [{finished}/{n}]",
                  file=sys.stderr, flush=True)

    jobs = max(1, min(jobs, n))
    try:
        if jobs == 1:
            init_worker(payload)
            for _ in range(n):
                trial = study.ask(distributions)
                record(trial, run_trial(trial.params))
            return
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=init_worker,
                                 initargs=(payload,)) as pool:
            running = {}
            asked = 0
            while asked < n or running:
                while asked < n and len(running) < jobs:
                    trial = study.ask(distributions)
                    running[pool.submit(run_trial, trial.params)] = trial
                    asked += 1
                finished_now, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished_now:
                    record(running.pop(future), future.result())
    finally:
        bar.close()


def _scores(optuna, study) -> List[TrialScores]:
    return [TrialScores(t.number, dict(t.params), list(t.user_attrs["folds"])) for t in study.trials
            if t.state == optuna.trial.TrialState.COMPLETE and "folds" in t.user_attrs]


def _default_trial(payload: dict, defaults: Dict[str, float]) -> TrialScores:
    """The default's scores when the study does not hold them (a --params subset added later)."""
    return TrialScores(-1, dict(defaults), local_trial(payload, defaults))


def _write_outputs(out_dir: Path, tracker_cls, base, space, trials: List[TrialScores], choice: Choice, args,
                   folds, benchmark: str) -> None:
    config = dataclasses.replace(base, **choice.trial.params)
    values = {"tracker_type": _tracker_type(tracker_cls), **dataclasses.asdict(config)}
    header = [f"# {args.command}",
              f"# {choice.reason}",
              f"# {args.metric} on held-out folds: default {choice.default.mean:.2f}, tuned "
              f"{choice.heldout_tuned:.2f} ({choice.heldout_gain:+.2f}); folds: "
              + "; ".join(",".join(f) for f in folds),
              f"# changed from the default: " + (", ".join(f"{k}={v}" for k, v in choice.trial.params.items()
                                                      if v != getattr(base, k)) or "nothing")]
    (out_dir / "best.yaml").write_text("\n".join(header) + "\n" + yaml.safe_dump(values, sort_keys=False))
    with open(out_dir / "trials.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["trial", *space, *(f"fold{i}" for i in range(len(folds))), "mean", "is_default", "kept"])
        for t in trials:
            writer.writerow([t.number, *(t.params.get(n) for n in space), *(f"{s:.4f}" for s in t.folds),
                             f"{t.mean:.4f}", t.number == choice.default.number, t.number == choice.trial.number])
    _plot(out_dir / "trials.png", trials, choice, args.metric)


def _tracker_type(tracker_cls) -> str:
    from ..trackers import TRACKERS

    return next(name for name, cls in TRACKERS.items() if cls is tracker_cls)


def _plot(path: Path, trials: List[TrialScores], choice: Choice, metric: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    import numpy as np

    numbers = [t.number for t in trials]
    means = [t.mean for t in trials]
    fig, ax = plt.subplots(figsize=(7, 4))
    for i in range(len(choice.default.folds)):
        ax.scatter(numbers, [t.folds[i] for t in trials], s=10, alpha=0.35, label=f"fold {i}")
    ax.plot(numbers, means, "o", color="black", ms=4, label="mean over folds")
    ax.plot(numbers, np.maximum.accumulate(means), "-", color="tab:green", label="best so far")
    ax.axhline(choice.default.mean, color="tab:red", ls="--", label=f"default {choice.default.mean:.2f}")
    ax.axhline(choice.heldout_tuned, color="tab:blue", ls=":", label=f"tuned, held-out {choice.heldout_tuned:.2f}")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _print_report(choice: Choice, metric: str, folds, out_dir: Path) -> None:
    d, c = choice.default, choice
    print(f"{'':<28}" + "".join(f"{'fold ' + str(i):>10}" for i in range(len(folds))) + f"{'mean':>10}")
    print(f"{'default':<28}" + "".join(f"{s:>10.2f}" for s in d.folds) + f"{d.mean:>10.2f}")
    print(f"{'tuned (chosen on others)':<28}" + "".join(f"{s:>10.2f}" for s in c.heldout_per_fold)
          + f"{c.heldout_tuned:>10.2f}")
    print(f"{metric} on held-out folds: default {d.mean:.2f}, tuned {c.heldout_tuned:.2f} ({c.heldout_gain:+.2f})")
    print(f"kept: {c.reason}")
    print(f"best.yaml: {out_dir / 'best.yaml'}  (use with --tracker {out_dir / 'best.yaml'})")
