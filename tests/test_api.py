"""The Python API, detectors and weights lookup, with real models and files."""
from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
import types

import numpy as np
import pytest

from helpers import (MODELS, MOT17_MINI, SAMPLE_DETS, SAMPLE_VIDEO, TRACK, VIDEOS, YOLO11N, needs_shared,
                     read_csv_rows, run_track)
from tracker import FrameResult, Tracks, track


def test_track_yields_lazily_per_frame(tmp_path):
    results = track(str(SAMPLE_VIDEO), detections=str(SAMPLE_DETS))
    assert isinstance(results, types.GeneratorType)
    first = next(results)
    assert isinstance(first, FrameResult) and first.frame_index == 0 and first.time_s == 0.0
    rest = [first] + [r for _, r in zip(range(29), results)]
    results.close()
    assert [r.frame_index for r in rest] == list(range(30))
    assert all(isinstance(r.tracks, Tracks) for r in rest)
    assert rest[-1].time_s == pytest.approx(29 / 25.0)
    ids = np.concatenate([r.tracks.track_id for r in rest])
    assert len(ids) > 0 and ids.min() >= 1
    assert not (tmp_path / "runs").exists()


def test_track_save_writes_outputs(tmp_path):
    out = tmp_path / "api"
    n = sum(1 for _ in track(str(SAMPLE_VIDEO), detections=str(SAMPLE_DETS), out=str(out),
                             source_max_frames=12))
    assert n == 12
    assert (out / "tracks.csv").is_file() and (out / "summary.json").is_file()


@needs_shared
def test_bare_model_name_found_in_weights_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_WEIGHTS_DIR", str(MODELS))
    results = list(track(str(VIDEOS / "people_walking.mp4"), model="yolo11n.pt", source_max_frames=3))
    assert len(results) == 3


@needs_shared
def test_weights_dir_from_cli_flag(tmp_path):
    proc = run_track(SAMPLE_VIDEO, "--model", "yolov8n.pt", "--weights-dir", MODELS, "--max-frames", 3,
                     "--out", tmp_path / "o", env={"TRACKER_WEIGHTS_DIR": ""})
    assert proc.returncode == 0, proc.stderr
    import yaml
    saved = yaml.safe_load((tmp_path / "o" / "config.yaml").read_text())
    assert saved["detector"]["model"] == "yolov8n.pt"


@needs_shared
def test_onnx_model(tmp_path):
    proc = run_track(MOT17_MINI / "MOT17-09-FRCNN", "--model", MODELS / "yolo11n_int8_640_coco.onnx",
                     "--out", tmp_path / "o", "--no-video", "--classes", "person")
    assert proc.returncode == 0, proc.stderr
    assert len(read_csv_rows(tmp_path / "o" / "tracks.csv")) > 0


def test_fcos_detector_untrained_weights(tmp_path):
    """torchvision FCOS cannot be downloaded here: the path is exercised with weights=None."""
    from tracker.detectors import make_detector
    from tracker.types import Frame
    import cv2

    det = make_detector("fcos", model="none", conf=0.05, device="cpu")
    cap = cv2.VideoCapture(str(SAMPLE_VIDEO))
    ok, image = cap.read()
    out = det.detect([Frame(0, 0.0, image)])
    assert len(out) == 1
    d = out[0]
    assert d.xyxy.shape[1] == 4 and len(d.score) == len(d.cls) == len(d.xyxy)
    assert (d.cls >= 0).all() and (d.cls < 80).all()
    assert ((d.xyxy[:, 2] <= image.shape[1] + 1) & (d.xyxy[:, 3] <= image.shape[0] + 1)).all()
    # and through the CLI
    proc = run_track(SAMPLE_VIDEO, "--detector", "fcos", "--model", "none", "--max-frames", 2,
                     "--out", tmp_path / "f", "--no-video")
    assert proc.returncode == 0, proc.stderr


def test_fcos_missing_weights_file(tmp_path):
    proc = run_track(SAMPLE_VIDEO, "--detector", "fcos", "--model", tmp_path / "fcos.pth", "--out", tmp_path / "o")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_device_cpu_and_missing_gpu(tmp_path):
    import torch
    from tracker.detectors.yolo import select_device
    from tracker.errors import UserError

    assert select_device("cpu") == "cpu"
    assert select_device(None) == ("cuda:0" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="no.*GPU|none is available"):
            select_device("cuda:0")


def test_progress_bar_on_a_terminal(tmp_path):
    """With a TTY on stderr the progress bar shows live fps; --quiet hides it."""
    def run(extra):
        master, slave = pty.openpty()
        env = dict(os.environ, COLUMNS="120")
        proc = subprocess.Popen([TRACK, str(SAMPLE_VIDEO), "--detections", str(SAMPLE_DETS), "--no-video",
                                 "--out", str(tmp_path / f"p{len(extra)}"), *extra],
                                stdout=subprocess.DEVNULL, stderr=slave, env=env)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=120)
        os.close(master)
        return proc.returncode, b"".join(chunks).decode(errors="replace")

    rc, text = run([])
    assert rc == 0
    assert "fps" in text and "250/250" in text
    rc, text = run(["--quiet"])
    assert rc == 0 and "fps" not in text
