"""Shared pytest fixtures.

RTSP: ``rtsp_server_factory`` starts real GStreamer RTSP servers on 127.0.0.1 (see
``tests/rtsp_server.py``) and stops them after the test; tests using it are skipped, with the
reason, when the GStreamer packages are missing (install: ``bash tools/install_rtsp_deps.sh``).
"""
from __future__ import annotations

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
