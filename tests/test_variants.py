"""tools/make_variants.py: deterministic for a seed, every variant a valid MOTChallenge sequence that
our readers and TrackEval read, camera motion applied to gt and det alike."""
import filecmp
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import make_variants as mv  # noqa: E402
from tracker.eval.metrics import evaluate_sequence, summary  # noqa: E402
from tracker.formats.mot import read_det_file, read_mot_results, read_seqinfo  # noqa: E402


def synthetic_source(root: Path, n_frames: int = 60) -> Path:
    """One 640x480 sequence at 30 fps: 6 people walking, det = gt boxes (score 0.9) + 1 stray box."""
    seq = root / "SYN-01"
    (seq / "gt").mkdir(parents=True)
    (seq / "det").mkdir()
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=SYN-01\nimDir=img1\nframeRate=30\nseqLength="
                                     f"{n_frames}\nimWidth=640\nimHeight=480\nimExt=.jpg\n")
    gt, det = [], []
    for f in range(1, n_frames + 1):
        for k in range(6):
            x, y = 40 + 80 * k + 2 * f * (-1) ** k, 150 + 20 * k
            vis = 0.3 if k == 2 else 1.0
            gt.append([f, k + 1, x, y, 40, 100, 1, 1, vis])
            det.append([f, -1, x, y, 40, 100, 0.9])
        det.append([f, -1, 600, 20, 30, 30, 0.4])
    np.savetxt(seq / "gt" / "gt.txt", gt, delimiter=",", fmt="%g")
    np.savetxt(seq / "det" / "det.txt", det, delimiter=",", fmt="%g")
    return root


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    src = synthetic_source(tmp_path_factory.mktemp("src"))
    a, b, c = (tmp_path_factory.mktemp(n) for n in ("a", "b", "c"))
    mv.make_variants(src, a, seed=0, log=lambda s: None)
    mv.make_variants(src, b, seed=0, log=lambda s: None)
    mv.make_variants(src, c, seed=1, log=lambda s: None)
    return src, a, b, c


def test_same_seed_same_bytes_other_seed_differs(written):
    _, a, b, c = written
    files = sorted(p.relative_to(a) for p in a.rglob("*.*"))
    assert len(files) == 3 * len(mv.FAMILIES)
    for rel in files:
        assert filecmp.cmp(a / rel, b / rel, shallow=False), rel
    differ = [f for f in mv.FAMILIES if f not in mv.RATE_FAMILIES
              and not filecmp.cmp(a / f / f"SYN-01-{f}" / "det" / "det.txt",
                                  c / f / f"SYN-01-{f}" / "det" / "det.txt", shallow=False)]
    assert set(differ) == set(mv.FAMILIES) - set(mv.RATE_FAMILIES)


def test_every_variant_is_a_valid_sequence(written):
    trackeval = pytest.importorskip("trackeval")
    _, a, _, _ = written
    for family in mv.FAMILIES:
        seq = a / family / f"SYN-01-{family}"
        info = read_seqinfo(seq)
        dets = read_det_file(seq / "det" / "det.txt", max_frame=info.length)  # validates every row
        gt = read_mot_results(seq / "gt" / "gt.txt")
        assert info.name == seq.name and len(dets) > 0 and len(gt) > 0
        assert gt[:, 0].min() >= 1 and gt[:, 0].max() <= info.length
        for d in dets.values():  # boxes inside the image
            assert (d.xyxy >= -1e-6).all() and (d.xyxy[:, 2] <= 640 + 1e-6).all() and (d.xyxy[:, 3] <= 480 + 1e-6).all()
        # TrackEval's own MOTChallenge reader accepts it (gt scored against itself: HOTA 100)
        ds_cfg = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
        trk = seq.parent / "_trk" / "me" / "data"
        trk.mkdir(parents=True, exist_ok=True)
        res = gt[gt[:, 6] == 1].copy()
        res[:, 6:] = -1
        res[:, 6] = 1
        np.savetxt(trk / f"{seq.name}.txt", res, delimiter=",", fmt="%g")
        ds_cfg.update(GT_FOLDER=str(seq.parent), TRACKERS_FOLDER=str(seq.parent / "_trk"), SKIP_SPLIT_FOL=True,
                      SEQ_INFO={seq.name: info.length}, GT_LOC_FORMAT="{gt_folder}/{seq}/gt/gt.txt",
                      PRINT_CONFIG=False)
        ev_cfg = trackeval.Evaluator.get_default_eval_config()
        ev_cfg.update(PRINT_CONFIG=False, PRINT_RESULTS=False, OUTPUT_SUMMARY=False, OUTPUT_DETAILED=False,
                      PLOT_CURVES=False, USE_PARALLEL=False, TIME_PROGRESS=False, DISPLAY_LESS_PROGRESS=True)
        out, _ = trackeval.Evaluator(ev_cfg).evaluate([trackeval.datasets.MotChallenge2DBox(ds_cfg)],
                                                      [trackeval.metrics.HOTA({"PRINT_CONFIG": False})])
        hota = out["MotChallenge2DBox"]["me"][seq.name]["pedestrian"]["HOTA"]["HOTA"].mean()
        assert hota == pytest.approx(1.0), family


def test_frame_rate_variants_update_seqinfo(written):
    _, a, _, _ = written
    for step in (2, 3):
        info = read_seqinfo(a / f"fps{step}" / f"SYN-01-fps{step}")
        assert info.fps == pytest.approx(30 / step) and info.length == -(-60 // step)
        gt = read_mot_results(a / f"fps{step}" / f"SYN-01-fps{step}" / "gt" / "gt.txt")
        assert sorted(set(gt[:, 0].astype(int))) == list(range(1, info.length + 1))


def test_camera_motion_moves_gt_and_det_alike(written):
    """det boxes equal to gt boxes in the source stay equal (to rounding) after every camera motion,
    and the camera really moved them."""
    src, a, _, _ = written
    orig = read_mot_results(src / "SYN-01" / "gt" / "gt.txt")
    for family in mv.CAMERA_FAMILIES:
        seq = a / family / f"SYN-01-{family}"
        gt = read_mot_results(seq / "gt" / "gt.txt")
        dets = read_det_file(seq / "det" / "det.txt")
        moved = 0.0
        for f, d in dets.items():
            g = gt[gt[:, 0] == f]
            gxyxy = np.concatenate([g[:, 2:4], g[:, 2:4] + g[:, 4:6]], axis=1)
            dist = np.abs(d.xyxy[:, None] - gxyxy[None]).max(axis=2).min(axis=1)
            assert (dist[d.score > 0.5] < 0.02).all(), (family, f)
            o = orig[(orig[:, 0] == f) & np.isin(orig[:, 1], g[:, 1])]
            moved = max(moved, np.abs(np.sort(o[:, 2]) - np.sort(g[:, 2])).max() if len(o) == len(g) else 1)
        assert moved > 3, family


def test_misses_hit_occluded_objects_more(written):
    src, a, _, _ = written
    det = read_det_file(a / "misses" / "SYN-01-misses" / "det" / "det.txt")
    # the occluded person (k=2, vis 0.3) sits at x = 200 + 2f; count frames where it was detected
    kept_occluded = sum(any(abs(x - (200 + 2 * f)) < 1 for x in d.xyxy[:, 0]) for f, d in det.items())
    kept_visible = sum(any(abs(x - (40 + 2 * f)) < 1 for x in d.xyxy[:, 0]) for f, d in det.items())
    assert kept_occluded < kept_visible


def test_strong_detector_meets_its_knobs(written):
    src, a, _, _ = written
    seq = a / "strong" / "SYN-01-strong"
    gt = read_mot_results(seq / "gt" / "gt.txt")
    det = read_det_file(seq / "det" / "det.txt")
    res = np.concatenate([np.column_stack([np.full(len(d.score), f), np.arange(len(d.score)) + 1,
                                           d.xyxy[:, :2], d.xyxy[:, 2:] - d.xyxy[:, :2], d.score,
                                           -np.ones((len(d.score), 3))]) for f, d in det.items()])
    s = summary(evaluate_sequence(gt, res, 60))
    recall = 1 - s["FN"] / len(gt)
    assert 0.75 < recall < 0.99 and s["FP"] / max(len(res), 1) < 0.15, s
