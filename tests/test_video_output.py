"""The annotated video: H.264 yuv420p that a real browser plays, with every frame of the source, and
a fragmented MP4 (files and live streams) that survives ``kill -9``.

The detector is torch on a 24-frame clip, or precomputed detections on the stream, so these tests
spend their time on video, not on inference.
"""
from __future__ import annotations

import math
import os
import signal
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from helpers import TRACK, VIDEOS, YOLO11N, needs_shared, run_track
from tracker.sinks import video as video_module
from tracker.sinks.video import VideoSink
from tracker.types import Frame, Tracks

CHROMIUM = "/usr/bin/chromium"


def make_clip(path: Path, frames: int = 24) -> Path:
    """The first ``frames`` frames of cars.mp4 (768x432, 12.5 fps), written with OpenCV."""
    cap = cv2.VideoCapture(str(VIDEOS / "cars.mp4"))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 12.5, (768, 432))
    for _ in range(frames):
        ok, image = cap.read()
        assert ok
        writer.write(image)
    writer.release()
    cap.release()
    return path


def probe(path: Path, cut_tail: bool = False) -> dict:
    """Codec, pixel format and decoded frame count of a video, read with PyAV (FFmpeg).

    ``cut_tail``: the file was cut off mid-write (``kill -9``): count the frames before the cut.
    """
    import av

    decoded = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec, pix_fmt = stream.codec_context.name, stream.codec_context.pix_fmt
        try:
            for _ in container.decode(video=0):
                decoded += 1
        except av.error.FFmpegError:
            if not cut_tail:
                raise
    return {"codec": codec, "pix_fmt": pix_fmt, "frames": decoded}


def browser_plays(path: Path) -> dict:
    """Load ``path`` in headless Chromium's <video>; its readyState, duration and error code."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    page_file = path.with_suffix(".html")
    page_file.write_text(f'<video id="v" src="{path.name}" muted preload="auto"></video>')
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            page.wait_for_function("() => { const v = document.getElementById('v');"
                                   " return v.readyState >= 2 || v.error !== null; }", timeout=20000)
            return page.evaluate("() => { const v = document.getElementById('v');"
                                 " return {ready: v.readyState, duration: v.duration,"
                                 " error: v.error ? v.error.code : null}; }")
        finally:
            browser.close()


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("video")
    clip = make_clip(tmp / "clip.mp4")
    out = tmp / "out"
    proc = run_track(clip, "--model", YOLO11N, "--runtime", "torch", "--device", "cpu", "--quiet",
                     "--out", out, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out / "clip.mp4"


@needs_shared
def test_default_video_is_h264_with_every_source_frame(default_run):
    info = probe(default_run)
    assert info == {"codec": "h264", "pix_fmt": "yuv420p", "frames": 24}
    head = default_run.read_bytes()[:4096]
    assert 0 <= head.find(b"moov") < max(head.find(b"mdat"), 4096)   # the index first: plays as it arrives
    assert b"moof" in head   # fragmented: what is on disk plays even if the run is killed


@needs_shared
def test_default_video_plays_in_chromium_and_mp4v_does_not(default_run, tmp_path):
    state = browser_plays(default_run)
    assert state["error"] is None and state["ready"] >= 2 and state["duration"] > 0, state
    # the check can fail: OpenCV's mp4v (the old default) is refused by the same browser
    old = make_clip(tmp_path / "mp4v.mp4", frames=12)
    assert browser_plays(old)["error"] == 4


def test_mp4v_on_request_and_as_fallback_without_h264(tmp_path, monkeypatch, caplog):
    image = np.full((120, 161, 3), 90, np.uint8)   # odd width: H.264 yuv420p pads it
    tracks = Tracks.empty()

    def write(sink, n=5):
        for i in range(n):
            sink.write(Frame(i, i / 10, image), tracks)
        sink.close()
        return probe(sink.path)

    assert write(VideoSink(tmp_path / "a.mp4", 10, {0: "person"}))["codec"] == "h264"
    assert write(VideoSink(tmp_path / "b.mp4", 10, {0: "person"}, codec="mp4v"))["codec"] == "mpeg4"
    monkeypatch.setattr(video_module, "h264_encoder", lambda: None)
    sink = VideoSink(tmp_path / "c.mp4", 10, {0: "person"})
    assert write(sink) == {"codec": "mpeg4", "pix_fmt": "yuv420p", "frames": 5}
    assert sink.codec == "mp4v"
    assert [r for r in caplog.records if "no H.264 encoder" in r.getMessage()]


def kill_9_when(args: list, ready, timeout: float, poll: float, then_s: float = 0.0, env=None) -> None:
    """Start ``track ARGS``, wait until ``ready()`` (the run must still be going), ``then_s`` more
    seconds, and SIGKILL it."""
    proc = subprocess.Popen([TRACK, *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not ready():
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(poll)
        time.sleep(then_s)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()


@needs_shared
def test_kill_9_on_a_video_file_leaves_a_playable_video(tmp_path):
    """A file run killed mid-way: its video plays up to the last fragment (with +faststart the index
    was written only on close, and the killed run's video did not open at all)."""
    dets = tmp_path / "det.txt"   # precomputed boxes: the run goes as fast as the video is written
    dets.write_text("".join(f"{i},-1,{300 + 80 * math.sin(i / 15):.1f},200,60,150,0.9,-1,-1,-1\n"
                            for i in range(1, 1395)))
    out = tmp_path / "out"
    video = out / "people_walking.mp4"
    kill_9_when([VIDEOS / "people_walking.mp4", "--detections", dets, "--out", out, "--quiet"],
                lambda: video.is_file() and video.stat().st_size > 200_000, timeout=120, poll=0.05)
    assert not (out / "summary.json").exists()   # it was killed before the end: nothing was finalised
    info = probe(video, cut_tail=True)
    assert info["codec"] == "h264" and 10 <= info["frames"] < 1394, info
    state = browser_plays(video)
    assert state["error"] is None and state["ready"] >= 2, state


def test_kill_9_on_a_stream_leaves_a_playable_video(rtsp_server, tmp_path):
    """Fragmented MP4: everything up to the last finished fragment plays after SIGKILL."""
    dets = tmp_path / "det.txt"
    dets.write_text("".join(f"{i},-1,{100 + 20 * math.sin(i / 15):.1f},60,40,80,0.9,-1,-1,-1\n"
                            for i in range(1, 20001)))
    out = tmp_path / "out"
    first_fragments = lambda: any(v.stat().st_size > 2_000 for v in out.rglob("*.mp4"))  # noqa: E731
    kill_9_when([rtsp_server.url, "--detections", dets, "--out", out, "--quiet"], first_fragments,
                timeout=90, poll=0.5, then_s=2.5, env=dict(os.environ, OMP_NUM_THREADS="2"))
    videos = list(out.rglob("*.mp4"))
    assert videos, sorted(p.name for p in out.rglob("*"))
    info = probe(videos[0], cut_tail=True)
    assert info["codec"] == "h264" and info["frames"] >= 10, info
    state = browser_plays(videos[0])
    assert state["error"] is None and state["ready"] >= 2, state


def test_background_sink_runs_below_the_callers_priority():
    """The video thread yields the cores to inference (Linux per-thread niceness)."""
    import threading

    from tracker.sinks import SINK_NICE, BackgroundSink
    from tracker.types import Frame, Tracks

    seen = []

    class Recorder:
        def write(self, frame, tracks):
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

        def close(self):
            pass

    sink = BackgroundSink(Recorder())
    sink.write(Frame(0, 0.0, np.zeros((4, 4, 3), np.uint8)), Tracks.empty())
    sink.close()
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert seen == [min(19, mine + SINK_NICE)]


def test_default_h264_settings_are_the_cheap_ones(tmp_path):
    """ultrafast with one encoder thread: the video must not take cores from inference."""
    sink = VideoSink(tmp_path / "v.mp4", fps=25, names={0: "person"})
    if sink._encoder != "libx264":
        pytest.fail("PyAV with libx264 is a dependency: it must be installed")
    from tracker.types import Frame, Tracks

    sink.write(Frame(0, 0.0, np.zeros((32, 32, 3), np.uint8)), Tracks.empty())
    assert sink._writer.stream.codec_context.thread_count == 1
    sink.close()
    import av

    with av.open(str(tmp_path / "v.mp4")) as container:
        # ultrafast turns off CABAC and B-frames: libx264 then writes Constrained Baseline
        # (veryfast, the old setting, writes High)
        assert container.streams.video[0].profile == "Constrained Baseline"
