"""StreamSource on an HTTP MJPEG stream (``multipart/x-mixed-replace``, what most IP cameras and
``mjpg-streamer`` serve), from a tiny server in this test: frames read, server restart survived."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from tracker.sources.stream import StreamSource
from rtsp_server import free_port


class MjpegServer:
    """Serves an endless MJPEG stream of a moving square at ``http://127.0.0.1:port/video.mjpg``."""

    def __init__(self, port: int, fps: float = 15.0, size=(160, 120)) -> None:
        self.port, self.fps, self.size = port, fps, size
        self._httpd = None
        self._thread = None

    def start(self) -> "MjpegServer":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                w, h = owner.size
                i = 0
                try:
                    while owner._httpd is not None:
                        image = np.zeros((h, w, 3), np.uint8)
                        x = (i * 4) % (w - 20)
                        image[40:60, x:x + 20] = (0, 255, 0)
                        jpeg = cv2.imencode(".jpg", image)[1].tobytes()
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n"
                                         + f"Content-Length: {len(jpeg)}\r\n\r\n".encode()
                                         + jpeg + b"\r\n")
                        i += 1
                        time.sleep(1.0 / owner.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
            # handler threads notice _httpd is None and end their responses
            time.sleep(0.3)


@pytest.fixture
def mjpeg_server():
    server = MjpegServer(free_port()).start()
    yield server
    server.stop()


def test_http_mjpeg_stream_reads_and_reconnects(mjpeg_server):
    url = f"http://user:http-secret@127.0.0.1:{mjpeg_server.port}/video.mjpg"
    source = StreamSource(url, reconnect_backoff=(0.2, 2.0, 1.0))
    assert source.name == f"http://user:***@127.0.0.1:{mjpeg_server.port}/video.mjpg"
    frames = []
    try:
        for frame in source:
            frames.append(frame)
            if len(frames) == 10:
                mjpeg_server.stop()
                time.sleep(1.0)
                mjpeg_server.start()
            if len(frames) >= 20:
                break
    finally:
        source.close()
    assert frames[0].image.shape == (120, 160, 3)
    assert [f.index for f in frames] == sorted({f.index for f in frames})
    assert source.stats_snapshot().reconnects == 1
