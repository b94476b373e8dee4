"""ReID end to end: real frames, yolo11n detections, OSNet embeddings, the real `track` command.

On every MOT17-mini sequence, IDF1 with OSNet ReID is not lower than motion-only, and the run
reports what ReID cost.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import MODELS, MOT17_MINI, YOLO11N, needs_shared, read_mot, run_track
from tracker.eval.metrics import evaluate_sequence, summary
from tracker.formats.mot import read_seqinfo

pytestmark = needs_shared
SEQUENCES = sorted(p.name for p in MOT17_MINI.iterdir()) if MOT17_MINI.is_dir() else []


def _idf1(seq_dir, out_dir) -> float:
    gt = np.loadtxt(seq_dir / "gt" / "gt.txt", delimiter=",", ndmin=2)
    res = read_mot(out_dir / "tracks.txt")
    n = read_seqinfo(seq_dir).length
    return summary(evaluate_sequence(gt, res, n))["IDF1"]


@pytest.mark.parametrize("seq", SEQUENCES)
def test_reid_never_lowers_idf1(tmp_path, seq):
    seq_dir = MOT17_MINI / seq
    common = ["--model", YOLO11N, "--classes", "person", "--imgsz", "1280", "--no-video"]
    plain = run_track(seq_dir, *common, "--out", tmp_path / "motion")
    assert plain.returncode == 0, plain.stderr
    reid = run_track(seq_dir, *common, "--reid", MODELS / "osnet_x0_25_msmt17.onnx", "--out", tmp_path / "reid")
    assert reid.returncode == 0, reid.stderr
    assert "ReID cost:" in reid.stderr and "ms/frame" in reid.stderr
    summary_json = json.loads((tmp_path / "reid" / "summary.json").read_text())
    assert summary_json["reid_ms_per_frame"] > 0
    idf1_motion, idf1_reid = _idf1(seq_dir, tmp_path / "motion"), _idf1(seq_dir, tmp_path / "reid")
    print(f"{seq}: IDF1 motion {idf1_motion:.2f}, ReID {idf1_reid:.2f}, "
          f"ReID {summary_json['reid_ms_per_frame']:.1f} ms/frame")
    assert idf1_reid >= idf1_motion - 1e-6


def _run_tracks(seq_dir, skip: bool):
    from tracker.config import load_config
    from tracker.run import Run

    cfg = load_config(overrides=[f"detector.model={YOLO11N}", "detector.conf=0.1", "detector.classes=person",
                                 f"reid.model={MODELS / 'osnet_x0_25_msmt17.onnx'}", "quiet=true"])
    run = Run([str(seq_dir)], cfg, save=False)
    if not skip:
        run.pipeline.embed_min_score = -np.inf
    results = [(r.tracks.track_id.copy(), r.tracks.xyxy.copy()) for r in run]
    return results, run.pipeline.stats


def test_detections_the_tracker_cannot_use_are_not_embedded():
    """Weak boxes only enter BoT-SORT's IoU stage: skipping their embeddings changes no track."""
    seq_dir = MOT17_MINI / "MOT17-02-FRCNN"
    skipped, stats_skip = _run_tracks(seq_dir, skip=True)
    full, stats_full = _run_tracks(seq_dir, skip=False)
    assert stats_skip["embeddings_skipped"] > 0 and stats_full["embeddings_skipped"] == 0
    assert len(skipped) == len(full)
    for (ids_a, boxes_a), (ids_b, boxes_b) in zip(skipped, full):
        assert np.array_equal(ids_a, ids_b)
        assert np.allclose(boxes_a, boxes_b, atol=1e-3)


def test_reid_with_a_motion_only_tracker_is_ignored_with_a_warning(tmp_path):
    proc = run_track(MOT17_MINI / "MOT17-09-FRCNN", "--detections", MOT17_MINI / "MOT17-09-FRCNN" / "det" / "det.txt",
                     "--tracker", "bytetrack", "--reid", MODELS / "osnet_x0_25_msmt17.onnx", "--out", tmp_path / "o",
                     "--no-video")
    assert proc.returncode == 0, proc.stderr
    assert "does not use appearance" in proc.stderr
    assert "ReID cost" not in proc.stderr
