"""End to end: the ``track`` command on real RTSP streams served on 127.0.0.1.

The detector is a precomputed det file (one moving box in every frame), so these tests exercise
the stream handling, tracking and writers without spending CPU on a neural network.
"""
from __future__ import annotations

import csv
import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import cv2
import pytest

from rtsp_server import free_port

ROOT = Path(__file__).resolve().parents[1]


def write_det_file(path: Path, frames: int = 20000) -> Path:
    """A MOTChallenge det file with one box swaying left and right in every frame."""
    with open(path, "w") as f:
        for i in range(1, frames + 1):
            f.write(f"{i},-1,{100 + 20 * math.sin(i / 15):.1f},60,40,80,0.9,-1,-1,-1\n")
    return path


def track_cmd(*args: str) -> List[str]:
    return [sys.executable, "-m", "tracker.cli", *args, "--quiet"]


def read_rows(csv_path: Path) -> list:
    if not csv_path.exists():
        return []
    with open(csv_path, newline="") as f:
        return [row for row in csv.DictReader(f) if row.get("time_s")]


def wait_for_rows(csv_path: Path, n: int, proc: subprocess.Popen, timeout_s: float = 90) -> list:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = read_rows(csv_path)
        if len(rows) >= n:
            return rows
        assert proc.poll() is None, f"track exited early with {proc.returncode}"
        time.sleep(0.2)
    raise AssertionError(f"fewer than {n} rows in {csv_path} after {timeout_s}s")


def all_text(paths: List[Path]) -> str:
    """Everything written: the given files and every file under given folders."""
    chunks = []
    for path in paths:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        chunks += [p.read_bytes().decode("latin-1") + p.name for p in files]
    return "\n".join(chunks)


def test_track_survives_server_restart(rtsp_server_factory, tmp_path):
    server = rtsp_server_factory(user="cam", password="s3cr3t-pw")
    dets = write_det_file(tmp_path / "det.txt")
    out = tmp_path / "out"
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with open(stdout, "w") as so, open(stderr, "w") as se:
        proc = subprocess.Popen(track_cmd(server.url, "--detections", str(dets), "--out", str(out),
                                          "--tracker", "bytetrack",  # no camera-motion comp.
                                          "--set", "stream.reconnect_max=0",
                                          "--set", "stream.reset_after_s=60"),
                                cwd=ROOT, stdout=so, stderr=se)
        try:
            before = wait_for_rows(out / "tracks.csv", 15, proc)
            server.stop()
            time.sleep(3.0)  # the camera is down for a few seconds
            server.start()
            after = wait_for_rows(out / "tracks.csv", len(before) + 30, proc)
            proc.send_signal(signal.SIGTERM)  # stop: drain, finalise files, exit 0
            assert proc.wait(timeout=30) == 0, stderr.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
    rows = read_rows(out / "tracks.csv")
    times = [float(r["time_s"]) for r in rows]
    frames = [int(r["frame"]) for r in rows]
    assert frames == sorted(frames), "frame numbers keep increasing across the reconnect"
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) >= 3.0, "rows from both before and after the outage"
    outage_at = gaps.index(max(gaps))
    assert outage_at >= 10 and len(rows) - outage_at > 10
    # a short outage (< reset_after_s) keeps the tracker: the box keeps its id
    assert {r["track_id"] for r in rows} == {"1"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stream"]["reconnects"] >= 1
    for video in out.glob("*.mp4"):  # SIGTERM finalised the video: it plays
        cap = cv2.VideoCapture(str(video))
        assert cap.isOpened() and cap.read()[0], f"{video.name} is not playable after SIGTERM"
        cap.release()
    assert "s3cr3t-pw" not in all_text([out, stdout, stderr])
    assert "cam:***@" in summary["source"]


def test_unreachable_url_exits_2_with_one_masked_line(tmp_path):
    dets = write_det_file(tmp_path / "det.txt", frames=10)
    out = tmp_path / "out"
    url = f"rtsp://admin:hunter2-secret@127.0.0.1:{free_port()}/live"
    start = time.monotonic()
    proc = subprocess.run(track_cmd(url, "--detections", str(dets), "--out", str(out),
                                    "--set", "stream.reconnect_max=2"),
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert time.monotonic() - start < 60
    lines = proc.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], proc.stderr
    assert errors[0].startswith("error: cannot reach stream rtsp://admin:***@127.0.0.1:")
    assert errors[0].endswith("after 2 attempts")
    assert "Traceback" not in proc.stderr
    written = all_text([out]) if out.exists() else ""
    for text in (proc.stdout, proc.stderr, written):
        assert "hunter2-secret" not in text


def test_two_streams_get_separate_outputs(rtsp_server_factory, tmp_path):
    a = rtsp_server_factory()
    b = rtsp_server_factory(user="bob", password="b0b-pw")
    dets = write_det_file(tmp_path / "det.txt")
    out = tmp_path / "out"
    proc = subprocess.run(track_cmd(a.url, b.url, "--detections", f"{dets},{dets}", "--out", str(out),
                                    "--max-frames", "30", "--no-realtime"),
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    subdirs = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(subdirs) == 2, f"one output folder per stream, got {list(out.iterdir())}"
    for sub in subdirs:
        rows = read_rows(sub / "tracks.csv")
        assert len({r["frame"] for r in rows}) == 30, sub
        summary = json.loads((sub / "summary.json").read_text())
        assert summary["frames"] == 30
    assert "b0b-pw" not in all_text([out]) + proc.stdout + proc.stderr


def test_segment_rotation_closes_playable_segments(rtsp_server, tmp_path):
    """Endless runs: ``--segment`` closes each segment as a finished, playable video with its CSV."""
    dets = write_det_file(tmp_path / "det.txt")
    out = tmp_path / "out"
    proc = subprocess.Popen(track_cmd(rtsp_server.url, "--detections", str(dets), "--out", str(out),
                                      "--segment", "3s"),
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60  # start-up (imports) can be slow on a busy machine
        while time.monotonic() < deadline and len(list(out.rglob("*.csv"))) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            if list(out.rglob("*.csv")):  # running: 10 s of stream are enough for 3 segments
                deadline = min(deadline, time.monotonic() + 10)
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    videos = sorted(out.rglob("*.mp4"))
    csvs = sorted(out.rglob("*.csv"))
    assert len(videos) >= 2 and len(csvs) >= 2, sorted(p.name for p in out.rglob("*"))
    for video in videos:
        cap = cv2.VideoCapture(str(video))
        assert cap.isOpened() and cap.read()[0], f"{video.name} is not playable"
        cap.release()
    for path in csvs:
        assert read_rows(path), f"{path.name} has no rows"


def test_unreachable_url_with_default_config_fails_fast(tmp_path):
    """A URL that never delivered a frame gives up after stream.open_retries (3), not the ~2.5 min
    of reconnect_max meant for cameras that dropped after working."""
    dets = write_det_file(tmp_path / "det.txt", frames=10)
    url = f"rtsp://admin:hunter2-secret@127.0.0.1:{free_port()}/live"
    start = time.monotonic()
    proc = subprocess.run(track_cmd(url, "--detections", str(dets), "--out", str(tmp_path / "out")),
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert time.monotonic() - start < 30
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].endswith("after 3 attempts"), proc.stderr
    assert "hunter2-secret" not in proc.stdout + proc.stderr
