"""``track eval``: score MOTChallenge results with TrackEval, our tracker's or anyone's.

    track eval DATA_ROOT [--tracker NAME|YAML] [--detections public|model] [--features DIR]
               [--results DIR ...] [--benchmark MOT15|MOT16|MOT17|MOT20|multiclass]
               [--seqs a,b | --seqmap FILE] [--out DIR] [--interpolate] [--set key=value ...]

Without ``--results``: for every sequence under DATA_ROOT read detections (``det/det.txt``, the
``--features DIR/<seq>.npy`` rows with embeddings, or run the detector on ``img1/``), track them
frame by frame and write ``OUT/<seq>.txt``. With ``--results DIR``: score the files ``DIR/<seq>.txt``
(or TrackEval's ``DIR/data/<seq>.txt``) another tracker wrote; several ``--results``, or one folder of
result folders, give a comparison (``comparison.csv``, ``comparison.png``).
Where ``gt/gt.txt`` exists, print and save the scores per sequence and combined
(``OUT/scores.csv``, ``OUT/scores.json``), with the benchmark's rules (``dataset.py``).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ..errors import UserError
from ..types import Detections
from ..formats.mot import format_mot_rows, read_det_file, read_feature_file, read_mot_results, read_seqinfo
from . import dataset
from .dataset import SequenceInfo, check_benchmark, class_ids, detect_benchmark, read_seqmap
from .report import (combined_row, format_comparison, format_table, save_comparison, save_table,
                     score_table)


def parse_overrides(pairs) -> Dict[str, str]:
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


def make_out_dir(path) -> Path:
    """Create the output folder, or say in one line why it cannot be."""
    path = Path(path)
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.is_dir():
            raise UserError(f"cannot create output folder {path}: {parent} is a file")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create output folder {path}: {err.strerror or err}") from None
    return path


def select_sequences(args) -> List[SequenceInfo]:
    names = None
    if args.seqs:
        names = [s.strip() for s in args.seqs.split(",") if s.strip()]
    if args.seqmap:
        if names:
            raise UserError("give --seqs or --seqmap, not both")
        names = read_seqmap(args.seqmap)
    return dataset.find_sequences(args.data_root, names)


# -- the earlier helpers, kept for tools that call them (tools/bench_trackers.py) ----------------------
def find_sequences(root) -> List[Path]:
    """Sequence folders at or below ``root`` (sorted by name; symlinks followed)."""
    return [s.path for s in dataset.find_sequences(root)]


def read_gt(seq_dir) -> Optional[np.ndarray]:
    """``<seq_dir>/gt/gt.txt`` rows, or None."""
    gt = Path(seq_dir) / "gt" / "gt.txt"
    return read_mot_results(gt) if gt.is_file() else None


def score_sequences(pairs: Dict[str, tuple], benchmark: str = "MOT17") -> Dict[str, Dict[str, float]]:
    """``{seq: (gt_rows, result_rows, num_frames)}`` -> ``{seq | "COMBINED": metrics}`` (pedestrians)."""
    return {r["sequence"]: {k: v for k, v in r.items() if k not in ("sequence", "class")}
            for r in score_table(pairs, benchmark)}


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
    p.add_argument("--out", help="output folder (default runs/eval/<tracker or results folder>)")
    p.add_argument("--interpolate", action="store_true", help="offline: fill gaps of finished tracks")
    p.add_argument("--interpolate-method", choices=("linear", "gaussian"), default="gaussian",
                   help="linear, or linear then Gaussian smoothing of each track (default)")
    p.add_argument("--max-gap", type=int, default=30, help="longest gap (frames) --interpolate fills")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a tracker option, e.g. --set track_buffer=60 (repeatable)")
    p.add_argument("--no-images", action="store_true",
                   help="do not give the tracker the img1/ frames (no camera-motion compensation)")
    p.add_argument("--results", action="append", default=[], metavar="DIR",
                   help="score existing result files DIR/<seq>.txt instead of running a tracker; "
                        "repeat, or give a folder of result folders, to compare trackers")
    p.add_argument("--benchmark", help="scoring rules: MOT15, MOT16, MOT17, MOT20 or multiclass "
                   "(default: read from sequence names and gt columns)")
    p.add_argument("--seqs", help="comma-separated sequence names to score (default: all found)")
    p.add_argument("--seqmap", help="TrackEval seqmap file naming the sequences to score")
    p.add_argument("--quiet", action="store_true", help="print only the combined line")
    return p


def sequence_detections(seq: SequenceInfo, feature_dir: Optional[Path], detections: str = "public",
                        model: str = "yolo11n.pt", device: Optional[str] = None
                        ) -> Optional[Dict[int, Detections]]:
    """The detections a tracker gets on ``seq`` (None: no feature file, skip the sequence)."""
    if feature_dir is not None:
        npy = feature_dir / f"{seq.name}.npy"
        return read_feature_file(npy) if npy.is_file() else None
    if detections == "public":
        return read_det_file(seq.path / "det" / "det.txt", max_frame=seq.length or None)
    return _model_detections(seq.path, read_seqinfo(seq.path), model, device)


def result_sets(dirs: List[str], sequences: List[SequenceInfo]) -> Dict[str, Dict[str, Path]]:
    """``--results`` folders -> ``{tracker name: {seq: result file}}``.

    A folder holding ``<seq>.txt`` (or TrackEval's ``<tracker>/data/<seq>.txt``) is one tracker; a
    folder whose subfolders are such folders is several.
    """
    names = [s.name for s in sequences]

    def files_in(folder: Path) -> Optional[Dict[str, Path]]:
        for base in (folder, folder / "data"):
            found = {n: base / f"{n}.txt" for n in names if (base / f"{n}.txt").is_file()}
            if found:
                missing = [n for n in names if n not in found]
                if missing:
                    raise UserError(f"results {base} have no file for sequence(s) {', '.join(missing)} "
                                    f"(expected {base / (missing[0] + '.txt')}; choose sequences with --seqs)")
                return found
        return None

    out: Dict[str, Dict[str, Path]] = {}
    for d in dirs:
        folder = Path(d)
        if not folder.is_dir():
            raise UserError(f"results folder not found: {folder}")
        files = files_in(folder)
        found = {folder.name: files} if files else {
            sub.name: f for sub in sorted(p for p in folder.iterdir() if p.is_dir())
            if (f := files_in(sub))}
        if not found:
            raise UserError(f"no result files <seq>.txt for {', '.join(names[:3])}... in {folder} "
                            "or its subfolders")
        for name, f in found.items():
            key = name if name not in out else f"{folder.name}/{name}"
            out[key] = f
    return out


def main_eval(argv: List[str]) -> int:
    """Entry point of ``track eval``; returns the exit code (UserError propagates to the CLI)."""
    args = build_parser().parse_args(argv)
    benchmark = check_benchmark(args.benchmark)
    if args.results:
        return _score_results(args, benchmark)
    return _track_and_score(args, benchmark)


def _ground_truth(sequences: List[SequenceInfo], benchmark: Optional[str], need_all: bool):
    gts = {s.name: g for s in sequences if (g := dataset.read_gt(s)) is not None}
    if need_all and len(gts) < len(sequences):
        missing = [s.name for s in sequences if s.name not in gts]
        raise UserError(f"no ground truth gt/gt.txt for sequence(s) {', '.join(missing)}")
    benchmark = benchmark or detect_benchmark(list(gts), list(gts.values()))
    classes = class_ids(list(gts.values())) if benchmark == "multiclass" else None
    return gts, benchmark, classes


def _score_results(args, benchmark: Optional[str]) -> int:
    sequences = select_sequences(args)
    sets = result_sets(args.results, sequences)
    gts, benchmark, classes = _ground_truth(sequences, benchmark, need_all=True)
    known = {s.name: s.length for s in sequences if s.has_seqinfo}   # else: as long as the rows go
    tables = {}
    for name, files in sets.items():
        pairs = {}
        for seq, path in files.items():
            res = read_mot_results(path, max_frame=known.get(seq))
            length = known.get(seq) or int(max(gts[seq][:, 0].max(initial=0), res[:, 0].max(initial=0)))
            pairs[seq] = (gts[seq], res, length)
        if classes and not any(np.isin(r[:, 7], classes).any() for _, r, _ in pairs.values()):
            print(f"warning: results {name} carry no class id of the gt (column 8) in any row: "
                  "multiclass scoring counts every box as a miss", file=sys.stderr)
        tables[name] = score_table(pairs, benchmark, classes)
    default_name = next(iter(sets)) if len(sets) == 1 else "comparison"
    out_dir = make_out_dir(args.out or Path("runs") / "eval" / default_name)
    extra = {"benchmark": benchmark}
    if len(tables) == 1:
        (name, rows), = tables.items()
        save_table(rows, out_dir, {"results": str(args.results[0]), **extra})
        _print_table(rows, args.quiet)
    else:
        for name, rows in tables.items():
            save_table(rows, make_out_dir(out_dir / name.replace("/", "_")), {"results": name, **extra})
        paths = save_comparison(tables, out_dir)
        print(format_comparison(tables))
        print(f"chart: {paths['png']}")
    print(f"benchmark: {benchmark}")
    print(f"scores: {out_dir}")
    return 0


def _print_table(rows, quiet: bool) -> None:
    text = format_table(rows)
    if quiet:
        row = combined_row(rows)
        text = format_table([row]).splitlines()[-1]
    print(text)


def _track_and_score(args, benchmark: Optional[str]) -> int:
    from ..trackers import load_tracker_config
    from ..trackers.interpolate import interpolate_tracks

    overrides = parse_overrides(args.overrides)
    tracker_cls, config = load_tracker_config(args.tracker, overrides)  # fail early on bad names
    out_dir = make_out_dir(args.out or Path("runs") / "eval" / Path(str(args.tracker)).stem)
    feature_dir = Path(args.features) if args.features else None
    if feature_dir is not None and not feature_dir.is_dir():
        raise UserError(f"features folder not found: {feature_dir}")

    sequences = select_sequences(args)
    gts, benchmark, classes = _ground_truth(sequences, benchmark, need_all=False)
    pairs, seconds, frames = {}, 0.0, 0
    for seq in sequences:
        dets = sequence_detections(seq, feature_dir, args.detections, args.model, args.device)
        if dets is None:
            print(f"{seq.name}: skipped (no {seq.name}.npy in {feature_dir})")
            continue
        length = seq.length or max(dets, default=0)
        tracker = tracker_cls(config, frame_rate=seq.fps)
        images = None if args.no_images or not seq.has_seqinfo else _image_reader(seq.path, read_seqinfo(seq.path))
        rows, spent, observed = track_sequence(tracker, dets, length, images)
        seconds, frames = seconds + spent, frames + length
        if args.interpolate:
            rows = interpolate_tracks(rows, max_gap=args.max_gap, method=args.interpolate_method,
                                      observed=observed)
        with open(out_dir / f"{seq.name}.txt", "w") as fh:
            fh.writelines(f"{int(r[0])},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},{r[6]:.4f},-1,-1,-1\n"
                          for r in rows)
        if seq.name in gts:
            pairs[seq.name] = (gts[seq.name], rows, length)
    if frames == 0:
        raise UserError(f"no sequences to evaluate under {args.data_root}")
    ms = 1000 * seconds / frames
    if pairs:
        rows = score_table(pairs, benchmark, classes)
        save_table(rows, out_dir, {"tracker": str(args.tracker), "overrides": overrides, "benchmark": benchmark,
                                   "interpolate": args.interpolate, "tracker_ms_per_frame": ms})
        _print_table(rows, args.quiet)
    print(f"tracker time: {ms:.3f} ms/frame")
    print(f"results: {out_dir}")
    return 0
