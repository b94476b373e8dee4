"""`track eval` scores every MOT flavour exactly as TrackEval does (to 0.01), on generated fixtures and
real MOT17 data, and reads data roots as users lay them out (symlinks, --seqs, seqmaps, no img1/).

The reference is TrackEval's own file-based ``Evaluator`` + ``MotChallenge2DBox`` with the matching
``BENCHMARK``; multi-class gt is scored by TrackEval one class at a time (the rows of that class) and
combined with its ``combine_classes_*`` functions, as its ``Evaluator`` combines classes.
"""
import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import run_track
from tracker.errors import UserError
from tracker.eval.cli import main_eval

trackeval = pytest.importorskip("trackeval")

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
MOT17_DEV = SHARED / "data" / "MOT17-dev"
COMPARED = ("HOTA", "DetA", "AssA", "LocA", "MOTA", "MOTP", "IDF1", "IDP", "IDR", "IDSW", "FP", "FN",
            "MT", "ML", "Frag")


# -- fixtures -----------------------------------------------------------------------------------------
def walkers(rng, n_frames, n_objects, start_id=1):
    """gt-like rows frame,id,x,y,w,h of objects walking across, each present for a random span."""
    rows = []
    for k in range(n_objects):
        first = int(rng.integers(1, n_frames // 2))
        last = int(rng.integers(first + 5, n_frames + 1))
        x, y = rng.uniform(0, 600), rng.uniform(0, 400)
        vx, vy = rng.normal(0, 4), rng.normal(0, 1)
        w, h = rng.uniform(20, 60), rng.uniform(50, 150)
        for f in range(first, last + 1):
            rows.append([f, start_id + k, x + vx * f, y + vy * f, w, h])
    return np.array(rows, np.float64)


def tracker_output(rng, gt6, switch_every=17, miss=0.1, jitter=4.0, fp=15, n_frames=60):
    """A plausible tracker: noisy boxes, misses, id switches, false positives; conf in column 7."""
    res = gt6[rng.random(len(gt6)) > miss].copy()
    res[:, 2:4] += rng.normal(0, jitter, (len(res), 2))
    res[:, 1] = res[:, 1] * 1000 + (res[:, 0] // switch_every) * (res[:, 1] % 3 == 0)  # some ids switch
    fps = np.column_stack([rng.integers(1, n_frames + 1, fp), 900000 + np.arange(fp),
                           rng.uniform(0, 600, (fp, 2)), np.full((fp, 2), 40.0)])
    res = np.concatenate([res, fps])
    return np.column_stack([res, rng.uniform(0.3, 1.0, len(res))])


def write_seq(root: Path, name: str, gt: np.ndarray, n_frames: int, seqinfo=True):
    seq = root / name
    (seq / "gt").mkdir(parents=True)
    if seqinfo:
        (seq / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nimDir=img1\nframeRate=30\n"
                                         f"seqLength={n_frames}\nimWidth=800\nimHeight=600\nimExt=.jpg\n")
    np.savetxt(seq / "gt" / "gt.txt", gt, delimiter=",", fmt="%.10g")
    return seq


def mot15_fixture(rng, n_frames=60):
    """2D MOT 2015: frame,id,x,y,w,h,conf,wx,wy,wz — no class column, world coordinates in 8-10."""
    g = walkers(rng, n_frames, 8)
    world = np.column_stack([rng.uniform(-5, 20, len(g)), rng.uniform(-5, 20, len(g)), np.zeros(len(g))])
    world[::7] = -1
    world[::5, 0] = 7.0                      # a world x of 7 is no "static_person"
    conf = np.ones(len(g))
    conf[g[:, 1] == 3] = 0                   # an object marked ignore
    return g, np.column_stack([g, conf, world])


def mot17_fixture(rng, n_frames=60, distractor_classes=(2, 7, 8, 12), vehicle=3):
    """MOT16/17/20: frame,id,x,y,w,h,consider,class,visibility with distractors the tracker follows."""
    ped = walkers(rng, n_frames, 7)
    others = walkers(rng, n_frames, 2 * len(distractor_classes) + 2, start_id=100)
    cls = np.array([*distractor_classes, *distractor_classes, vehicle, 10])[(others[:, 1] - 100).astype(int)]
    vis = lambda n: np.round(rng.uniform(0, 1, n), 3)
    ped_rows = np.column_stack([ped, np.ones(len(ped)), np.ones(len(ped)), vis(len(ped))])
    ped_rows[(ped[:, 1] == 2) & (ped[:, 0] % 4 == 0), 6] = 0   # a few pedestrian boxes not considered
    other_rows = np.column_stack([others, np.zeros(len(others)), cls, vis(len(others))])
    gt = np.concatenate([ped_rows, other_rows])
    return np.concatenate([ped, others]), gt[np.argsort(gt[:, 0], kind="stable")]


def multiclass_fixture(rng, n_frames=60):
    """KITTI-like MOT rows: class 1 pedestrians and class 3 cars, both scored."""
    ped, car = walkers(rng, n_frames, 6), walkers(rng, n_frames, 5, start_id=50)
    gt = np.concatenate([np.column_stack([ped, np.ones(len(ped)), np.full(len(ped), 1), np.ones(len(ped))]),
                         np.column_stack([car, np.ones(len(car)), np.full(len(car), 3), np.ones(len(car))])])
    gt[(gt[:, 1] == 51) & (gt[:, 0] < 10), 6] = 0
    return ped, car, gt


def res_rows(res7, cls=-1.0):
    return np.column_stack([res7, np.full((len(res7), 3), -1.0)]) if cls == -1 else \
        np.column_stack([res7, np.full(len(res7), cls), np.full((len(res7), 2), -1.0)])


# -- TrackEval reference ------------------------------------------------------------------------------
def trackeval_scores(gt_root: Path, res_dir: Path, seq_lengths: dict, benchmark: str) -> dict:
    """{seq | "COMBINED": {metric: value}} from TrackEval's Evaluator on the files themselves."""
    trk = res_dir.parent / f"te_{res_dir.name}"
    (trk / "t" / "data").mkdir(parents=True, exist_ok=True)
    for seq in seq_lengths:
        shutil.copy(res_dir / f"{seq}.txt", trk / "t" / "data" / f"{seq}.txt")
    ds_cfg = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
    ds_cfg.update(GT_FOLDER=str(gt_root), TRACKERS_FOLDER=str(trk), SKIP_SPLIT_FOL=True, BENCHMARK=benchmark,
                  SEQ_INFO=dict(seq_lengths), PRINT_CONFIG=False)
    ev_cfg = trackeval.Evaluator.get_default_eval_config()
    ev_cfg.update(PRINT_CONFIG=False, PRINT_RESULTS=False, OUTPUT_SUMMARY=False, OUTPUT_DETAILED=False,
                  PLOT_CURVES=False, USE_PARALLEL=False, TIME_PROGRESS=False, DISPLAY_LESS_PROGRESS=True,
                  BREAK_ON_ERROR=True)
    metrics = [trackeval.metrics.HOTA({"PRINT_CONFIG": False}), trackeval.metrics.CLEAR({"PRINT_CONFIG": False}),
               trackeval.metrics.Identity({"PRINT_CONFIG": False})]
    out, _ = trackeval.Evaluator(ev_cfg).evaluate([trackeval.datasets.MotChallenge2DBox(ds_cfg)], metrics)
    res = out["MotChallenge2DBox"]["t"]
    return {("COMBINED" if seq == "COMBINED_SEQ" else seq): r["pedestrian"] for seq, r in res.items()}


def flat(r: dict) -> dict:
    h, c, i = r["HOTA"], r["CLEAR"], r["Identity"]
    return {"HOTA": 100 * np.mean(h["HOTA"]), "DetA": 100 * np.mean(h["DetA"]), "AssA": 100 * np.mean(h["AssA"]),
            "LocA": 100 * np.mean(h["LocA"]), "MOTA": 100 * c["MOTA"], "MOTP": 100 * c["MOTP"],
            "IDF1": 100 * i["IDF1"], "IDP": 100 * i["IDP"], "IDR": 100 * i["IDR"], "IDSW": c["IDSW"],
            "FP": c["CLR_FP"], "FN": c["CLR_FN"], "MT": c["MT"], "ML": c["ML"], "Frag": c["Frag"]}


def read_scores(out: Path) -> dict:
    with open(out / "scores.csv") as fh:
        return {(r["sequence"], r["class"]): {k: float(v) for k, v in r.items() if k not in ("sequence", "class")}
                for r in csv.DictReader(fh)}


def assert_same(ours: dict, ref: dict, where: str):
    for k in COMPARED:
        assert abs(ours[k] - ref[k]) <= 0.01, f"{where} {k}: ours {ours[k]} TrackEval {ref[k]}"


def build(tmp_path, fixture, names, n_frames=60, cls=-1.0, seed=0):
    rng = np.random.default_rng(seed)
    gt_root, res_dir = tmp_path / "gt", tmp_path / "res"
    res_dir.mkdir()
    for name in names:
        g6, gt = fixture(rng, n_frames)
        write_seq(gt_root, name, gt, n_frames)
        np.savetxt(res_dir / f"{name}.txt", res_rows(tracker_output(rng, g6, n_frames=n_frames), cls),
                   delimiter=",", fmt="%.10g")
    return gt_root, res_dir


@pytest.mark.parametrize("benchmark,fixture,names", [
    ("MOT15", mot15_fixture, ["PETS09-S2L9", "TUD-Campus9"]),
    ("MOT17", mot17_fixture, ["MOT17-90-FRCNN", "MOT17-91-FRCNN"]),
    ("MOT16", mot17_fixture, ["MOT16-90", "MOT16-91"]),
    ("MOT20", lambda rng, n: mot17_fixture(rng, n, distractor_classes=(2, 6, 7, 8, 12)), ["MOT20-90", "MOT20-91"]),
])
def test_flavour_matches_trackeval(tmp_path, benchmark, fixture, names):
    gt_root, res_dir = build(tmp_path, fixture, names)
    out = tmp_path / "out"
    assert main_eval([str(gt_root), "--results", str(res_dir), "--out", str(out), "--quiet"]) == 0
    assert f'"benchmark": "{benchmark}"' in (out / "scores.json").read_text()   # detected from the data
    ours = read_scores(out)
    ref = trackeval_scores(gt_root, res_dir, {n: 60 for n in names}, benchmark)
    for seq in [*names, "COMBINED"]:
        assert_same(ours[(seq, "pedestrian")], flat(ref[seq]), f"{benchmark} {seq}")
    assert ours[("COMBINED", "pedestrian")]["FP"] > 0 and ours[("COMBINED", "pedestrian")]["IDSW"] > 0


def test_mot15_is_not_scored_as_mot17(tmp_path):
    """The bug users hit: every MOT15 gt row dropped as 'not a pedestrian' (HOTA ~1, MOTA -23003)."""
    gt_root, res_dir = build(tmp_path, mot15_fixture, ["cam-01"])   # a name that says nothing
    out = tmp_path / "out"
    assert main_eval([str(gt_root), "--results", str(res_dir), "--out", str(out), "--quiet"]) == 0
    ref = trackeval_scores(gt_root, res_dir, {"cam-01": 60}, "MOT15")
    assert_same(read_scores(out)[("COMBINED", "pedestrian")], flat(ref["COMBINED"]), "MOT15 by columns")
    assert main_eval([str(gt_root), "--results", str(res_dir), "--out", str(out), "--benchmark", "MOT17"]) == 0
    assert read_scores(out)[("COMBINED", "pedestrian")]["HOTA"] < 5   # what the MOT17 rules make of it


def test_distractor_rules_follow_the_benchmark(tmp_path):
    """MOT20 also forgives non_mot_vehicle (class 6); --benchmark chooses the rules."""
    fixture = lambda rng, n: mot17_fixture(rng, n, distractor_classes=(6,))
    gt_root, res_dir = build(tmp_path, fixture, ["SEQ-A"])
    scores = {}
    for b in ("MOT17", "MOT20"):
        assert main_eval([str(gt_root), "--results", str(res_dir), "--out", str(tmp_path / b), "--benchmark", b]) == 0
        scores[b] = read_scores(tmp_path / b)[("COMBINED", "pedestrian")]
        assert_same(scores[b], flat(trackeval_scores(gt_root, res_dir, {"SEQ-A": 60}, b)["COMBINED"]), b)
    assert scores["MOT20"]["FP"] < scores["MOT17"]["FP"]


def test_multiclass_matches_trackeval_per_class(tmp_path):
    rng = np.random.default_rng(3)
    gt_root, res_dir = tmp_path / "gt", tmp_path / "res"
    res_dir.mkdir()
    names, per_class_res = ["KITTI-like-01", "KITTI-like-02"], {}
    for name in names:
        ped, car, gt = multiclass_fixture(rng)
        write_seq(gt_root, name, gt, 60)
        rp = res_rows(tracker_output(rng, ped), 1)
        rc = res_rows(tracker_output(rng, car), 3)
        rc[:, 1] += 500000
        np.savetxt(res_dir / f"{name}.txt", np.concatenate([rp, rc]), delimiter=",", fmt="%.10g")
        per_class_res[name] = {1: (gt[gt[:, 7] == 1], rp), 3: (gt[gt[:, 7] == 3], rc)}
    out = tmp_path / "out"
    assert main_eval([str(gt_root), "--results", str(res_dir), "--out", str(out)]) == 0
    ours = read_scores(out)
    assert "multiclass" in (out / "scores.json").read_text()
    # TrackEval on the rows of one class at a time (class 1 in its files), then its class combinations
    combined = {}
    metrics = {"HOTA": trackeval.metrics.HOTA({"PRINT_CONFIG": False}),
               "CLEAR": trackeval.metrics.CLEAR({"PRINT_CONFIG": False}),
               "Identity": trackeval.metrics.Identity({"PRINT_CONFIG": False})}
    for cls in (1, 3):
        root, rdir = tmp_path / f"gt{cls}", tmp_path / f"r{cls}"
        rdir.mkdir()
        for name in names:
            g, r = (a.copy() for a in per_class_res[name][cls])
            g[:, 7], r[:, 7] = 1, -1
            write_seq(root, name, g, 60)
            np.savetxt(rdir / f"{name}.txt", r, delimiter=",", fmt="%.10g")
        ref = trackeval_scores(root, rdir, {n: 60 for n in names}, "MOT17")
        for seq in [*names, "COMBINED"]:
            assert_same(ours[(seq, str(cls))], flat(ref[seq]), f"class {cls} {seq}")
        combined[cls] = ref["COMBINED"]
    for kind, fn in (("cls_comb_cls_av", "combine_classes_class_averaged"),
                     ("cls_comb_det_av", "combine_classes_det_averaged")):
        ref = {m: getattr(metric, fn)({c: combined[c][m] for c in combined}) for m, metric in metrics.items()}
        assert_same(ours[("COMBINED", kind)], flat(ref), kind)


def test_symlinked_root_seqs_seqmap_and_no_seqinfo(tmp_path):
    gt_root, res_dir = build(tmp_path, mot17_fixture, ["MOT17-90-FRCNN", "MOT17-91-FRCNN", "MOT17-92-FRCNN"])
    links = tmp_path / "links" / "train"
    links.mkdir(parents=True)
    for seq in gt_root.iterdir():
        os.symlink(seq, links / seq.name)
    os.symlink(links, links / "loop")          # a cycle must not hang the walk
    real, linked = tmp_path / "o_real", tmp_path / "o_link"
    assert main_eval([str(gt_root), "--results", str(res_dir), "--out", str(real)]) == 0
    assert main_eval([str(tmp_path / "links"), "--results", str(res_dir), "--out", str(linked)]) == 0
    assert (real / "scores.csv").read_text() == (linked / "scores.csv").read_text()

    seqmap = tmp_path / "MOT17-train.txt"
    seqmap.write_text("name\nMOT17-92-FRCNN\nMOT17-90-FRCNN\n")
    for sel in (["--seqs", "MOT17-92-FRCNN,MOT17-90-FRCNN"], ["--seqmap", str(seqmap)]):
        out = tmp_path / ("o" + sel[0])
        assert main_eval([str(links), "--results", str(res_dir), "--out", str(out), *sel]) == 0
        scores = read_scores(out)
        assert [s for s, _ in scores] == ["MOT17-92-FRCNN", "MOT17-90-FRCNN", "COMBINED"]
        assert scores[("MOT17-90-FRCNN", "pedestrian")] == read_scores(real)[("MOT17-90-FRCNN", "pedestrian")]
    with pytest.raises(UserError, match="MOT17-99"):
        main_eval([str(links), "--results", str(res_dir), "--seqs", "MOT17-99"])

    # no seqinfo.ini: the sequence lasts as long as its rows (frames with no rows add nothing)
    (gt_root / "MOT17-90-FRCNN" / "seqinfo.ini").unlink()
    out = tmp_path / "o_noini"
    assert main_eval([str(gt_root / "MOT17-90-FRCNN"), "--results", str(res_dir), "--out", str(out)]) == 0
    assert read_scores(out)[("COMBINED", "pedestrian")] == read_scores(real)[("MOT17-90-FRCNN", "pedestrian")]


def test_several_results_give_a_comparison_and_chart(tmp_path):
    gt_root, res_a = build(tmp_path, mot17_fixture, ["MOT17-90-FRCNN"])
    runs = tmp_path / "runs"
    (runs / "good").mkdir(parents=True)
    (runs / "bad").mkdir()
    good = np.loadtxt(res_a / "MOT17-90-FRCNN.txt", delimiter=",")
    np.savetxt(runs / "good" / "MOT17-90-FRCNN.txt", good, delimiter=",", fmt="%.10g")
    np.savetxt(runs / "bad" / "MOT17-90-FRCNN.txt", good[::3], delimiter=",", fmt="%.10g")
    out = tmp_path / "cmp"
    for args in (["--results", str(runs)], ["--results", str(runs / "good"), "--results", str(runs / "bad")]):
        assert main_eval([str(gt_root), *args, "--out", str(out)]) == 0
        with open(out / "comparison.csv") as fh:
            table = {r["tracker"]: float(r["HOTA"]) for r in csv.DictReader(fh)}
        assert set(table) == {"good", "bad"} and table["good"] > table["bad"]
        assert (out / "comparison.png").read_bytes()[:4] == b"\x89PNG"
        assert read_scores(out / "good")[("COMBINED", "pedestrian")]["HOTA"] == pytest.approx(table["good"])


@pytest.mark.skipif(not MOT17_DEV.is_dir(), reason=f"shared MOT17-dev data not found at {MOT17_DEV}")
def test_cli_scores_another_trackers_output_on_mot17_as_trackeval(tmp_path):
    """The real CLI on real MOT17 gt, results another tracker wrote (a TrackEval-layout folder)."""
    rng = np.random.default_rng(1)
    seqs = {"MOT17-05-FRCNN": 837, "MOT17-09-FRCNN": 525}
    res_dir = tmp_path / "other" / "data"
    res_dir.mkdir(parents=True)
    for seq in seqs:
        gt = np.loadtxt(MOT17_DEV / seq / "gt" / "gt.txt", delimiter=",")
        ped = gt[(gt[:, 7] == 1) | (gt[:, 7] == 7)][:, :6]          # follows static people too
        np.savetxt(res_dir / f"{seq}.txt", res_rows(tracker_output(rng, ped, n_frames=seqs[seq])),
                   delimiter=",", fmt="%.2f")
    out = tmp_path / "out"
    proc = run_track("eval", MOT17_DEV, "--results", tmp_path / "other", "--seqs", ",".join(seqs),
                     "--out", out, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "COMBINED" in proc.stdout and "MOT17" in proc.stdout
    ours = read_scores(out)
    ref = trackeval_scores(MOT17_DEV, res_dir, seqs, "MOT17")
    for seq in [*seqs, "COMBINED"]:
        assert_same(ours[(seq, "pedestrian")], flat(ref[seq]), seq)
