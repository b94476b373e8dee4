"""End to end: the real `track` command on real videos, image sequences and det files."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import (MOT17_MINI, SAMPLE_DETS, SAMPLE_VIDEO, TRACK, VIDEOS, YOLO11N, assert_logs_agree,
                     needs_shared, read_csv_rows, read_mot, run_track, video_info)

pytestmark = needs_shared


def test_cars_video_full_run(tmp_path):
    out = tmp_path / "cars"
    proc = run_track(VIDEOS / "cars.mp4", "--model", YOLO11N, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    n_src, w_src, h_src = video_info(VIDEOS / "cars.mp4")
    n_out, w_out, h_out = video_info(out / "cars.mp4")
    assert (n_out, w_out, h_out) == (n_src, w_src, h_src)
    rows = assert_logs_agree(out)
    # the cars are seen from above: COCO names vary (car, cell phone, ...), but they are tracked
    assert len(rows) > 50, "YOLO should find and track the cars in cars.mp4"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == n_src
    assert summary["unique_tracks"] >= 1
    assert summary["processing_fps"] > 0
    assert (out / "config.yaml").is_file()


def test_people_walking_prefix(tmp_path):
    out = tmp_path / "people"
    proc = run_track(VIDEOS / "people_walking.mp4", "--model", YOLO11N, "--out", out,
                     "--max-frames", 120, "--classes", "person", "--trails", 15)
    assert proc.returncode == 0, proc.stderr
    n_out, w, h = video_info(out / "people_walking.mp4")
    assert (n_out, w, h) == (120, 768, 432)
    rows = assert_logs_agree(out)
    assert rows and {r["class_name"] for r in rows} == {"person"}
    ids = {int(r["track_id"]) for r in rows}
    assert min(ids) >= 1
    frames = sorted({int(r["frame"]) for r in rows})
    assert frames[-1] <= 120


def test_mot_sequence_with_model_and_with_public_detections(tmp_path):
    seq = MOT17_MINI / "MOT17-04-FRCNN"
    out_model = tmp_path / "model"
    proc = run_track(seq, "--model", YOLO11N, "--out", out_model, "--no-video")
    assert proc.returncode == 0, proc.stderr
    assert_logs_agree(out_model)
    assert not list(out_model.glob("*.mp4"))
    out_det = tmp_path / "det"
    proc = run_track(seq, "--detections", seq / "det" / "det.txt", "--out", out_det)
    assert proc.returncode == 0, proc.stderr
    rows = assert_logs_agree(out_det)
    assert len(rows) > 50
    n, w, h = video_info(out_det / "MOT17-04-FRCNN.mp4")
    assert (n, w, h) == (8, 1920, 1080)
    summary = json.loads((out_det / "summary.json").read_text())
    assert summary["source_fps"] == 30.0 and summary["frames"] == 8
    # frames are 1-based MOT frame numbers of the sequence
    assert {int(r["frame"]) for r in rows} <= set(range(1, 9))


def test_vid_stride_and_batch(tmp_path):
    out = tmp_path / "stride"
    proc = run_track(VIDEOS / "cars.mp4", "--model", YOLO11N, "--out", out, "--vid-stride", 3,
                     "--max-frames", 30, "--batch", 4)
    assert proc.returncode == 0, proc.stderr
    n, _, _ = video_info(out / "cars.mp4")
    assert n == 30
    rows = read_csv_rows(out / "tracks.csv")
    # original frame numbers are kept: every 3rd frame, 1-based
    assert all((int(r["frame"]) - 1) % 3 == 0 for r in rows)


def test_default_output_folder_increments(tmp_path):
    for expected in ("exp", "exp2"):
        proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--no-video", "--max-frames", 5,
                         cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / "runs" / "track" / expected / "tracks.csv").is_file()


def test_sample_video_with_its_detections_keeps_ids(tmp_path):
    out = tmp_path / "sample"
    proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--out", out)
    assert proc.returncode == 0, proc.stderr
    rows = assert_logs_agree(out)
    gt = np.loadtxt(SAMPLE_VIDEO.with_name("crossing_gt.txt"), delimiter=",", ndmin=2)
    n_gt_ids = len(np.unique(gt[:, 1]))
    n_ids = len({r["track_id"] for r in rows})
    # a good tracker on perfect detections makes few extra ids through the crossings and occluder
    assert n_gt_ids <= n_ids <= 2 * n_gt_ids


def test_config_file_and_set_overrides_are_saved(tmp_path):
    cfg = tmp_path / "my.yaml"
    cfg.write_text("detector:\n  conf: 0.5\noutput:\n  trails: 5\n")
    out = tmp_path / "cfg"
    proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--out", out, "--max-frames", 10,
                     "--config", cfg, "--set", "output.trails=7", "--set", "tracker.track_buffer=45")
    assert proc.returncode == 0, proc.stderr
    import yaml

    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["detector"]["conf"] == 0.5
    assert saved["output"]["trails"] == 7
    assert saved["tracker"]["track_buffer"] == 45


def test_sigint_stops_cleanly_and_files_are_valid(tmp_path):
    out = tmp_path / "sigint"
    env = dict(os.environ, TRACKER_WEIGHTS_DIR=str(YOLO11N.parent), OMP_NUM_THREADS="2")
    proc = subprocess.Popen([TRACK, str(VIDEOS / "people_walking.mp4"), "--model", str(YOLO11N),
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    csv_path = out / "tracks.csv"
    deadline = time.time() + 180
    while time.time() < deadline:
        if csv_path.exists() and len(csv_path.read_text().splitlines()) > 30:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    rows = assert_logs_agree(out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_early"] is True
    assert 0 < summary["frames"] < 1394
    n, w, h = video_info(out / "people_walking.mp4")
    assert (w, h) == (768, 432)
    assert n == summary["frames"], "the video is finalised with every frame that was tracked"
    assert max(int(r["frame"]) for r in rows) <= summary["frames"]
