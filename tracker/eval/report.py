"""Score tables: from (gt, results) per sequence to rows, printed, and saved as CSV/JSON/PNG.

A table is a list of rows ``{"sequence", "class", HOTA, DetA, ...}``: one per sequence and class,
then ``COMBINED`` per class (TrackEval's combination over sequences); with several classes also
TrackEval's two class combinations (``class`` = ``cls_comb_cls_av``, ``cls_comb_det_av``).

Example:
    >>> rows = score_table({"SEQ": (gt, res, 30)}, "MOT17")      # doctest: +SKIP
    >>> rows[-1]["sequence"], rows[-1]["HOTA"]                     # doctest: +SKIP
    ('COMBINED', 87.1)
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .metrics import combine_classes, combine_sequences, evaluate_sequence, summary

METRICS = ("HOTA", "DetA", "AssA", "LocA", "MOTA", "MOTP", "IDF1", "IDP", "IDR",
           "IDSW", "FP", "FN", "Frag", "MT", "ML")
PRINTED = ("HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW", "FP", "FN")
CHART = ("HOTA", "MOTA", "IDF1")


def score_table(pairs: Mapping[str, Tuple[np.ndarray, np.ndarray, int]], benchmark: str,
                classes: Optional[Sequence[int]] = None) -> List[dict]:
    """``{seq: (gt_rows, result_rows, num_frames)}`` -> table rows (see the module docstring)."""
    class_list = [(str(c), c) for c in classes] if benchmark == "multiclass" else [("pedestrian", None)]
    rows, combined = [], {}
    for cls_name, cls_id in class_list:
        per_seq = {seq: evaluate_sequence(gt, res, n, benchmark, cls_id, seq) for seq, (gt, res, n) in pairs.items()}
        rows += [{"sequence": seq, "class": cls_name, **summary(r)} for seq, r in per_seq.items()]
        if per_seq:
            combined[cls_name] = combine_sequences(per_seq)
    rows += [{"sequence": "COMBINED", "class": c, **summary(r)} for c, r in combined.items()]
    if len(combined) > 1:
        rows += [{"sequence": "COMBINED", "class": c, **summary(r)} for c, r in combine_classes(combined).items()]
    return rows


def combined_row(rows: Sequence[dict]) -> dict:
    """The headline row: the combined one over all sequences (and classes, class-averaged)."""
    combined = [r for r in rows if r["sequence"] == "COMBINED"]
    for r in combined:
        if r["class"] == "cls_comb_cls_av":
            return r
    return combined[-1]


def _cell(value) -> str:
    return f"{value:>9.2f}" if isinstance(value, float) else f"{value:>9d}"


def format_table(rows: Sequence[dict], columns: Sequence[str] = PRINTED) -> str:
    several = len({r["class"] for r in rows}) > 1
    head = f"{'sequence':<22}" + (f"{'class':<16}" if several else "")
    lines = [head + "".join(f"{c:>9}" for c in columns)]
    for r in rows:
        lines.append(f"{r['sequence']:<22}" + (f"{r['class']:<16}" if several else "")
                     + "".join(_cell(r[c]) for c in columns))
    return "\n".join(lines)


def save_table(rows: Sequence[dict], out_dir: Path, extra: Optional[dict] = None) -> None:
    """``scores.csv`` (sequence, metrics..., class) and ``scores.json`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    keys = ["sequence", *METRICS, "class"]
    with open(out_dir / "scores.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, keys)
        writer.writeheader()
        writer.writerows(rows)
    several = len({r["class"] for r in rows}) > 1
    scores: dict = {}
    for r in rows:   # {seq: metrics}, with several classes {seq: {class: metrics}}
        metrics = {k: r[k] for k in METRICS}
        if several:
            scores.setdefault(r["sequence"], {})[r["class"]] = metrics
        else:
            scores[r["sequence"]] = metrics
    (out_dir / "scores.json").write_text(json.dumps({"scores": scores, **(extra or {})}, indent=2))


def format_comparison(tables: Mapping[str, Sequence[dict]]) -> str:
    lines = [f"{'tracker':<24}" + "".join(f"{c:>9}" for c in PRINTED)]
    for name, rows in tables.items():
        row = combined_row(rows)
        lines.append(f"{name[:23]:<24}" + "".join(_cell(row[c]) for c in PRINTED))
    return "\n".join(lines)


def save_comparison(tables: Mapping[str, Sequence[dict]], out_dir: Path) -> Dict[str, Path]:
    """``comparison.csv`` (one combined row per tracker) and ``comparison.png`` (HOTA/MOTA/IDF1 bars)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = out_dir / "comparison.csv", out_dir / "comparison.png"
    with open(csv_path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["tracker", *METRICS])
        for name, rows in tables.items():
            row = combined_row(rows)
            writer.writerow([name] + [row[k] for k in METRICS])

    import matplotlib
    matplotlib.use("Agg")   # files only, no display
    import matplotlib.pyplot as plt

    names = list(tables)
    x = np.arange(len(CHART))
    width = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(names) * len(CHART)), 4.0))
    for i, name in enumerate(names):
        row = combined_row(tables[name])
        values = [row[m] for m in CHART]
        bars = ax.bar(x + (i - (len(names) - 1) / 2) * width, values, width, label=name)
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
    ax.set_xticks(x, CHART)
    ax.set_ylabel("score (%)")
    ax.set_title("combined over sequences")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
    return {"csv": csv_path, "png": png_path}
