"""Shared pytest fixtures.

RTSP: ``rtsp_server_factory`` starts real GStreamer RTSP servers on 127.0.0.1 (see
``tests/rtsp_server.py``) and stops them after the test; tests using it are skipped, with the
reason, when the GStreamer packages are missing (install: ``bash tools/install_test_deps.sh``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Iterator, List

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # so tests can `import rtsp_server`

from rtsp_server import RtspServer, free_port, gst_rtsp_unavailable_reason  # noqa: E402


@pytest.fixture
def rtsp_server_factory() -> Iterator[Callable[..., RtspServer]]:
    """``make(**kwargs) -> RtspServer`` (started, on a free port); all stopped at teardown."""
    reason = gst_rtsp_unavailable_reason()
    if reason:
        pytest.skip(reason)
    servers: List[RtspServer] = []

    def make(port: int = 0, **kwargs) -> RtspServer:
        server = RtspServer(port or free_port(), **kwargs)
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def rtsp_server(rtsp_server_factory) -> RtspServer:
    """One RTSP server: 320x240, 15 fps moving ball at ``rtsp_server.url``."""
    return rtsp_server_factory()


# --- servers shared by a whole test module (starting one costs 0.1-2 s; stream tests are slow) ---

@pytest.fixture(scope="module")
def h264_clip() -> Iterator[str]:
    """A 120 s, 10 fps, 160x120 H.264 MP4 in a world-readable folder (VLC runs as another user)."""
    import shutil
    import tempfile

    from rtsp_server import make_h264_clip

    folder = tempfile.mkdtemp(prefix="h264_clip_")
    os.chmod(folder, 0o755)
    path = make_h264_clip(os.path.join(folder, "clip.mp4"))
    os.chmod(path, 0o644)
    yield path
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def gst_server() -> Iterator[RtspServer]:
    """Our GStreamer RTSP server (TCP and UDP), for the whole module; tests may stop/start it."""
    reason = gst_rtsp_unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = RtspServer(free_port(), fps=10).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def aio_server(h264_clip) -> Iterator["AioRtspServer"]:
    """aio-rtsp-toolkit's server (RTSP over TCP only) looping ``h264_clip``."""
    from rtsp_server import AioRtspServer, aio_rtsp_unavailable_reason

    reason = aio_rtsp_unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = AioRtspServer(free_port(), h264_clip).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def vlc_server(h264_clip) -> Iterator["VlcRtspServer"]:
    """VLC (RTSP over UDP only, 461 to TCP) serving ``h264_clip``."""
    from rtsp_server import VlcRtspServer, vlc_unavailable_reason

    reason = vlc_unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = VlcRtspServer(free_port(), h264_clip).start()
    yield server
    server.stop()
