"""--segment: every closed segment is a finished, playable video with its own logs."""
from __future__ import annotations

import json

import pytest

from helpers import SAMPLE_DETS, SAMPLE_VIDEO, assert_one_line_error, read_csv_rows, run_track, video_info
from tracker.errors import UserError
from tracker.sinks.segments import parse_segment


def test_parse_segment():
    assert parse_segment("90s") == ("time", 90.0)
    assert parse_segment("10m") == ("time", 600.0)
    assert parse_segment("2MB") == ("size", 2_000_000)
    assert parse_segment(None) is None
    for bad in ("ten minutes", "-5m", "10parsecs", "0m"):
        with pytest.raises(UserError):
            parse_segment(bad)


def test_time_segments_are_complete_videos(tmp_path):
    out = tmp_path / "seg"
    proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--out", out, "--segment", "4s")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    segments = summary["outputs"]["segments"]
    n_src, w, h = video_info(SAMPLE_VIDEO)
    assert len(segments) == -(-n_src // 100)      # 25 fps × 4 s = 100 frames per segment
    total = 0
    for i, seg in enumerate(segments):
        n, sw, sh = video_info(seg["video"])
        assert (sw, sh) == (w, h)
        assert n == (100 if i < len(segments) - 1 else n_src - 100 * i)
        frames = {int(r["frame"]) for r in read_csv_rows(seg["csv"])}
        assert frames and min(frames) > 100 * i and max(frames) <= 100 * (i + 1)
        total += n
    assert total == n_src == summary["frames"]


def test_size_segments(tmp_path):
    out = tmp_path / "size"
    proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--out", out, "--segment", "300kB")
    assert proc.returncode == 0, proc.stderr
    segments = json.loads((out / "summary.json").read_text())["outputs"]["segments"]
    assert len(segments) >= 2
    assert sum(video_info(s["video"])[0] for s in segments) == video_info(SAMPLE_VIDEO)[0]


def test_bad_segment_value(tmp_path):
    proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--out", tmp_path / "o", "--segment", "soon")
    assert_one_line_error(proc, "--segment")
