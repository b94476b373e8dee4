"""The short (30 s) CI variant of the stream soak: ``track`` on a live RTSP stream with two server
restarts; resident memory after a 10 s warm-up grows < 5%. The 20-minute benchmark is
``python tools/soak_stream.py --minutes 20`` (see docs/benchmarks.md)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from rtsp_server import gst_rtsp_unavailable_reason

TOOL = Path(__file__).resolve().parents[1] / "tools" / "soak_stream.py"


@pytest.mark.slow
def test_stream_soak_30s(tmp_path):
    reason = gst_rtsp_unavailable_reason()
    if reason:
        pytest.skip(reason)
    spec = importlib.util.spec_from_file_location("soak_stream", TOOL)
    soak_stream = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(soak_stream)
    result = soak_stream.soak(duration_s=30, warmup_s=10, fps=15, restart_every_s=12,
                              out_dir=tmp_path, sample_every_s=1.0, extra_args=["--no-video"])
    assert result["returncode"] == 0
    assert result["rss_growth_pct"] < 5.0, result
    assert result["stream"]["reconnects"] == 2, result
    assert result["frames"] > 200 and result["csv_rows"] > 0, result
    assert "soak-secret" not in (tmp_path / "track_stderr.txt").read_text()
