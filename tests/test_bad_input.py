"""Every bad input ends in one clear line on stderr, exit code 2, and no traceback."""
from __future__ import annotations

import shutil

import pytest

from helpers import (MOT17_MINI, SAMPLE_DETS, SAMPLE_VIDEO, VIDEOS, YOLO11N, assert_one_line_error,
                     needs_shared, run_track)


def test_missing_file(tmp_path):
    assert_one_line_error(run_track(tmp_path / "nope.mp4", "--out", tmp_path / "o"), "not found")


def test_zero_byte_video(tmp_path):
    video = tmp_path / "empty.mp4"
    video.write_bytes(b"")
    assert_one_line_error(run_track(video, "--out", tmp_path / "o"), "empty")


def test_random_bytes_video(tmp_path):
    video = tmp_path / "noise.mp4"
    video.write_bytes(bytes(range(256)) * 400)
    assert_one_line_error(run_track(video, "--out", tmp_path / "o", "--detections", SAMPLE_DETS), "video")


def test_truncated_mp4(tmp_path):
    data = SAMPLE_VIDEO.read_bytes()
    video = tmp_path / "truncated.mp4"
    video.write_bytes(data[: len(data) // 3])
    proc = run_track(video, "--out", tmp_path / "o", "--detections", SAMPLE_DETS)
    # the moov atom is at the end of an mp4v file: a truncated one cannot be decoded at all
    assert_one_line_error(proc, "video")


def test_empty_image_folder(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    assert_one_line_error(run_track(folder, "--out", tmp_path / "o"), "no images")


def test_unknown_tracker(tmp_path):
    proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--tracker", "nosuchtracker",
                     "--out", tmp_path / "o")
    assert_one_line_error(proc, "nosuchtracker")
    assert not (tmp_path / "o").exists(), "a bad tracker name is caught before outputs are created"


@needs_shared
def test_unknown_class_name(tmp_path):
    proc = run_track(SAMPLE_VIDEO, "--model", YOLO11N, "--classes", "person,unicorn", "--out", tmp_path / "o")
    assert_one_line_error(proc, "unicorn")


@pytest.mark.parametrize("content,fragment", [
    ("1,-1,10,20,30\n", "columns"),
    ("1,-1,10,20,abc,40,0.9\n", "not a number"),
    ("1,-1,10,20,nan,40,0.9\n", "nan"),
    ("1,-1,10,20,30,inf,0.9\n", "nan or infinite"),
    ("1,-1,10,20,-5,40,0.9\n", "positive"),
    ("1,-1,10,20,0,40,0.9\n", "positive"),
    ("1.5,-1,10,20,30,40,0.9\n", "integer"),
    ("1,-1,10,20,30,40,0.9\n2,-1,10,20,30,40\n", "columns"),
])
def test_malformed_det_file(tmp_path, content, fragment):
    det = tmp_path / "det.txt"
    det.write_text(content)
    proc = run_track(SAMPLE_VIDEO, "--detections", det, "--out", tmp_path / "o")
    assert_one_line_error(proc, "det.txt", fragment)


def test_det_file_frames_beyond_the_video(tmp_path):
    det = tmp_path / "det.txt"
    det.write_text("1,-1,10,20,30,40,0.9\n99999,-1,10,20,30,40,0.9\n")
    proc = run_track(SAMPLE_VIDEO, "--detections", det, "--out", tmp_path / "o")
    assert_one_line_error(proc, "beyond")


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--out", blocker / "sub")
    assert_one_line_error(proc, "cannot write to output directory")


def test_read_only_output_directory(tmp_path):
    import os
    import subprocess
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    if os.access(ro, os.W_OK):   # root ignores permissions: use a read-only bind mount instead
        if shutil.which("mount") is None or subprocess.run(
                ["mount", "--bind", "-o", "ro", str(ro), str(ro)], capture_output=True).returncode != 0:
            pytest.skip("cannot make a read-only folder here (root without mount permission)")
        try:
            proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--out", ro / "out")
        finally:
            subprocess.run(["umount", str(ro)], capture_output=True)
    else:
        proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--out", ro / "out")
    assert_one_line_error(proc, "cannot write to output directory")


def test_unknown_config_key(tmp_path):
    proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--set", "detector.cnof=0.3",
                     "--out", tmp_path / "o")
    assert_one_line_error(proc, "detector.cnof")


def test_wrong_config_type(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("detector:\n  imgsz: big\n")
    proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--config", cfg, "--out", tmp_path / "o")
    assert_one_line_error(proc, "detector.imgsz")


def test_missing_weights_offline(tmp_path):
    empty = tmp_path / "weights"
    empty.mkdir()
    proc = run_track(SAMPLE_VIDEO, "--model", "yolov8s.pt", "--out", tmp_path / "o",
                     env={"TRACKER_WEIGHTS_DIR": str(empty)})
    assert_one_line_error(proc, "yolov8s.pt", "--model")


def test_single_image_instead_of_folder(tmp_path):
    import cv2
    import numpy as np
    img = tmp_path / "one.jpg"
    cv2.imwrite(str(img), np.zeros((20, 20, 3), np.uint8))
    assert_one_line_error(run_track(img, "--out", tmp_path / "o"), "folder")
