#!/usr/bin/env python
"""Score any tracker's MOTChallenge results with the same TrackEval metrics as ``track eval``.

    python tools/eval_mot.py GT_ROOT RESULTS_DIR [--out DIR]

GT_ROOT holds sequence folders (``<seq>/seqinfo.ini``, ``<seq>/gt/gt.txt``); RESULTS_DIR holds
``<seq>.txt`` files (``frame,id,x,y,w,h,score,-1,-1,-1``). Sequences without a result file are
scored as empty (every object missed), as MOTChallenge does. Prints HOTA/MOTA/IDF1/IDSW per sequence
and combined, and writes ``scores.csv``/``scores.json`` to ``--out`` (default RESULTS_DIR).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker.errors import UserError  # noqa: E402
from tracker.eval.cli import find_sequences, format_table, read_gt, save_table, score_sequences  # noqa: E402
from tracker.formats.mot import read_mot_results, read_seqinfo  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("gt_root", help="folder of MOTChallenge sequences with gt/gt.txt")
    p.add_argument("results_dir", help="folder of <seq>.txt tracker results")
    p.add_argument("--out", help="where to write scores.csv/json (default: RESULTS_DIR)")
    args = p.parse_args(argv)
    try:
        results = Path(args.results_dir)
        if not results.is_dir():
            raise UserError(f"results folder not found: {results}")
        pairs = {}
        for seq_dir in find_sequences(args.gt_root):
            gt = read_gt(seq_dir)
            if gt is None:
                continue
            info = read_seqinfo(seq_dir)
            res_file = results / f"{seq_dir.name}.txt"
            res = read_mot_results(res_file) if res_file.is_file() else np.zeros((0, 10))
            if not res_file.is_file():
                print(f"{seq_dir.name}: no {res_file.name} in {results}, scored as empty")
            length = info.length or int(max(gt[:, 0].max(), res[:, 0].max() if len(res) else 0))
            pairs[seq_dir.name] = (gt, res, length)
        if not pairs:
            raise UserError(f"no sequences with gt/gt.txt under {args.gt_root}")
        table = score_sequences(pairs)
        print(format_table(table))
        save_table(table, Path(args.out or results), {"results": str(results)})
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
