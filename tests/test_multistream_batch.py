"""Several live streams share one detector, which batches their frames; each gets its own tracker
and outputs."""
from __future__ import annotations

import json
import subprocess

from helpers import YOLO11N, TRACK, REPO, needs_shared, read_csv_rows


@needs_shared
def test_two_streams_one_detector_batching_both(rtsp_server_factory, tmp_path):
    a = rtsp_server_factory()
    b = rtsp_server_factory()
    out = tmp_path / "out"
    proc = subprocess.run([TRACK, a.url, b.url, "--model", str(YOLO11N), "--out", str(out), "--max-frames", "40",
                           "--no-realtime", "--no-video", "--imgsz", "320"],
                          cwd=REPO, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    top = json.loads((out / "summary.json").read_text())["sources"]
    assert len(top) == 2
    for sid, summary in top.items():
        assert summary["frames"] == 40
        calls = summary["detector_calls"]
        # one detector for both streams: its calls cover 80 frames in fewer than 80 calls
        assert calls["max_frames_per_call"] == 2
        assert calls["calls"] < 80
        assert (out / sid / "tracks.csv").is_file()
        read_csv_rows(out / sid / "tracks.csv")
