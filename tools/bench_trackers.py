#!/usr/bin/env python
"""Compare our trackers with the ultralytics (and Roboflow trackers / BoxMOT, when installed) trackers on the
same detections.

    python tools/bench_trackers.py ../shared/data/MOT17-dev            # accuracy + speed table
    python tools/bench_trackers.py --scale --out runs/bench             # time vs boxes per frame (PNG + table)
    python tools/bench_trackers.py ../shared/data/MOT17-dev --features ../shared/data/MOT17-dev-features
    python tools/bench_trackers.py --gmc ../shared/videos/people_walking.mp4   # camera-motion cost
    python tools/bench_trackers.py ../shared/data/MOT17-dev /work/variants --ours botsort \
        "botsort:report_lost_frames=0" --ultralytics bytetrack botsort --seqs MOT17-02 MOT17-04
                                                     # + robustness variants (tools/make_variants.py)

Several data roots may be given; each sequence belongs to the group named by its parent folder
(``MOT17-dev``, or a variant family such as ``pan``), and besides the combined table the bench prints
HOTA per group and per sequence, and writes every score to ``OUT/tracker_bench.json``. The headline
"mean" row is the mean over groups of each group's combined score (the protocol for defaults in
docs/benchmarks.md). ``--ours NAME:key=value,...`` runs our tracker with overrides.

Every tracker gets the same detections (public ``det/det.txt`` or the ``--features`` files), motion
only unless ``--features`` is given (then ultralytics BoT-SORT runs ``with_reid`` on the embeddings),
no images (so no camera-motion compensation). Time is the tracker's ``update`` call alone, summed over
all frames (with ``--repeat N``: the fastest of N passes), and ``ratio`` divides it by ultralytics
ByteTrack's in the same run.
"""
from __future__ import annotations

import argparse
import gc
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker.eval.cli import find_sequences, read_gt  # noqa: E402
from tracker.eval.metrics import combine_sequences, evaluate_sequence, summary  # noqa: E402
from tracker.formats.mot import read_det_file, read_feature_file, read_seqinfo  # noqa: E402
from tracker.trackers import TRACKER_NAMES, make_tracker  # noqa: E402
from tracker.types import Detections  # noqa: E402

ULTRALYTICS_NAMES = ("bytetrack", "botsort", "ocsort", "deepocsort", "fasttrack", "tracktrack")
BASELINE = "ultralytics/bytetrack"
GROUPS: Dict[str, str] = {}  # sequence name -> group (its parent folder: MOT17-dev, pan, fps2, ...)
RAW: List[dict] = []  # TrackEval's per-sequence results of each contender (pickled for re-combining subsets)


# -- adapters: every tracker becomes "reset(); step(dets) -> (ids, xyxy, scores)" -------------------
class OursAdapter:
    """``name`` is a tracker name, optionally with overrides: ``botsort:track_buffer=30,nsa=true``."""

    def __init__(self, name: str, fps: float) -> None:
        name, _, sets = name.partition(":")
        overrides = dict(kv.split("=", 1) for kv in sets.split(",") if kv)
        self.tracker = make_tracker(name, overrides=overrides, frame_rate=fps)

    def prepare(self, dets: Detections):
        return dets

    def step(self, dets):
        tracks = self.tracker.update(dets)
        return tracks.track_id, tracks.xyxy, tracks.score


class UltralyticsAdapter:
    """An ultralytics tracker from its own default YAML (``track_buffer`` as ultralytics reads it)."""

    def __init__(self, name: str, fps: float, with_reid: bool = False) -> None:
        from ultralytics.trackers.track import TRACKER_MAP
        from ultralytics.utils import YAML, IterableSimpleNamespace
        from ultralytics.utils.checks import check_yaml

        cfg = IterableSimpleNamespace(**YAML.load(check_yaml(f"{name}.yaml")))
        cfg.gmc_method = "none"  # no images here: camera-motion compensation cannot run
        if hasattr(cfg, "with_reid"):
            cfg.with_reid = with_reid
            cfg.model = "auto"
        cfg.device = "cpu"
        self.tracker = TRACKER_MAP[name](args=cfg, frame_rate=int(round(fps))) \
            if "frame_rate" in TRACKER_MAP[name].__init__.__code__.co_varnames else TRACKER_MAP[name](cfg)

    def prepare(self, dets: Detections):
        from ultralytics.engine.results import Boxes

        data = np.concatenate([dets.xyxy, dets.score[:, None], dets.cls[:, None].astype(np.float32)], axis=1)
        return Boxes(data.astype(np.float32), (1080, 1920)), dets.feat

    def step(self, prepared):
        boxes, feat = prepared
        out = self.tracker.update(boxes, None, feats=feat) if feat is not None else self.tracker.update(boxes, None)
        out = np.asarray(out).reshape(-1, 8) if len(out) else np.zeros((0, 8))
        return out[:, 4].astype(np.int64), out[:, :4], out[:, 5]


class BoxmotAdapter:
    """A BoxMOT tracker from its default config, motion only (untested here: BoxMOT is not installed on
    the development machines; the bench reports it as failed rather than stopping if its API differs)."""

    BOXMOT_NAMES = ("bytetrack", "botsort", "ocsort")

    def __init__(self, name: str, fps: float) -> None:
        from boxmot import create_tracker
        from boxmot.utils import TRACKER_CONFIGS

        kwargs = dict(tracker_type=name, tracker_config=TRACKER_CONFIGS / f"{name}.yaml",
                      reid_weights=None, device="cpu", half=False, per_class=False)
        self.tracker = create_tracker(**kwargs)
        if hasattr(self.tracker, "with_reid"):
            self.tracker.with_reid = False
        self.blank = np.zeros((1080, 1920, 3), np.uint8)  # BoxMOT wants an image; GMC sees no motion

    def prepare(self, dets: Detections):
        return np.concatenate([dets.xyxy, dets.score[:, None], dets.cls[:, None]], axis=1).astype(np.float32)

    def step(self, dets):
        out = np.asarray(self.tracker.update(dets, self.blank)).reshape(-1, 8) if len(dets) else np.zeros((0, 8))
        return out[:, 4].astype(np.int64), out[:, :4], out[:, 5]


class RoboflowAdapter:
    """A tracker from Roboflow's ``trackers`` package (supervision's tracking), its defaults, motion only."""

    NAMES = {"ocsort": "OCSORTTracker", "bytetrack": "ByteTrackTracker", "sort": "SORTTracker"}

    def __init__(self, name: str, fps: float) -> None:
        import trackers

        self.tracker = getattr(trackers, self.NAMES[name])(frame_rate=fps)

    def prepare(self, dets: Detections):
        import supervision as sv

        return sv.Detections(xyxy=dets.xyxy.astype(np.float32), confidence=dets.score, class_id=dets.cls)

    def step(self, dets):
        out = self.tracker.update(dets)
        out = out[out.tracker_id != -1]        # -1: not confirmed yet, not reported
        return out.tracker_id.astype(np.int64) + 1, out.xyxy, out.confidence


def _roboflow_available() -> bool:
    try:
        import trackers  # noqa: F401
        return True
    except ImportError:
        return False


def _boxmot_available() -> bool:
    try:
        import boxmot  # noqa: F401
        return True
    except ImportError:
        return False


def run_one(make: Callable[[float], object], data: dict) -> tuple[Dict[str, tuple], float, int]:
    """Track every sequence; returns ({seq: (gt, rows, n)}, seconds in update, frames)."""
    pairs, seconds, frames = {}, 0.0, 0
    for seq, (dets, info, gt) in data.items():
        adapter = make(info.fps)
        empty = Detections.empty(None if not dets or next(iter(dets.values())).feat is None
                                 else next(iter(dets.values())).feat.shape[1])
        inputs = [adapter.prepare(dets.get(f, empty)) for f in range(1, info.length + 1)]
        rows = []
        gc.disable()
        for f, item in enumerate(inputs, 1):
            start = time.perf_counter()
            ids, xyxy, score = adapter.step(item)
            seconds += time.perf_counter() - start
            if len(ids):
                tlwh = np.asarray(xyxy, np.float64).copy()
                tlwh[:, 2:] -= tlwh[:, :2]
                rows.append(np.column_stack([np.full(len(ids), f), ids, tlwh, score, -np.ones((len(ids), 3))]))
        gc.enable()
        frames += info.length
        res = np.concatenate(rows) if rows else np.zeros((0, 10))
        if gt is not None:
            pairs[seq] = (gt, res, info.length)
    return pairs, seconds, frames


def load_data(roots, features: str | None, only=()) -> dict:
    """``{seq: (dets, info, gt)}`` for every sequence under ``roots`` whose name contains one of
    ``only`` (all when empty); ``GROUPS[seq]`` is its parent folder's name."""
    data = {}
    seq_dirs = [d for root in ([roots] if isinstance(roots, str) else roots) for d in find_sequences(root)]
    for seq_dir in seq_dirs:
        if only and not any(o in seq_dir.name for o in only):
            continue
        GROUPS[seq_dir.name] = seq_dir.parent.name
        info = read_seqinfo(seq_dir)
        if features:
            npy = Path(features) / f"{seq_dir.name}.npy"
            if not npy.is_file():
                continue
            dets = read_feature_file(npy)
        else:
            dets = read_det_file(seq_dir / "det" / "det.txt")
        data[seq_dir.name] = (dets, info, read_gt(seq_dir))
    return data


def group_scores(pairs: Dict[str, tuple]) -> tuple[Dict[str, dict], Dict[str, dict], Dict[str, float]]:
    """Per sequence, per group (combined over its sequences) and mean-over-groups summaries."""
    per_seq = {seq: evaluate_sequence(gt, res, n) for seq, (gt, res, n) in pairs.items()}
    RAW.append(per_seq)
    groups: Dict[str, dict] = {}
    for seq in per_seq:
        groups.setdefault(GROUPS.get(seq, "all"), {})[seq] = per_seq[seq]
    by_group = {g: summary(combine_sequences(members)) for g, members in groups.items()}
    mean = {k: float(np.mean([row[k] for row in by_group.values()])) for k in ("HOTA", "MOTA", "IDF1", "IDSW")}
    return {seq: summary(r) for seq, r in per_seq.items()}, by_group, mean


def accuracy_table(args) -> str:
    data = load_data(args.data_root, args.features, args.seqs)
    with_reid = args.features is not None
    contenders: Dict[str, Callable[[float], object]] = {}
    for name in args.ours:
        contenders[f"ours/{name}"] = lambda fps, n=name: OursAdapter(n, fps)
    from ultralytics.trackers.track import TRACKER_MAP
    for name in args.ultralytics:
        if name in TRACKER_MAP:
            contenders[f"ultralytics/{name}"] = lambda fps, n=name: UltralyticsAdapter(n, fps, with_reid)
    if _roboflow_available() and not args.features:   # supervision's trackers (they take no embeddings)
        for name in args.roboflow:
            contenders[f"roboflow/{name}"] = lambda fps, n=name: RoboflowAdapter(n, fps)
    if _boxmot_available() and not args.features:
        for name in BoxmotAdapter.BOXMOT_NAMES:
            contenders[f"boxmot/{name}"] = lambda fps, n=name: BoxmotAdapter(n, fps)
    else:
        print("BoxMOT not installed (or --features given): no BoxMOT rows")
    results, dump = {}, {}
    for label, make in contenders.items():
        try:
            pairs, seconds, frames = run_one(make, data)
        except Exception as err:  # a peer that cannot run on these inputs is reported, not fatal
            print(f"{label}: failed ({err.__class__.__name__}: {err})")
            continue
        for _ in range(args.repeat - 1):  # the same tracks again (trackers are deterministic): time only
            seconds = min(seconds, run_one(make, data)[1])
        per_seq, by_group, mean = group_scores(pairs)
        ms = 1000 * seconds / frames
        results[label] = (mean, by_group, per_seq, ms)
        dump[label] = {"mean": mean, "groups": by_group, "sequences": per_seq, "ms_per_frame": ms}
        print(f"{label:<40} mean HOTA {mean['HOTA']:.2f}  {ms:.3f} ms/frame", flush=True)
    base_ms = results.get(BASELINE, (None, None, None, float("nan")))[3]
    many = len({GROUPS.get(s) for s in data}) > 1
    what = "mean over groups" if many else "combined"
    lines = [f"| tracker | HOTA ({what}) | MOTA | IDF1 | IDSW | ms/frame | ratio to ultralytics ByteTrack |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for label, (c, _, _, ms) in results.items():
        lines.append(f"| {label} | {c['HOTA']:.2f} | {c['MOTA']:.2f} | {c['IDF1']:.2f} | {c['IDSW']:.0f} | "
                     f"{ms:.3f} | {ms / base_ms:.2f} |")
    if many or len(data) > 1:
        for title, index in (("group", 1), ("sequence", 2)):
            keys = list(next(iter(results.values()))[index]) if results else []
            lines += ["", f"HOTA / IDF1 / MOTA per {title}:", "",
                      f"| {title} | " + " | ".join(results) + " |", "|---|" + "---:|" * len(results)]
            for k in keys:
                lines.append(f"| {k} | " + " | ".join(
                    f"{r[index][k]['HOTA']:.2f} / {r[index][k]['IDF1']:.2f} / {r[index][k]['MOTA']:.2f}"
                    for r in results.values()) + " |")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tracker_bench.json").write_text(json.dumps({"groups_of": dict(GROUPS), "runs": dump}, indent=1))
    with open(out / "tracker_bench_raw.pkl", "wb") as fh:  # e.g. to score the split A / split B subsets
        pickle.dump({"groups_of": dict(GROUPS), "runs": dict(zip(dump, RAW))}, fh)
    if args.baseline:
        GROUPS_OF_DUMP.update(GROUPS)
        lines += ["", protocol_verdict(dump, args.baseline)]
    return "\n".join(lines)


def protocol_verdict(dump: dict, baseline: str, dev_group: str = "MOT17-dev", max_loss: float = 0.3) -> str:
    """The protocol for defaults (docs/benchmarks.md) applied to a bench's scores: a candidate may
    replace ``baseline`` only if its mean HOTA over groups rises and no MOT17-dev sequence and no
    variant family loses more than ``max_loss`` HOTA."""
    base = dump[baseline]
    lines = [f"protocol vs {baseline} (mean HOTA {base['mean']['HOTA']:.2f}): a default changes only if "
             f"the mean rises and no {dev_group} sequence or variant family loses > {max_loss} HOTA", "",
             "| candidate | mean HOTA | delta | worst sequence / family (delta) | verdict |", "|---|---:|---:|---|---|"]
    for label, run in dump.items():
        if label == baseline or not label.startswith("ours/"):
            continue
        units = {g: (run["groups"][g]["HOTA"], base["groups"][g]["HOTA"]) for g in base["groups"] if g != dev_group}
        units.update({seq: (run["sequences"][seq]["HOTA"], base["sequences"][seq]["HOTA"])
                      for seq in base["sequences"] if GROUPS_OF_DUMP.get(seq, dev_group) == dev_group
                      and seq in run["sequences"]})
        worst = min(units, key=lambda u: units[u][0] - units[u][1])
        drop = units[worst][0] - units[worst][1]
        delta = run["mean"]["HOTA"] - base["mean"]["HOTA"]
        ok = delta > 0 and drop >= -max_loss
        lines.append(f"| {label} | {run['mean']['HOTA']:.2f} | {delta:+.2f} | {worst} ({drop:+.2f}) | "
                     f"{'passes' if ok else 'fails'} |")
    return "\n".join(lines)


GROUPS_OF_DUMP: Dict[str, str] = {}  # sequence -> group, as saved in tracker_bench.json


def verdict_from_raw(path: str, baseline: str, only=()) -> str:
    """Re-score a saved run (``tracker_bench_raw.pkl``) on the sequences whose names contain one of
    ``only`` (e.g. one split), then apply the protocol; also lists every contender's scores."""
    with open(path, "rb") as fh:
        saved = pickle.load(fh)
    GROUPS.update(saved["groups_of"])
    GROUPS_OF_DUMP.update(saved["groups_of"])
    dump = {}
    for label, per_seq in saved["runs"].items():
        per_seq = {k: v for k, v in per_seq.items() if not only or any(o in k for o in only)}
        groups: Dict[str, dict] = {}
        for seq in per_seq:
            groups.setdefault(GROUPS.get(seq, "all"), {})[seq] = per_seq[seq]
        by_group = {g: summary(combine_sequences(m)) for g, m in groups.items()}
        mean = {k: float(np.mean([r[k] for r in by_group.values()])) for k in ("HOTA", "MOTA", "IDF1", "IDSW")}
        dump[label] = {"mean": mean, "groups": by_group, "sequences": {k: summary(v) for k, v in per_seq.items()}}
    names = list(next(iter(dump.values()))["groups"])
    lines = [f"sequences: {', '.join(only) if only else 'all'}", "",
             "| tracker | mean HOTA / IDF1 / MOTA | " + " | ".join(names) + " |", "|---|" + "---:|" * (len(names) + 1)]
    for label, run in dump.items():
        lines.append(f"| {label} | {run['mean']['HOTA']:.2f} / {run['mean']['IDF1']:.2f} / {run['mean']['MOTA']:.2f} | "
                     + " | ".join(f"{run['groups'][g]['HOTA']:.2f}" for g in names) + " |")
    return "\n".join(lines + ["", protocol_verdict(dump, baseline)])


def synthetic_frames(n_boxes: int, n_frames: int, seed: int = 0) -> List[Detections]:
    """``n_boxes`` boxes moving with constant velocity on a large canvas, with a little jitter."""
    rng = np.random.default_rng(seed)
    side = 40 * np.sqrt(n_boxes) + 200  # keep the density similar at every size
    pos = rng.uniform(0, side, (n_boxes, 2))
    size = rng.uniform(15, 40, (n_boxes, 2))
    vel = rng.normal(0, 2, (n_boxes, 2))
    frames = []
    for f in range(n_frames):
        centre = pos + f * vel + rng.normal(0, 0.5, (n_boxes, 2))
        xyxy = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
        frames.append(Detections(xyxy, rng.uniform(0.3, 1.0, n_boxes), np.zeros(n_boxes, np.int64)))
    return frames


def scale_table(args) -> str:
    sizes = [10, 100, 1000, 5000]
    contenders = {f"ours/{n}": (lambda n=n: OursAdapter(n, 30.0)) for n in args.ours}
    contenders[BASELINE] = lambda: UltralyticsAdapter("bytetrack", 30.0)
    timings: Dict[str, Dict[int, float]] = {k: {} for k in contenders}
    for n in sizes:
        n_frames = 30 if n <= 1000 else 10
        frames = synthetic_frames(n, n_frames)
        for label, make in contenders.items():
            adapter = make()
            inputs = [adapter.prepare(d) for d in frames]
            spent = []
            for item in inputs:
                start = time.perf_counter()
                adapter.step(item)
                spent.append(time.perf_counter() - start)
            timings[label][n] = 1000 * float(np.median(spent[1:]))  # frame 1 only creates tracks
            print(f"{label:<24} {n:>5} boxes: {timings[label][n]:9.2f} ms/frame", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4))
        for label, row in timings.items():
            ax.loglog(list(row), list(row.values()), marker="o", label=label)
        ax.set_xlabel("detections per frame")
        ax.set_ylabel("tracker time per frame (ms)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "tracker_scaling.png", dpi=120)
        print(f"plot: {out / 'tracker_scaling.png'}")
    except ImportError:
        print("matplotlib not installed: no plot")
    lines = ["| tracker | " + " | ".join(f"{n} boxes" for n in sizes) + " |",
             "|---|" + "---:|" * len(sizes)]
    for label, row in timings.items():
        lines.append(f"| {label} | " + " | ".join(f"{row[n]:.2f}" for n in sizes) + " |")
    return "\n".join(lines)


def gmc_table(video: str, n_frames: int = 150) -> str:
    """Per-frame cost of each camera-motion method (ours and ultralytics' GMC) on a real video."""
    import cv2

    from tracker.trackers.gmc import GMC_METHODS, CameraMotion

    cap = cv2.VideoCapture(video)
    frames = []
    while len(frames) < n_frames:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img)
    if not frames:
        raise SystemExit(f"cannot read frames from {video}")
    h, w = frames[0].shape[:2]
    lines = [f"camera-motion compensation on {Path(video).name} ({w}x{h}, {len(frames)} frames), ms/frame",
             "", "| method | ours (downscale 2) | ultralytics GMC (downscale 2) |", "|---|---:|---:|"]
    try:
        from ultralytics.trackers.utils.gmc import GMC
    except ImportError:
        GMC = None
    names = {"sparseOptFlow": "sparseOptFlow", "ecc": "ecc", "orb": "orb"}
    for method in GMC_METHODS:
        if method == "none":
            continue
        ours = CameraMotion(method, downscale=2)
        start = time.perf_counter()
        for img in frames:
            ours.apply(img)
        ours_ms = 1000 * (time.perf_counter() - start) / len(frames)
        peer_ms = float("nan")
        if GMC is not None:
            peer = GMC(method=names[method], downscale=2)
            start = time.perf_counter()
            for img in frames:
                peer.apply(img)
            peer_ms = 1000 * (time.perf_counter() - start) / len(frames)
        lines.append(f"| {method} | {ours_ms:.2f} | {peer_ms:.2f} |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data_root", nargs="*", help="folders of MOTChallenge sequences (needed unless --scale)")
    p.add_argument("--seqs", nargs="*", default=[], help="only sequences whose name contains one of these")
    p.add_argument("--features", help="folder of <seq>.npy detections with embeddings")
    p.add_argument("--ours", nargs="*", default=list(TRACKER_NAMES), help="our trackers to run")
    p.add_argument("--ultralytics", nargs="*", default=list(ULTRALYTICS_NAMES), help="ultralytics trackers")
    p.add_argument("--roboflow", nargs="*", default=list(RoboflowAdapter.NAMES),
                   help="trackers from Roboflow's trackers package (when installed)")
    p.add_argument("--baseline", help="apply the protocol for defaults against this label (e.g. ours/botsort)")
    p.add_argument("--verdict", metavar="JSON", help="only apply --baseline's protocol to a saved tracker_bench.json")
    p.add_argument("--scale", action="store_true", help="time vs detections per frame (synthetic)")
    p.add_argument("--gmc", metavar="VIDEO", help="time the camera-motion methods on a video instead")
    p.add_argument("--out", default="runs/bench", help="folder for the scaling plot/table")
    p.add_argument("--repeat", type=int, default=1,
                   help="track this many times and keep each tracker's fastest time (a shared machine's "
                        "load inflates single runs by up to 2x)")
    args = p.parse_args(argv)
    if args.verdict:
        print(verdict_from_raw(args.verdict, args.baseline or "ours/botsort", args.seqs))
        return 0
    if args.gmc:
        table = gmc_table(args.gmc)
    elif args.scale:
        table = scale_table(args)
    else:
        if not args.data_root:
            p.error("DATA_ROOT is required (or use --scale)")
        table = accuracy_table(args)
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = "gmc.md" if args.gmc else "tracker_scaling.md" if args.scale else "tracker_bench.md"
    (out / name).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
