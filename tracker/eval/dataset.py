"""Which sequences to score, with which ground truth, under which benchmark's rules.

A data root is a MOTChallenge sequence folder or any folder above some (symlinked folders are
followed, as a shared dataset is usually laid out). A sequence is a folder with ``seqinfo.ini`` or
``gt/gt.txt``; ``img1/`` is not needed. ``--seqs a,b`` or a TrackEval seqmap file (a ``name``
header, then one sequence per line) choose a subset, in that order.

The benchmark decides TrackEval's preprocessing (``metrics.py``). It is read from the data unless
given: a sequence name with MOT16/MOT17/MOT20/MOT15 names it; otherwise the gt columns do —
column 8 not a class id (2D MOT 2015 writes world coordinates or -1 there) means ``MOT15``; every
non-pedestrian row switched off (column 7 = 0, as MOTChallenge marks distractors and vehicles)
means ``MOT17``; classes that count (a non-pedestrian row with column 7 != 0) mean ``multiclass``.

Example:
    >>> detect_benchmark(["MOT20-01"], [])
    'MOT20'
    >>> detect_benchmark(["cam1"], [np.array([[1, 1, 0, 0, 5, 5, 1, -1, -1, -1.0]])])
    'MOT15'
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

import numpy as np

from ..errors import UserError
from ..formats.mot import read_mot_results, read_seqinfo
from .metrics import BENCHMARKS, PEDESTRIAN

_NAMED = re.compile(r"MOT(15|16|17|20)", re.IGNORECASE)


@dataclass
class SequenceInfo:
    name: str
    path: Path
    length: int          # frames (seqLength; without seqinfo.ini the last gt frame)
    fps: float = 30.0
    has_seqinfo: bool = True

    @property
    def gt_file(self) -> Path:
        return self.path / "gt" / "gt.txt"


def _is_sequence(folder: str, files: Iterable[str]) -> bool:
    return "seqinfo.ini" in files or os.path.isfile(os.path.join(folder, "gt", "gt.txt"))


def _walk(root: Path) -> List[Path]:
    """Sequence folders below ``root``, following symlinks (each real folder visited once)."""
    found, seen = [], set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:   # a symlink loop, or two links to one folder
            dirs[:] = []
            continue
        seen.add(real)
        if _is_sequence(folder, files):
            found.append(Path(folder))
            dirs[:] = []   # gt/, det/, img1/ hold no sequences
    return found


def read_seqmap(path) -> List[str]:
    """Sequence names of a TrackEval seqmap file (first line ``name``, then a name per line)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"seqmap file not found: {path}")
    names = [line.split(",")[0].strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
    names = [n for n in names if n and not n.startswith("#")]
    if names and names[0].lower() == "name":
        names = names[1:]
    if not names:
        raise UserError(f"seqmap file {path} names no sequences")
    return names


def find_sequences(root, seqs: Optional[Sequence[str]] = None) -> List[SequenceInfo]:
    """The sequences at or below ``root`` (sorted by name, or in the order of ``seqs``)."""
    root = Path(root)
    if not root.exists():
        raise UserError(f"data root not found: {root}")
    folders = [root] if _is_sequence(str(root), os.listdir(root) if root.is_dir() else []) else _walk(root)
    if not folders:
        raise UserError(f"no MOTChallenge sequences (folders with seqinfo.ini or gt/gt.txt) under {root}")
    by_name = {}
    for folder in sorted(folders, key=lambda p: (p.name, str(p))):
        by_name.setdefault(folder.name, folder)   # the same sequence twice: the first path wins
    if seqs:
        missing = [s for s in seqs if s not in by_name]
        if missing:
            raise UserError(f"sequence(s) {', '.join(missing)} not found under {root} "
                            f"(found: {', '.join(sorted(by_name)[:10])})")
        names = list(dict.fromkeys(seqs))
    else:
        names = sorted(by_name)
    return [_sequence_info(by_name[n]) for n in names]


def _sequence_info(folder: Path) -> SequenceInfo:
    if (folder / "seqinfo.ini").is_file():
        info = read_seqinfo(folder)
        if info.length > 0:
            return SequenceInfo(folder.name, folder, info.length, info.fps)
    gt = folder / "gt" / "gt.txt"
    rows = read_mot_results(gt) if gt.is_file() else np.zeros((0, 10))
    length = int(rows[:, 0].max()) if len(rows) else 0
    return SequenceInfo(folder.name, folder, length, 30.0, has_seqinfo=False)


def read_gt(seq: SequenceInfo) -> Optional[np.ndarray]:
    """The sequence's gt rows (validated, at most ``seq.length`` frames), or None without gt."""
    return read_mot_results(seq.gt_file, max_frame=seq.length) if seq.gt_file.is_file() else None


def detect_benchmark(names: Sequence[str], gts: Sequence[np.ndarray]) -> str:
    """The benchmark whose rules score these sequences (see the module docstring)."""
    named = {m.group(0).upper() for m in map(_NAMED.search, names) if m}
    if len(named) == 1:
        return named.pop()
    if len(named) > 1:
        raise UserError(f"sequences of several benchmarks ({', '.join(sorted(named))}): score them "
                        "separately or choose the rules with --benchmark")
    rows = np.concatenate([g for g in gts if len(g)]) if any(len(g) for g in gts) else np.zeros((0, 10))
    if not len(rows):
        return "MOT17"
    cls = rows[:, 7]
    if (cls < 1).any() or (cls != np.round(cls)).any():
        return "MOT15"   # no class column: -1 or world coordinates
    others = cls != PEDESTRIAN
    if not (rows[others, 6] != 0).any():
        return "MOT17"
    return "multiclass"


def check_benchmark(name: Optional[str]) -> Optional[str]:
    if name is None:
        return None
    for b in BENCHMARKS:
        if name.lower() == b.lower():
            return b
    raise UserError(f"unknown --benchmark {name!r}: choose one of {', '.join(BENCHMARKS)}")


def class_ids(gts: Sequence[np.ndarray]) -> List[int]:
    """Classes scored in ``multiclass``: every class with a gt row that counts (column 7 != 0)."""
    ids = set()
    for g in gts:
        if len(g):
            ids.update(int(c) for c in np.unique(g[g[:, 6] != 0, 7]))
    return sorted(ids)
