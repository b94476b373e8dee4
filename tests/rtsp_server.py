"""A real RTSP server on 127.0.0.1 for tests: GStreamer's gst-rtsp-server run as a subprocess.

This file has two halves:

* ``RtspServer`` (imported by pytest, runs in the project's venv): picks nothing itself — the test
  passes a free port (``free_port()``) — starts the server process, waits until it listens, and
  stops it by PID. ``stop()`` then ``start()`` restarts it on the same port, which is how tests
  simulate a camera that reboots. ``pause()``/``resume()`` (SIGSTOP/SIGCONT) simulate a camera that
  hangs with its sockets open.
* ``main()`` (run as ``/usr/bin/python3 tests/rtsp_server.py ...``): the server itself. GStreamer's
  Python bindings (``gi``) exist only in the system Python (Debian packages, installed by
  ``tools/install_test_deps.sh``), so the server runs there with ``PYTHONPATH``/``PYTHONHOME``
  removed from its environment (the venv's values would break the system interpreter).

Served media: ``videotestsrc`` (a moving ball) by default, or a looping sequence of JPEG images
(``images=".../frame%05d.jpg"``) re-encoded to H.264, so the stream never ends.

Example:
    >>> server = RtspServer(free_port())           # doctest: +SKIP
    >>> server.start(); url = server.url           # rtsp://127.0.0.1:PORT/test
    >>> server.stop(); server.start()              # same port, a fresh media pipeline
"""
from __future__ import annotations

import argparse
import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Optional

SYSTEM_PYTHON = "/usr/bin/python3"
# Elements the served pipeline needs; a missing encoder would otherwise only show up as the
# client failing to open, because the media pipeline is built when the first client connects.
REQUIRED_ELEMENTS = ("videotestsrc", "videoconvert", "x264enc", "rtph264pay", "multifilesrc",
                     "jpegdec", "videoscale", "videorate")


def _system_env() -> dict:
    """The environment for the system Python: the venv's Python variables removed."""
    env = dict(os.environ)
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"):
        env.pop(key, None)
    return env


@lru_cache(maxsize=1)
def gst_rtsp_unavailable_reason() -> Optional[str]:
    """None when the GStreamer RTSP server can run here, else why not (for ``pytest.skip``)."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found (the RTSP test server needs the system Python with gi)"
    probe = (
        "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0')\n"
        "from gi.repository import Gst, GstRtspServer; Gst.init(None)\n"
        f"missing = [e for e in {REQUIRED_ELEMENTS!r} if Gst.ElementFactory.find(e) is None]\n"
        "print(' '.join(missing))\n"
    )
    try:
        out = subprocess.run([SYSTEM_PYTHON, "-c", probe], env=_system_env(), capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"cannot run {SYSTEM_PYTHON}: {err}"
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["?"])[-1]
        return (f"GStreamer RTSP server bindings missing ({last}); "
                "install them with: bash tools/install_test_deps.sh")
    if out.stdout.strip():
        return (f"GStreamer elements missing: {out.stdout.strip()}; "
                "install them with: bash tools/install_test_deps.sh")
    return None


def make_tls_pem(path: str) -> Optional[str]:
    """Write a self-signed certificate and key for 127.0.0.1 to ``path`` (PEM); None without openssl."""
    key, cert = path + ".key", path + ".crt"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    Path(path).write_text(Path(cert).read_text() + Path(key).read_text())
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_RUNNING: "set[_ProcessServer]" = set()


@atexit.register
def _stop_all() -> None:
    """No orphan servers, even when a test run is interrupted."""
    for server in list(_RUNNING):
        server.stop()


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class _ProcessServer:
    """A server subprocess on 127.0.0.1:port with start/stop/restart/pause, its log in a file;
    subclasses say what to run (``command``) and with which environment (``env``)."""

    def __init__(self, port: int, log_path: Optional[str] = None) -> None:
        self.port = port
        self.log_path = log_path or os.path.join(tempfile.gettempdir(), f"{type(self).__name__}_{port}.log")
        self._proc: Optional[subprocess.Popen] = None
        self._log_file = None

    def command(self) -> list:
        raise NotImplementedError

    def env(self) -> dict:
        return dict(os.environ)

    @property
    def pid(self) -> Optional[int]:
        return self._proc.pid if self._proc else None

    def start(self, timeout_s: float = 15.0):
        """Start the server and wait until it accepts connections."""
        if self._proc is not None:
            raise RuntimeError(f"{type(self).__name__} already running")
        self._log_file = open(self.log_path, "ab")
        self._proc = subprocess.Popen(self.command(), env=self.env(), stdin=subprocess.DEVNULL,
                                      stdout=self._log_file, stderr=self._log_file)
        _RUNNING.add(self)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                log = Path(self.log_path).read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"{type(self).__name__} exited at start:\n{log}")
            if _listening(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{type(self).__name__} did not listen on port {self.port} within {timeout_s}s")

    def stop(self) -> None:
        """Kill the server (clients see the connection drop, as when a camera reboots)."""
        proc, self._proc = self._proc, None
        _RUNNING.discard(self)
        if proc is not None:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)  # in case it was paused: let it die
                proc.kill()
            proc.wait(timeout=10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): sockets stay open, no data flows — a hung camera."""
        if self._proc is not None:
            os.kill(self._proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self._proc is not None:
            os.kill(self._proc.pid, signal.SIGCONT)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class RtspServer(_ProcessServer):
    """Controls one RTSP server subprocess serving ``rtsp://[user:password@]127.0.0.1:port/path``.

    Args:
        port: TCP port on 127.0.0.1 (pick one with ``free_port()``).
        path: mount point, e.g. ``"/test"``.
        width, height, fps: size and rate of the served H.264 stream (keep them small: CPU is shared).
        user, password: when both are given, the server requires RTSP basic authentication.
        images: optional printf-style JPEG sequence (``dir/frame%05d.jpg``) served in a loop
            instead of the synthetic moving ball.
        log_path: where the server's stderr goes (a temporary file by default); never an unread pipe.
        tls_pem: PEM file holding a certificate and its key: serve ``rtsps://`` (RTSP over TLS).
    """

    def __init__(self, port: int, path: str = "/test", width: int = 320, height: int = 240,
                 fps: int = 15, user: Optional[str] = None, password: Optional[str] = None,
                 images: Optional[str] = None, log_path: Optional[str] = None,
                 tls_pem: Optional[str] = None) -> None:
        super().__init__(port, log_path or os.path.join(tempfile.gettempdir(), f"rtsp_server_{port}.log"))
        self.path = path if path.startswith("/") else "/" + path
        self.width, self.height, self.fps = width, height, fps
        self.user, self.password = user, password
        self.images = images
        self.tls_pem = tls_pem

    @property
    def url(self) -> str:
        """The stream's URL, with the credentials when the server requires them."""
        creds = f"{self.user}:{self.password}@" if self.user and self.password else ""
        scheme = "rtsps" if self.tls_pem else "rtsp"
        return f"{scheme}://{creds}127.0.0.1:{self.port}{self.path}"

    def command(self) -> list:
        args = [SYSTEM_PYTHON, str(Path(__file__).resolve()), "--port", str(self.port),
                "--path", self.path, "--width", str(self.width), "--height", str(self.height),
                "--fps", str(self.fps)]
        if self.user and self.password:
            args += ["--user", self.user, "--password", self.password]
        if self.images:
            args += ["--images", self.images]
        if self.tls_pem:
            args += ["--tls-pem", self.tls_pem]
        return args

    def env(self) -> dict:
        return _system_env()

    def start(self, timeout_s: float = 10.0) -> "RtspServer":
        return super().start(timeout_s)


# --------------------------------------------------------------------------------------------
# The server process (system Python with gi). Nothing below runs inside pytest.

def _launch_string(args: argparse.Namespace) -> str:
    caps = f"video/x-raw,width={args.width},height={args.height},framerate={args.fps}/1"
    if args.images:
        # multifilesrc loops the JPEG sequence forever; videorate/identity pace it at real time
        # (the source is not live, so without sync it would be encoded as fast as the CPU allows).
        src = (f"multifilesrc location={args.images} index=0 loop=true "
               f"caps=image/jpeg,framerate={args.fps}/1 ! jpegdec ! videoconvert ! videoscale ! "
               f"videorate ! {caps} ! identity sync=true")
    else:
        src = f"videotestsrc is-live=true pattern=ball ! {caps}"
    # key-int-max=fps: a keyframe every second, so a reconnecting client decodes quickly.
    return (f"( {src} ! videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast "
            f"key-int-max={args.fps} threads=1 ! rtph264pay name=pay0 pt=96 config-interval=1 )")


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a test stream over RTSP on 127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/test")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--images")
    parser.add_argument("--tls-pem", help="PEM file with certificate and key: serve rtsps://")
    args = parser.parse_args(argv)

    import gi  # only in the system Python
    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import Gio, GLib, Gst, GstRtspServer

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(_launch_string(args))
    factory.set_shared(True)  # one encoder for all clients
    if (args.user and args.password) or args.tls_pem:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "user")
        if args.user and args.password:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
        else:  # TLS only: every client gets the role without credentials
            auth.set_default_token(token)
        if args.tls_pem:
            auth.set_tls_certificate(Gio.TlsCertificate.new_from_file(args.tls_pem))
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role("user", "media.factory.access", True)
        permissions.add_permission_for_role("user", "media.factory.construct", True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on 127.0.0.1:{args.port}")
    print(f"rtsp server: rtsp://127.0.0.1:{args.port}{args.path}", file=sys.stderr, flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()


# --------------------------------------------------------------------------------------------
# Two RTSP servers that are not GStreamer's, for the same tests against different code:
# aio-rtsp-toolkit (PyPI, pure Python, RTSP over TCP only) and VLC (RTSP over UDP only; it answers
# 461 to a client that insists on TCP). Both serve an H.264 file without re-encoding.

VLC_USER = "rtsptest"   # created by tools/install_test_deps.sh; VLC refuses to run as root


def make_h264_clip(path: str, seconds: float = 120.0, fps: int = 10, size=(160, 120),
                   faststart: bool = False) -> str:
    """Write a small H.264 MP4 (a green box sweeping left to right) with PyAV; return its path.

    Long enough that a looping server never reaches its end during a test module (VLC ends the
    RTSP session at the end of each loop). ``faststart``: the index (moov) first, so the first
    half of the file already plays.
    """
    import av
    import numpy as np

    w, h = size
    with av.open(path, "w", options={"movflags": "faststart"} if faststart else {}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"g": str(fps), "preset": "ultrafast", "tune": "zerolatency"}
        for i in range(int(seconds * fps)):
            image = np.zeros((h, w, 3), np.uint8)
            x = (i * 3) % (w - 30)
            image[40:80, x:x + 30] = (0, 255, 0)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def aio_rtsp_unavailable_reason() -> Optional[str]:
    """None when aio-rtsp-toolkit's ``rtsp-server`` and PyAV are installed, else why not."""
    if not (Path(sys.executable).parent / "rtsp-server").exists():
        return "aio-rtsp-toolkit is not installed (pip install -e '.[dev]')"
    try:
        import av  # noqa: F401
    except ImportError:
        return "PyAV (av) is not installed (pip install -e '.[dev]')"
    return None


def vlc_user() -> Optional[str]:
    """The user VLC runs as: None when not root (VLC runs as the current user), else VLC_USER
    (or ``nobody`` when that user does not exist)."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(VLC_USER)
        return VLC_USER
    except KeyError:
        return "nobody"


def vlc_unavailable_reason() -> Optional[str]:
    """None when VLC can serve RTSP here, else why not."""
    import shutil

    if shutil.which("vlc") is None:
        return "VLC is not installed; install it with: bash tools/install_test_deps.sh"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is missing: VLC cannot run as root"
    try:
        import av  # noqa: F401  (makes the served clip)
    except ImportError:
        return "PyAV (av) is not installed (pip install -e '.[dev]')"
    return None


class AioRtspServer(_ProcessServer):
    """aio-rtsp-toolkit's ``rtsp-server`` serving ``clip`` in a loop; RTSP over TCP only."""

    def __init__(self, port: int, clip: str, log_path: Optional[str] = None) -> None:
        super().__init__(port, log_path)
        self.clip = Path(clip)

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{self.clip.name}?play_count=0"   # 0 = loop forever

    def command(self) -> list:
        return [str(Path(sys.executable).parent / "rtsp-server"), "-d", str(self.clip.parent),
                "-H", "127.0.0.1", "-p", str(self.port), "-cp", str(free_port())]


class VlcRtspServer(_ProcessServer):
    """VLC serving ``clip`` at ``rtsp://127.0.0.1:port/cam``; RTSP over UDP only (461 for TCP).

    VLC refuses to run as root: as root it runs as ``vlc_user()`` via ``setpriv``, so ``clip`` and
    its folder must be readable by that user.
    """

    def __init__(self, port: int, clip: str, log_path: Optional[str] = None) -> None:
        super().__init__(port, log_path)
        self.clip = Path(clip)
        self.home = tempfile.mkdtemp(prefix="vlc_home_")
        os.chmod(self.home, 0o777)

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def command(self) -> list:
        vlc = ["vlc", "-I", "dummy", "--no-stats", str(self.clip), "--loop", "--sout-keep",
               "--sout", f"#rtp{{sdp=rtsp://127.0.0.1:{self.port}/cam}}"]
        user = vlc_user()
        if user is None:
            return vlc
        return ["setpriv", f"--reuid={user}", f"--regid={user if user != 'nobody' else 'nogroup'}",
                "--clear-groups", *vlc]

    def env(self) -> dict:
        return {**os.environ, "HOME": self.home}
