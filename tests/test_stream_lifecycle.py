"""End to end: the ``track`` command on live streams through their whole life — stopped in every
state, one camera dying among several, a long outage, a finite file over HTTP, a URL that never
opens. Against our GStreamer RTSP server and two different ones (aio-rtsp-toolkit over TCP, VLC
over UDP), all on 127.0.0.1. Detections are precomputed (one box per frame): no neural network.
"""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import pytest

from rtsp_server import free_port, make_h264_clip
from test_stream_cli import ROOT, all_text, read_rows, track_cmd, wait_for_rows, write_det_file

STOP_WITHIN_S = 2.0   # a stop request ends the run within this, in every state (issue 15)


@pytest.fixture(scope="module")
def dets(tmp_path_factory) -> Path:
    return write_det_file(tmp_path_factory.mktemp("dets") / "det.txt")


class Track:
    """``track`` running in the background, its stderr in a file."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.out = tmp_path / "out"
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.stderr_path = tmp_path / "stderr.txt"
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(track_cmd(*args, "--out", str(self.out)), cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=self._stderr)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def wait_for_log(self, text: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.stderr:
            assert self.proc.poll() is None, f"track exited with {self.proc.returncode}: {self.stderr}"
            assert time.monotonic() < deadline, f"no {text!r} in stderr after {timeout_s}s: {self.stderr}"
            time.sleep(0.1)

    def rows(self, n: int, csv: str = "tracks.csv") -> list:
        return wait_for_rows(self.out / csv, n, self.proc)

    def sigterm(self) -> float:
        """Send SIGTERM; return the seconds until the process ended (asserting exit code 0)."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        took = time.monotonic() - start
        print(f"stopped {took:.2f}s after SIGTERM")
        assert code == 0, self.stderr
        return took

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()


@pytest.fixture
def background(tmp_path):
    runs = []

    def start(*args: str) -> Track:
        run = Track(tmp_path / f"run{len(runs)}", *args)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.close()


def assert_playable(video: Path) -> int:
    cap = cv2.VideoCapture(str(video))
    n = 0
    while cap.isOpened() and cap.read()[0]:
        n += 1
    cap.release()
    assert n > 0, f"{video.name} is not playable"
    return n


def summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


# ------------------------------------------------------------------ 1. a stop request, every state
def test_sigterm_while_connecting_to_a_silent_camera(background, dets):
    with socket.socket() as silent:            # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        silent.settimeout(60)
        run = background(f"rtsp://127.0.0.1:{silent.getsockname()[1]}/live", "--detections", str(dets),
                         "--set", "stream.reconnect_max=0", "--set", "stream.open_timeout_s=20")
        connection, _ = silent.accept()         # track is now inside its connection attempt
        with connection:
            time.sleep(0.3)
            assert run.sigterm() < STOP_WITHIN_S
    s = summary(run.out)
    assert s["stopped_early"] is True and s["status"] == "stopped" and s["frames"] == 0


def test_sigterm_while_backing_off_with_reconnect_max_0(background, dets):
    run = background(f"rtsp://127.0.0.1:{free_port()}/live", "--detections", str(dets),
                     "--set", "stream.reconnect_max=0", "--set", "stream.open_retries=0")
    run.wait_for_log("retrying in 2.0s")       # the third attempt failed: waiting 2 s now
    assert run.sigterm() < STOP_WITHIN_S
    assert summary(run.out)["stopped_early"] is True


@pytest.mark.parametrize("server_name", ["gst_server", "aio_server", "vlc_server"])
def test_sigterm_while_reading_finalises_every_file(server_name, request, background, dets):
    server = request.getfixturevalue(server_name)
    run = background(server.url, "--detections", str(dets), "--set", "stream.reconnect_max=0")
    run.rows(10)
    assert run.sigterm() < STOP_WITHIN_S
    s = summary(run.out)
    assert s["stopped_early"] is True and s["status"] == "stopped" and s["frames"] >= 10
    assert s["stream"]["transport"] == ("udp" if server_name == "vlc_server" else "tcp")
    videos = list(run.out.glob("*.mp4"))
    assert len(videos) == 1 and not videos[0].name.endswith(".mp4.mp4"), videos
    assert assert_playable(videos[0]) == s["frames"]


def test_sigterm_while_backing_off_after_an_outage(gst_server, background, dets):
    run = background(gst_server.url, "--detections", str(dets), "--set", "stream.reconnect_max=0")
    try:
        run.rows(10)
        gst_server.stop()                       # the camera goes away for good
        run.wait_for_log("retrying in")
        assert run.sigterm() < STOP_WITHIN_S
    finally:
        gst_server.start()
    s = summary(run.out)
    assert s["stopped_early"] is True and s["stream"]["outages"] == 1
    assert assert_playable(next(run.out.glob("*.mp4"))) == s["frames"]


# ------------------------------------------------------------------ 2. streams live and fail alone
def test_an_offline_line_in_a_streams_file_does_not_stop_the_others(aio_server, tmp_path, dets):
    streams = tmp_path / "cams.streams"
    streams.write_text(f"live {aio_server.url}\ndead rtsp://127.0.0.1:{free_port()}/offline\n")
    out = tmp_path / "out"
    proc = subprocess.run(track_cmd(str(streams), "--detections", f"{dets},{dets}", "--out", str(out),
                                    "--max-frames", "30", "--no-realtime", "--set", "stream.open_retries=1"),
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr           # 3: some sources failed, the others ran
    assert "Traceback" not in proc.stderr and "source dead failed" in proc.stderr
    top = summary(out)["sources"]
    assert top["dead"]["status"] == "failed" and "connection refused" in top["dead"]["error"]
    assert top["live"]["status"] == "finished" and top["live"]["frames"] == 30
    assert summary(out / "live")["frames"] == 30


def test_a_camera_that_gives_up_ends_alone(gst_server, rtsp_server_factory, background, dets):
    doomed = rtsp_server_factory(fps=10, user="cam", password="d00med-pw")
    run = background(gst_server.url, doomed.url, "--detections", f"{dets},{dets}",
                     "--set", "stream.reconnect_max=3", "--set", "stream.reset_after_s=1")
    run.rows(10, "0/tracks.csv")
    run.rows(10, "1/tracks.csv")
    doomed.stop()
    run.wait_for_log("source 1 failed")
    healthy = len(read_rows(run.out / "0" / "tracks.csv"))
    run.rows(healthy + 10, "0/tracks.csv")      # the healthy camera goes on
    run.proc.send_signal(signal.SIGTERM)
    assert run.proc.wait(timeout=30) == 3, run.stderr
    top = summary(run.out)["sources"]
    assert top["0"]["status"] == "stopped" and top["1"]["status"] == "failed"
    assert "cannot reach stream rtsp://cam:***@" in top["1"]["error"]
    gave_up = top["1"]["stream"]
    # 3 attempts 0.5 s and 1 s apart: the outage that ended it lasted > 1.5 s > reset_after_s
    assert gave_up["outage_s"] > 1.4 and gave_up["long_outages"] == 1 and gave_up["last_outage_s"] > 1.4
    assert assert_playable(next((run.out / "1").glob("*.mp4"))) == top["1"]["frames"]
    assert "d00med-pw" not in all_text([run.out, run.stderr_path])


# ------------------------------------------------------------------ 3. ids after a long outage
@pytest.mark.parametrize("server_name", ["gst_server", "vlc_server"])
def test_ids_stay_unique_after_a_tracker_reset(server_name, request, background, dets):
    server = request.getfixturevalue(server_name)
    run = background(server.url, "--detections", str(dets), "--tracker", "bytetrack",
                     "--set", "stream.reconnect_max=0", "--set", "stream.reset_after_s=1")
    before = run.rows(10)
    server.stop()
    time.sleep(1.5)                              # longer than reset_after_s
    server.start()
    run.wait_for_log("(tracker reset)")
    rows = run.rows(len(before) + 10)
    assert run.sigterm() < 10
    rows = read_rows(run.out / "tracks.csv")
    gap_at = max(range(1, len(rows)), key=lambda i: float(rows[i]["time_s"]) - float(rows[i - 1]["time_s"]))
    ids_before = {int(r["track_id"]) for r in rows[:gap_at]}
    ids_after = {int(r["track_id"]) for r in rows[gap_at:]}
    assert ids_before and ids_after and min(ids_after) > max(ids_before), (ids_before, ids_after)
    s = summary(run.out)
    assert s["stream"]["long_outages"] == 1
    assert s["unique_tracks"] == len(ids_before | ids_after)


# ------------------------------------------------------------------ 5. a whole file over HTTP
def test_a_finite_http_file_is_read_once_every_frame(tmp_path, dets):
    folder = tmp_path / "www"
    folder.mkdir()
    make_h264_clip(str(folder / "pw_768.mp4"), seconds=3.0, fps=10)   # 30 frames
    gets = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            gets.append(self.path)
            super().do_GET()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://viewer:http-s3cret@127.0.0.1:{httpd.server_address[1]}/pw_768.mp4"
        out = tmp_path / "out"
        proc = subprocess.run(track_cmd(url, "--detections", str(dets), "--out", str(out)),
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert proc.returncode == 0, proc.stderr
    s = summary(out)
    assert s["frames"] == 30 and s["stream"]["frames_dropped"] == 0 and s["status"] == "finished"
    assert sorted({int(r["frame"]) for r in read_rows(out / "tracks.csv")}) == list(range(1, 31))
    assert len(gets) <= 2, gets                   # read once: no loop of GETs
    videos = [p.name for p in out.glob("*.mp4")]
    assert videos == [f"127.0.0.1_{httpd.server_address[1]}_pw_768.mp4"], videos
    assert "http-s3cret" not in all_text([out]) + proc.stderr


# ------------------------------------------------------------------ 6. a URL that never opens
def test_a_run_that_never_opened_leaves_no_folder_and_masks_odd_passwords(tmp_path, dets):
    url = f'rtsp://admin:pa ss"w0rd@127.0.0.1:{free_port()}/live'
    proc = subprocess.run(track_cmd(url, "--detections", str(dets), "--set", f"output.project={tmp_path / 'runs'}"),
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "rtsp://admin:***@127.0.0.1" in proc.stderr
    assert "pa ss" not in proc.stderr and 'ss"w0rd' not in proc.stderr, proc.stderr
    assert not (tmp_path / "runs" / "exp").exists(), list((tmp_path / "runs").rglob("*"))
