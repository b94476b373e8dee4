#!/usr/bin/env python
"""Score any tracker's MOTChallenge results with TrackEval's metrics — now ``track eval --results``.

    python tools/eval_mot.py GT_ROOT RESULTS_DIR [--out DIR]

is the same as ``track eval GT_ROOT --results RESULTS_DIR --out DIR`` (default DIR: RESULTS_DIR), kept
for scripts that call it. Every sequence with ground truth needs a ``<seq>.txt`` in RESULTS_DIR
(as TrackEval wants); choose sequences with ``track eval ... --seqs``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker.errors import UserError  # noqa: E402
from tracker.eval.cli import main_eval  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("gt_root", help="folder of MOTChallenge sequences with gt/gt.txt")
    p.add_argument("results_dir", help="folder of <seq>.txt tracker results")
    p.add_argument("--out", help="where to write scores.csv/json (default: RESULTS_DIR)")
    args = p.parse_args(argv)
    try:
        return main_eval([args.gt_root, "--results", args.results_dir, "--out", args.out or args.results_dir])
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
