"""Every RTSP failure says what it is, and the transport is the one asked for: ``StreamSource``
against three different servers on 127.0.0.1 — our GStreamer server (TCP and UDP),
aio-rtsp-toolkit (TCP only) and VLC (UDP only) — and against no server at all.

In-process (no ``track`` start-up): each case opens a source with one attempt and reads its error.
"""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rtsp_server import free_port, make_h264_clip
from tracker.errors import UserError
from tracker.sources.stream import StreamSource, capture_options
from tracker.sources.urls import is_file_url, mask_url, remember_secret, safe_stem


def first_error(url: str, **options) -> str:
    """The UserError message of a source that gets one connection attempt."""
    options.setdefault("open_timeout_s", 2.0)
    source = StreamSource(url, open_retries=1, reconnect_max=1, **options)
    try:
        with pytest.raises(UserError) as err:
            for _ in source:
                pass
    finally:
        source.close()
    return str(err.value)


def read_frames(url: str, n: int = 5, **options) -> StreamSource:
    source = StreamSource(url, open_retries=2, reconnect_max=2, realtime=False, max_frames=n, **options)
    try:
        frames = list(source)
    finally:
        source.close()
    assert len(frames) == n
    return source


# ------------------------------------------------------------------ messages that tell the truth
def test_refused_and_silent_servers_are_told_apart():
    assert "connection refused" in first_error(f"rtsp://127.0.0.1:{free_port()}/live")
    with socket.socket() as silent:           # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        message = first_error(f"rtsp://127.0.0.1:{silent.getsockname()[1]}/live", open_timeout_s=1.0)
    assert "no answer" in message and "(timeout)" in message, message


def test_wrong_credentials_and_missing_credentials_are_401(rtsp_server_factory):
    server = rtsp_server_factory(user="alice", password="correct-horse")
    wrong = first_error(f"rtsp://alice:wrong-horse-pw@127.0.0.1:{server.port}/test")
    assert "wrong credentials (401" in wrong and "wrong-horse-pw" not in wrong, wrong
    assert "needs credentials (401" in first_error(f"rtsp://127.0.0.1:{server.port}/test")
    read_frames(server.url, 3)   # and the right ones work (Basic auth)


def test_wrong_path_is_404_on_two_servers(gst_server, aio_server):
    assert "wrong path (404" in first_error(f"rtsp://127.0.0.1:{gst_server.port}/nope")
    assert "wrong path (404" in first_error(f"rtsp://127.0.0.1:{aio_server.port}/nope.mp4")


def test_refused_transport_is_461_with_the_fix(vlc_server, aio_server):
    tcp_on_vlc = first_error(vlc_server.url, transport="tcp")
    assert "refuses RTSP over TCP (461" in tcp_on_vlc and "stream.transport=udp" in tcp_on_vlc, tcp_on_vlc
    udp_on_aio = first_error(aio_server.url, transport="udp")
    assert "refuses RTSP over UDP (461" in udp_on_aio and "stream.transport=tcp" in udp_on_aio, udp_on_aio


# ------------------------------------------------------------------ the transport asked for
def test_udp_only_server_plays_over_udp_and_auto(vlc_server):
    assert read_frames(vlc_server.url, transport="udp").stats["transport"] == "udp"
    assert read_frames(vlc_server.url, transport="auto").stats["transport"] == "udp"   # TCP got 461


def test_tcp_only_server_and_gstreamer_over_udp(aio_server, gst_server):
    assert read_frames(aio_server.url, transport="auto").stats["transport"] == "tcp"
    assert read_frames(gst_server.url, transport="udp").stats["transport"] == "udp"


def test_bad_transport_is_one_line():
    with pytest.raises(UserError, match="stream.transport must be one of tcp, udp, auto"):
        StreamSource("rtsp://127.0.0.1:1/x", transport="quic")


# ------------------------------------------------------------------ names and masks
def test_capture_options_set_only_the_transport():
    assert capture_options("udp", "rtsp_transport;tcp|analyzeduration;100000|tls_verify;1") == \
        "rtsp_transport;udp|analyzeduration;100000|tls_verify;1"


def test_passwords_with_space_or_quote_are_masked():
    # found by the pattern alone (nothing remembered)...
    assert mask_url("rtsp://u:pa ss@10.0.0.7:554/live lost") == "rtsp://u:***@10.0.0.7:554/live lost"
    assert mask_url('open rtsp://u:pa"ss@10.0.0.7/live') == "open rtsp://u:***@10.0.0.7/live"
    # ...and anywhere once the URL was opened (a message quoting only the password)
    remember_secret('rtsp://u:we "ird@pass@10.0.0.7/live')
    assert 'we "ird@pass' not in mask_url('server said: bad password we "ird@pass')


def test_file_urls_and_video_names():
    assert is_file_url("http://127.0.0.1:8000/a/clip.MP4?x=1") and is_file_url("https://h/v.mkv")
    assert not is_file_url("http://cam/video.mjpg") and not is_file_url("rtsp://cam/clip.mp4")
    assert safe_stem("http://u:pw@127.0.0.1:8000/pw_768.mp4") == "127.0.0.1_8000_pw_768"
    assert safe_stem("rtsp://cam/live") == "cam_live"


# ------------------------------------------------------------------ a whole file over HTTP
def test_http_file_cut_mid_way_resumes_without_losing_or_repeating_frames(tmp_path):
    data = Path(make_h264_clip(str(tmp_path / "clip.mp4"), seconds=4.0, fps=10, faststart=True)).read_bytes()
    gets = []

    class HalfFirst(BaseHTTPRequestHandler):
        """The first answer breaks off half-way (a dropped connection); later ones are whole."""

        def log_message(self, *args):
            pass

        def do_GET(self):
            gets.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2] if len(gets) == 1 else data)
            self.close_connection = True

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), HalfFirst)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        source = StreamSource(f"http://127.0.0.1:{httpd.server_address[1]}/clip.mp4",
                              reconnect_backoff=(0.1, 2.0, 0.5))
        assert source.finite and not source.is_live
        indexes = [frame.index for frame in source]
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert indexes == list(range(40)), indexes          # every frame once, in order
    assert len(gets) == 2 and source.stats["reconnects"] == 1
