"""StreamSource against a real RTSP server on 127.0.0.1 (GStreamer, started by each test).

Covers: reading frames, reconnecting by itself after the server restarts (short and long outage,
tracker-reset signal), a hung server detected by the read timeout, unreachable URLs failing after
the configured retries with the password masked, bounded latency with counted drops in real-time
mode, no drops otherwise, and two streams at once.
"""
from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pytest

from tracker.errors import UserError
from tracker.sources.base import Source
from tracker.sources.stream import StreamSource, open_streams
from rtsp_server import free_port, make_tls_pem

FAST_BACKOFF = (0.2, 2.0, 1.0)  # keep reconnect tests short


def take(source: StreamSource, n: int, timeout_s: float = 15.0) -> list:
    """The next ``n`` frames of ``source`` (fails the test rather than hang)."""
    frames, deadline = [], time.monotonic() + timeout_s
    for frame in source:
        frames.append(frame)
        if len(frames) >= n:
            return frames
        assert time.monotonic() < deadline, f"only {len(frames)} frames in {timeout_s}s"
    raise AssertionError(f"stream ended after {len(frames)} frames")


def test_reads_frames(rtsp_server):
    source = StreamSource(rtsp_server.url, source_id="cam0", max_frames=20)
    try:
        assert isinstance(source, Source)
        frames = list(source)  # max_frames ends the iteration
    finally:
        source.close()
    assert len(frames) == 20
    assert [f.index for f in frames[:1]] == [0]
    assert all(b.index > a.index for a, b in zip(frames, frames[1:]))
    assert all(b.time_s >= a.time_s for a, b in zip(frames, frames[1:]))
    assert frames[0].time_s == 0.0
    assert all(f.source_id == "cam0" and f.image.shape == (240, 320, 3) for f in frames)
    assert frames[0].image.dtype == np.uint8
    assert source.size == (320, 240)
    stats = source.stats_snapshot()
    assert stats.frames_read >= 20 and stats.reconnects == 0 and stats.connected


def test_reconnects_after_server_restart(rtsp_server):
    """Short outage: tracks continue (no reset); long outage: exactly one reset signal."""
    source = StreamSource(rtsp_server.url, reconnect_backoff=FAST_BACKOFF, reset_after_s=2.5)
    try:
        before = take(source, 10)
        rtsp_server.restart()  # a blip: well under reset_after_s
        after_short = take(source, 10)
        assert source.stats_snapshot().reconnects == 1
        resets = [source.consume_reset()]

        rtsp_server.stop()
        time.sleep(3.0)  # a long outage: over reset_after_s
        rtsp_server.start()
        after_long = []
        for frame in source:
            after_long.append(frame)
            if len(after_long) >= 10:
                break
    finally:
        source.close()
    frames = before + after_short + after_long
    indexes = [f.index for f in frames]
    assert indexes == sorted(set(indexes)), "indexes keep increasing across reconnects"
    assert not any(resets), "a short outage keeps the tracker state"
    # consumed later, frame by frame, as a pipeline with its own queues does
    reset_marks = [source.consume_reset(f.index) for f in frames]
    assert sum(reset_marks) == 1, "the first frame after a long outage carries one reset"
    first_after = frames[reset_marks.index(True)]
    assert first_after in after_long
    previous = max(f.time_s for f in frames if f.index < first_after.index)
    assert first_after.time_s - previous >= 3.0, "time_s is wall-clock: the outage shows"
    stats = source.stats_snapshot()
    assert stats.reconnects == 2 and stats.outages == 2 and stats.long_outages == 1
    assert stats.last_outage_s >= 3.0 and stats.outage_s >= stats.last_outage_s


def test_hung_server_is_detected_by_read_timeout(rtsp_server):
    """A server that stops sending (sockets open) is noticed within ~3x the read timeout."""
    source = StreamSource(rtsp_server.url, reconnect_backoff=FAST_BACKOFF, read_timeout_s=0.5,
                          open_timeout_s=1.0)
    try:
        take(source, 5)
        rtsp_server.pause()
        deadline = time.monotonic() + 8
        while source.stats_snapshot().outages == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert source.stats_snapshot().outages == 1, "hung server not detected"
        rtsp_server.resume()
        rtsp_server.restart()  # the hung process is killed, a fresh one takes the port
        take(source, 5)
    finally:
        source.close()
    assert source.stats_snapshot().reconnects == 1


def test_unreachable_url_fails_after_retries_with_password_masked(caplog, capfd):
    url = f"rtsp://admin:hunter2secret@127.0.0.1:{free_port()}/live"
    source = StreamSource(url, reconnect_max=3, reconnect_backoff=(0.1, 2.0, 1.0))
    start = time.monotonic()
    with caplog.at_level(logging.DEBUG), pytest.raises(UserError) as err:
        for _ in source:
            pass
    elapsed = time.monotonic() - start
    message = str(err.value)
    assert message.startswith("cannot reach stream rtsp://admin:***@127.0.0.1:")
    assert "connection refused after 3 attempts" in message and "\n" not in message
    assert elapsed < 5.0
    assert source.stats_snapshot().failed_attempts == 3
    out, errs = capfd.readouterr()
    for text in (message, caplog.text, out, errs, repr(source), source.name):
        assert "hunter2secret" not in text


def test_wrong_password_is_reported_masked(rtsp_server_factory):
    server = rtsp_server_factory(user="alice", password="correct-horse")
    good = StreamSource(server.url)
    try:
        assert len(take(good, 3)) == 3  # the right credentials open the stream
    finally:
        good.close()
    bad = StreamSource(server.url.replace("correct-horse", "wrong-pony"), reconnect_max=2,
                       reconnect_backoff=(0.1, 2.0, 1.0))
    with pytest.raises(UserError) as err:
        take(bad, 1)
    assert "wrong-pony" not in str(err.value) and "alice:***@" in str(err.value)
    assert "credentials" in str(err.value)


def test_realtime_drops_old_frames_and_latency_stays_bounded(rtsp_server_factory):
    """Consumer at ~4 fps, stream at 25 fps: the queue stays bounded, drops are counted."""
    server = rtsp_server_factory(fps=25)
    source = StreamSource(server.url, queue_size=2)
    ages = []
    try:
        start = time.monotonic()
        for frame in source:
            # age of the frame when the consumer gets it (capture clock → now)
            ages.append(time.monotonic() - (source.clock_origin + frame.time_s))
            assert source._queue.qsize() <= 2
            time.sleep(0.25)  # a slow detector
            if time.monotonic() - start > 4.0:
                break
    finally:
        source.close()
    stats = source.stats_snapshot()
    assert stats.frames_dropped > 20, stats
    assert stats.frames_read - stats.frames_yielded - stats.frames_dropped <= 2  # the rest queued
    # after the start-up burst, latency is ~ one consumer period, never growing
    steady = ages[3:]
    assert max(steady) < 0.8, ages
    assert steady[-1] < 0.8


def test_non_realtime_never_drops(rtsp_server_factory):
    server = rtsp_server_factory(fps=25)
    source = StreamSource(server.url, realtime=False)
    assert not source.is_live
    try:
        frames = []
        for frame in source:
            frames.append(frame)
            time.sleep(0.06)  # slower than 25 fps: the reader waits, nothing is lost
            if len(frames) >= 30:
                break
    finally:
        source.close()
    assert [f.index for f in frames] == list(range(30))
    assert source.stats_snapshot().frames_dropped == 0


def test_two_streams_at_once(rtsp_server_factory):
    a = rtsp_server_factory()
    b = rtsp_server_factory(user="bob", password="pw")
    sources = open_streams([a.url, b.url], reconnect_backoff=FAST_BACKOFF)
    results = {}

    def consume(source: StreamSource) -> None:
        results[source.source_id] = take(source, 15)

    threads = [threading.Thread(target=consume, args=(s,)) for s in sources]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
    finally:
        for s in sources:
            s.close()
    assert sorted(results) == ["0", "1"]
    for source_id, frames in results.items():
        assert all(f.source_id == source_id for f in frames)
        assert [f.index for f in frames] == sorted({f.index for f in frames})
    assert sources[1].name.startswith("rtsp://bob:***@")


def test_close_returns_promptly_while_the_camera_hangs(rtsp_server):
    """SIGTERM must not wait for a hung camera's read timeout to stop the run."""
    source = StreamSource(rtsp_server.url, read_timeout_s=2.0)
    take(source, 3)
    rtsp_server.pause()
    time.sleep(0.5)  # the reader is now blocked in a read
    threading.Timer(0.2, source.close).start()
    start = time.monotonic()
    rest = list(source)  # what was queued, then the end
    assert time.monotonic() - start < 2.0
    assert len(rest) <= 2
    rtsp_server.resume()


def test_vid_stride_queues_every_nth_frame(rtsp_server):
    source = StreamSource(rtsp_server.url, realtime=False, vid_stride=3, max_frames=8)
    try:
        frames = list(source)
    finally:
        source.close()
    assert [f.index for f in frames] == [0, 3, 6, 9, 12, 15, 18, 21]
    assert source.stats_snapshot().frames_read >= 22


def test_rtsps_stream_over_tls(rtsp_server_factory, tmp_path, monkeypatch):
    pem = make_tls_pem(str(tmp_path / "server.pem"))
    if pem is None:
        pytest.skip("openssl is needed to make the test server's certificate")
    server = rtsp_server_factory(tls_pem=pem, user="tls", password="tls-secret")
    assert server.url.startswith("rtsps://")
    source = StreamSource(server.url, max_frames=5)
    try:
        frames = list(source)
    finally:
        source.close()
    assert len(frames) == 5 and frames[0].image.shape == (240, 320, 3)
    assert source.name.startswith("rtsps://tls:***@")

    # certificate verification, as documented in tracker/sources/stream.py: with the server's
    # certificate as CA it opens; asking for verification without it fails
    ca = str(tmp_path / "server.pem.crt")
    monkeypatch.setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", f"rtsp_transport;tcp|tls_verify;1|ca_file;{ca}")
    verified = StreamSource(server.url, max_frames=2)
    assert len(list(verified)) == 2
    monkeypatch.setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp|tls_verify;1")
    with pytest.raises(UserError, match="TLS certificate.* after 1 attempt"):
        list(StreamSource(server.url, reconnect_max=1))
