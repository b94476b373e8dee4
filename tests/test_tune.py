"""`track tune`: search ranges declared on the config fields, the held-out choice, and a tiny real study
(MOT17-mini, 2 folds, processes, resume, best.yaml loadable by `track eval`)."""
import csv
import dataclasses

import pytest
import yaml

from helpers import MOT17_MINI, needs_shared, run_track
from tracker.eval.cli import main_eval
from tracker.trackers import TRACKERS, load_tracker_config
from tracker.tune.cli import main_tune
from tracker.tune.search import TrialScores, assign_folds, choose
from tracker.tune.space import Range, search_space


@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_every_tracker_declares_ranges_that_hold_its_default(name):
    cls, config = load_tracker_config(name)
    space = search_space(config, appearance=True)
    assert {"track_buffer", "match_thresh", "min_hits"} <= set(space), sorted(space)
    for n, r in space.items():
        assert r.low <= getattr(config, n) <= r.high and r.low < r.high, (n, r)
        assert r.is_int == isinstance(getattr(config, n), int)
        dataclasses.replace(config, **{n: r.low})   # a valid value of the field
    motion_only = search_space(config)
    assert not any(dataclasses.fields(config)[[f.name for f in dataclasses.fields(config)].index(n)]
                   .metadata.get("appearance") for n in motion_only)


def test_folds_are_by_sequence():
    assert assign_folds(["d", "a", "c", "b", "e"], 2) == [["a", "c", "e"], ["b", "d"]]


SPACE = {"x": Range("x", 0, 10, 5, False)}


def test_choice_keeps_the_default_unless_it_wins_on_held_out_folds():
    default = TrialScores(0, {"x": 5}, [50.0, 40.0])
    lucky = TrialScores(1, {"x": 9}, [53.0, 39.0])     # better mean, worse on fold 1: overfit to fold 0
    c = choose([default, lucky], default, SPACE)
    assert c.trial is default and c.heldout_gain < 0    # chosen on fold 0, it loses on fold 1
    assert c.heldout_per_fold == [50.0, 39.0]


def test_choice_takes_the_nearest_of_the_near_best():
    default = TrialScores(0, {"x": 5}, [50.0, 40.0])
    far = TrialScores(1, {"x": 10}, [51.1, 41.1])
    near = TrialScores(2, {"x": 6}, [51.0, 41.0])
    c = choose([default, far, near], default, SPACE, tolerance=0.2)
    assert c.trial is near and c.heldout_gain == pytest.approx(1.1)
    assert choose([default, far, near], default, SPACE, tolerance=0.05).trial is far


@needs_shared
def test_tune_on_mot17_mini_end_to_end(tmp_path, capsys):
    out = tmp_path / "tune"
    args = ("tune", MOT17_MINI, "--tracker", "bytetrack", "--folds", "2", "--metric", "HOTA", "--out", out,
            "--params", "match_thresh,track_buffer,min_hits")
    proc = run_track(*args, "--trials", "3", "--jobs", "2", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "held-out folds: default" in proc.stdout and "kept:" in proc.stdout
    with open(out / "trials.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 and rows[0]["is_default"] == "True" and float(rows[0]["match_thresh"]) == 0.8
    assert sum(r["kept"] == "True" for r in rows) == 1
    assert (out / "trials.png").read_bytes()[:4] == b"\x89PNG" and (out / "study.db").is_file()
    best = yaml.safe_load((out / "best.yaml").read_text())
    kept = next(r for r in rows if r["kept"] == "True")
    assert best["tracker_type"] == "bytetrack" and best["track_buffer"] == int(kept["track_buffer"])

    assert main_tune([str(a) for a in args[1:]] + ["--trials", "4", "--jobs", "1"]) == 0   # resume: one more
    assert "3 trials done, 1 to run" in capsys.readouterr().err
    with open(out / "trials.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 4

    assert main_eval([str(MOT17_MINI), "--tracker", str(out / "best.yaml"), "--out", str(tmp_path / "ev")]) == 0
    assert (tmp_path / "ev" / "scores.csv").is_file()   # best.yaml is a tracker config `track eval` loads
