"""TrackEval scoring: known HOTA=100 and a known id switch, agreement with TrackEval's own
MotChallenge2DBox, interpolation, and (with ../shared) the acceptance numbers of the default tracker."""
import os
from pathlib import Path

import numpy as np
import pytest

from tracker.errors import UserError
from tracker.eval.cli import main_eval
from tracker.eval.metrics import evaluate_sequence, summary
from tracker.trackers.interpolate import interpolate_tracks

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
MOT17_DEV = SHARED / "data" / "MOT17-dev"


def gt_rows(n_frames=10):
    """Two pedestrians walking right on parallel lanes: frame, id, x, y, w, h, consider, class, vis."""
    rows = []
    for f in range(1, n_frames + 1):
        rows.append([f, 1, 10 + 5 * f, 100, 40, 80, 1, 1, 1.0])
        rows.append([f, 2, 10 + 5 * f, 300, 40, 80, 1, 1, 1.0])
    return np.array(rows, np.float64)


def as_results(gt):
    res = np.full((len(gt), 10), -1.0)
    res[:, :6] = gt[:, :6]
    res[:, 6] = 1.0
    return res


def test_perfect_tracking_scores_100():
    gt = gt_rows()
    s = summary(evaluate_sequence(gt, as_results(gt), 10))
    assert s["HOTA"] == pytest.approx(100) and s["MOTA"] == pytest.approx(100)
    assert s["IDF1"] == pytest.approx(100) and s["IDSW"] == 0


def test_one_id_switch_is_counted():
    gt = gt_rows()
    res = as_results(gt)
    res[(res[:, 0] > 5) & (res[:, 1] == 1), 1] = 3  # object 1 gets a new id from frame 6
    s = summary(evaluate_sequence(gt, res, 10))
    assert s["IDSW"] == 1 and s["MOTA"] == pytest.approx(95.0)  # 1 switch over 20 gt boxes
    assert s["IDF1"] == pytest.approx(100 * 2 * 15 / 40)  # IDTP 15 of 20 gt + 20 predictions
    assert s["HOTA"] < 100 and s["DetA"] == pytest.approx(100)


def test_distractors_and_ignored_gt_do_not_count():
    gt = gt_rows()
    extra = np.array([[f, 9, 500, 100, 40, 80, 1, 7, 1.0] for f in range(1, 11)])  # static_person
    ignored = np.array([[f, 8, 800, 100, 40, 80, 0, 1, 1.0] for f in range(1, 11)])  # consider=0
    res = as_results(np.concatenate([gt, extra]))  # tracker also follows the distractor
    s = summary(evaluate_sequence(np.concatenate([gt, extra, ignored]), res, 10))
    assert s["HOTA"] == pytest.approx(100) and s["FP"] == 0 and s["FN"] == 0


def test_matches_trackeval_motchallenge_reader(tmp_path):
    """Same numbers as TrackEval's own file-based MotChallenge2DBox evaluation."""
    trackeval = pytest.importorskip("trackeval")
    rng = np.random.default_rng(0)
    gt = gt_rows(30)
    gt = np.concatenate([gt, [[f, 7, 300, 200, 40, 80, 1, 8, 1.0] for f in range(1, 31)]])
    res = as_results(gt)
    res[:, 2:4] += rng.normal(0, 6, (len(res), 2))
    res[(res[:, 0] > 12) & (res[:, 1] == 2), 1] = 5
    res = res[rng.random(len(res)) > 0.1]
    seq = tmp_path / "gt" / "SEQ-01"
    (seq / "gt").mkdir(parents=True)
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=SEQ-01\nseqLength=30\nframeRate=30\n")
    np.savetxt(seq / "gt" / "gt.txt", gt, delimiter=",", fmt="%g")
    (tmp_path / "trk" / "me" / "data").mkdir(parents=True)
    np.savetxt(tmp_path / "trk" / "me" / "data" / "SEQ-01.txt", res, delimiter=",", fmt="%g")
    ds_cfg = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
    ds_cfg.update(GT_FOLDER=str(tmp_path / "gt"), TRACKERS_FOLDER=str(tmp_path / "trk"), SKIP_SPLIT_FOL=True,
                  SEQ_INFO={"SEQ-01": 30}, GT_LOC_FORMAT="{gt_folder}/{seq}/gt/gt.txt", PRINT_CONFIG=False)
    ev_cfg = trackeval.Evaluator.get_default_eval_config()
    ev_cfg.update(PRINT_CONFIG=False, PRINT_RESULTS=False, OUTPUT_SUMMARY=False, OUTPUT_DETAILED=False,
                  PLOT_CURVES=False, USE_PARALLEL=False, TIME_PROGRESS=False, DISPLAY_LESS_PROGRESS=True)
    metrics = [trackeval.metrics.HOTA({"PRINT_CONFIG": False}), trackeval.metrics.CLEAR({"PRINT_CONFIG": False}),
               trackeval.metrics.Identity({"PRINT_CONFIG": False})]
    out, _ = trackeval.Evaluator(ev_cfg).evaluate([trackeval.datasets.MotChallenge2DBox(ds_cfg)], metrics)
    ref = out["MotChallenge2DBox"]["me"]["SEQ-01"]["pedestrian"]
    ours = evaluate_sequence(gt, res, 30)
    assert np.allclose(ours["HOTA"]["HOTA"], ref["HOTA"]["HOTA"])
    assert ours["CLEAR"]["MOTA"] == pytest.approx(ref["CLEAR"]["MOTA"])
    assert ours["CLEAR"]["IDSW"] == ref["CLEAR"]["IDSW"]
    assert ours["Identity"]["IDF1"] == pytest.approx(ref["Identity"]["IDF1"])


def test_interpolation_fills_short_gaps_only():
    rows = np.array([[1, 1, 0, 0, 10, 10, 1], [5, 1, 40, 0, 10, 10, 1], [40, 1, 0, 0, 10, 10, 1]], float)
    out = interpolate_tracks(rows, max_gap=10, method="linear")
    assert out[:, 0].tolist() == [1, 2, 3, 4, 5, 40]  # the 34-frame gap stays empty
    assert out[1:4, 2].tolist() == [10, 20, 30]
    # a predicted row inside the gap is replaced, one after the last detection is kept
    pred = np.array([[3, 1, 99, 0, 10, 10, 1], [41, 1, 1, 0, 10, 10, 1]], float)
    both = np.concatenate([rows, pred])
    out = interpolate_tracks(both, max_gap=10, observed=np.array([1, 1, 1, 0, 0], bool))
    assert out[out[:, 0] == 3, 2].tolist() == [20] and 41 in out[:, 0]
    smooth = interpolate_tracks(rows, max_gap=10, method="gaussian")
    assert smooth[:, 0].tolist() == out[:, 0].tolist()[:6]


@pytest.mark.skipif(not MOT17_DEV.is_dir(), reason=f"shared MOT17-dev data not found at {MOT17_DEV}")
def test_default_tracker_meets_acceptance_on_mot17_dev(tmp_path, capsys):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    assert main_eval([str(MOT17_DEV), "--out", str(tmp_path), "--detections", "public"]) == 0
    text = capsys.readouterr().out
    assert "tracker time:" in text
    import json
    combined = json.loads((tmp_path / "scores.json").read_text())["scores"]["COMBINED"]
    assert combined["HOTA"] >= 51.0 and combined["IDF1"] >= 58.5 and combined["MOTA"] >= 48.2, combined
    assert (tmp_path / "MOT17-04-FRCNN.txt").is_file() and (tmp_path / "scores.csv").is_file()


def _tiny_sequence(root: Path, name="TINY-01", n_frames=30):
    """A MOTChallenge folder: two walkers; the detector misses walker 1 on frames 12-14."""
    seq = root / name
    (seq / "gt").mkdir(parents=True)
    (seq / "det").mkdir()
    (seq / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nframeRate=30\nseqLength={n_frames}\n"
                                     "imWidth=640\nimHeight=480\n")
    gt = gt_rows(n_frames)
    np.savetxt(seq / "gt" / "gt.txt", gt, delimiter=",", fmt="%g")
    det = gt[~((gt[:, 1] == 1) & np.isin(gt[:, 0], [12, 13, 14]))]
    det_rows = np.column_stack([det[:, 0], -np.ones(len(det)), det[:, 2:6], np.full(len(det), 0.9)])
    np.savetxt(seq / "det" / "det.txt", det_rows, delimiter=",", fmt="%g")
    return seq, det_rows


def test_main_eval_public_interpolate_and_features(tmp_path, capsys):
    import json
    seq, det_rows = _tiny_sequence(tmp_path / "data")
    out = tmp_path / "out"
    args = [str(tmp_path / "data"), "--tracker", "bytetrack", "--out", str(out)]
    assert main_eval(args) == 0
    online = json.loads((out / "scores.json").read_text())["scores"]["COMBINED"]
    assert online["IDSW"] == 0 and online["IDF1"] > 90
    assert main_eval(args + ["--interpolate", "--interpolate-method", "linear"]) == 0
    offline = json.loads((out / "scores.json").read_text())["scores"]["COMBINED"]
    assert offline["FN"] < online["FN"]  # the 3 missed frames are filled in
    rows = np.loadtxt(out / "TINY-01.txt", delimiter=",")
    assert set(np.unique(rows[:, 1])) == {1, 2} and len(rows) == 60

    feats = np.zeros((len(det_rows), 4))
    feats[np.arange(len(det_rows)), (det_rows[:, 3] > 200).astype(int)] = 1.0  # one embedding per walker
    np.save(tmp_path / "TINY-01.npy", np.column_stack([det_rows, feats]))
    assert main_eval([str(tmp_path / "data"), "--features", str(tmp_path), "--out", str(out)]) == 0
    assert "tracker time:" in capsys.readouterr().out
    with pytest.raises(UserError, match="unknown tracker"):
        main_eval([str(tmp_path / "data"), "--tracker", "nope"])
