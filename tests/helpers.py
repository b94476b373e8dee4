"""Shared test helpers: where ../shared is, and how to run the real ``track`` command."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
MODELS = SHARED / "models"
VIDEOS = SHARED / "videos"
MOT17_MINI = SHARED / "data" / "MOT17-mini" / "train"
MOT17_DEV = SHARED / "data" / "MOT17-dev"
YOLO11N = MODELS / "yolo11n.pt"
SAMPLE_VIDEO = REPO / "sample_videos" / "crossing.mp4"
SAMPLE_DETS = REPO / "sample_videos" / "crossing_det.txt"

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared (test data and models) is absent")
TRACK = str(Path(sys.executable).parent / "track")


def run_track(*args, env=None, timeout=600, cwd=None) -> subprocess.CompletedProcess:
    """Run the installed ``track`` command and capture its output."""
    full_env = dict(os.environ)
    full_env.setdefault("TRACKER_WEIGHTS_DIR", str(MODELS))
    full_env.setdefault("OMP_NUM_THREADS", "2")
    full_env.update(env or {})
    return subprocess.run([TRACK, *map(str, args)], capture_output=True, text=True, env=full_env,
                          timeout=timeout, cwd=cwd or REPO)


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit code 2, no traceback, and a single ``error: ...`` line naming the problem."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    error_lines = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
    assert len(error_lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment.lower() in error_lines[0].lower(), error_lines[0]


def read_csv_rows(path) -> list:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def read_mot(path) -> np.ndarray:
    text = Path(path).read_text()
    if not text.strip():
        return np.zeros((0, 10))
    return np.loadtxt(path, delimiter=",", ndmin=2)


def video_info(path) -> tuple:
    """(frame count by decoding every frame, width, height) of a video file."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), f"cannot open {path}"
    n = 0
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    while True:
        ok, _ = cap.read()
        if not ok:
            break
        n += 1
    cap.release()
    return n, w, h


def assert_logs_agree(out_dir: Path) -> list:
    """tracks.csv and tracks.txt hold the same rows in the same order; ids are integers >= 1."""
    rows = read_csv_rows(out_dir / "tracks.csv")
    mot = read_mot(out_dir / "tracks.txt")
    assert len(rows) == len(mot)
    for row, m in zip(rows, mot):
        assert int(row["frame"]) == int(m[0])
        assert int(row["track_id"]) == int(m[1]) >= 1
        x1, y1, x2, y2 = (float(row[k]) for k in ("x1", "y1", "x2", "y2"))
        assert abs(x1 - m[2]) < 0.02 and abs(y1 - m[3]) < 0.02
        assert abs((x2 - x1) - m[4]) < 0.03 and abs((y2 - y1) - m[5]) < 0.03
    for frame in np.unique(mot[:, 0]) if len(mot) else []:
        ids = mot[mot[:, 0] == frame, 1]
        assert len(ids) == len(np.unique(ids)), f"duplicate id in frame {frame}"
    return rows
