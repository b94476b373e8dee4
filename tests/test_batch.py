"""``track batch`` on a real Ray runtime: 4 clips cut from sample_videos/crossing.mp4 (with their
detections) and a corrupt file.

One Ray cluster per module (``ray start --head`` on 127.0.0.1, 2 CPUs); most runs join it with
``--ray-address``, one run starts its own embedded runtime. Ray's session
files go to a short temporary folder that is removed at the end, and no Ray process survives.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import REPO, SAMPLE_DETS, SAMPLE_VIDEO, TRACK, assert_one_line_error, read_csv_rows

from tracker.batch.fleet import parse_address
from tracker.batch.inputs import BatchInput, detections_for, expand_inputs
from tracker.batch.worker import track_one
from tracker.config import load_config
from tracker.errors import UserError


CLIP_FRAMES = 60
RUN_FILES = ("tracks.csv", "tracks.txt", "summary.json", "config.yaml")


def _ray_processes(marker: str) -> list:
    """pids of processes whose command line names ``marker`` (our Ray session folder)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(pid))
            except OSError:
                pass
    return found


def _write_clip(path: Path, frames: list, dets: np.ndarray, first: int) -> None:
    """Frames ``first..first+len(frames)-1`` of crossing.mp4 as a video, with its det file."""
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (w, h))
    rows = []
    for k, image in enumerate(frames):
        writer.write(image)
        d = dets[dets[:, 0] == first + k + 1].copy()
        d[:, 0] = k + 1
        rows.append(d)
    writer.release()
    np.savetxt(path.with_name(path.stem + "_det.txt"), np.concatenate(rows), delimiter=",", fmt="%g")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """clips/c1..c4.mp4 (60 frames each) + det files + corrupt.mp4; long/long.mp4 (250 frames)."""
    import cv2

    root = tmp_path_factory.mktemp("batch")
    cap = cv2.VideoCapture(str(SAMPLE_VIDEO))
    frames = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        frames.append(image)
    dets = np.loadtxt(SAMPLE_DETS, delimiter=",", ndmin=2)
    (root / "clips").mkdir()
    for c in range(4):
        first = c * CLIP_FRAMES
        _write_clip(root / "clips" / f"c{c + 1}.mp4", frames[first:first + CLIP_FRAMES], dets, first)
    (root / "clips" / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4000))
    (root / "long").mkdir()
    _write_clip(root / "long" / "long.mp4", frames, dets, 0)
    return root


@pytest.fixture(scope="module")
def ray_address():
    """A Ray cluster as users start one: ``ray start --head`` on 127.0.0.1 (2 CPUs, no dashboard,
    token authentication off so the test does not depend on ~/.ray). Yields its address; at the end
    every process of it is stopped by pid (``ray stop`` would stop other users' Ray too) and its
    files are removed."""
    temp = tempfile.mkdtemp(prefix="rayt", dir="/tmp")   # short: Ray's socket paths must fit 107 bytes
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, RAY_AUTH_MODE="disabled", RAY_TMPDIR=temp,
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = subprocess.run([str(Path(TRACK).with_name("ray")), "start", "--head", "--node-ip-address",
                              "127.0.0.1", "--port", str(port), "--num-cpus", "2", "--num-gpus", "0", "--include-dashboard=false",
                              "--disable-usage-stats", "--temp-dir", temp],
                             capture_output=True, text=True, env=env, timeout=120)
    try:
        assert started.returncode == 0, started.stderr[-2000:]
        yield f"127.0.0.1:{port}"
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in _ray_processes(temp):
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
            for _ in range(50):
                if not _ray_processes(temp):
                    break
                time.sleep(0.1)
        leftover = _ray_processes(temp)
        shutil.rmtree(temp, ignore_errors=True)
        assert not leftover, f"Ray processes left running: {leftover}"


def _batch_env(ray_tmp: str = None) -> dict:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "2")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["RAY_AUTH_MODE"] = "disabled"    # as the test cluster (an embedded runtime ignores this)
    if ray_tmp:
        env["RAY_TMPDIR"] = ray_tmp
    return env


def _batch(*args, env=None, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run([TRACK, "batch", *map(str, args)], capture_output=True, text=True,
                          env=env or _batch_env(), timeout=timeout, cwd=REPO)


def _fleet(out: Path):
    rows = {Path(r["source"]).stem: r for r in read_csv_rows(out / "fleet.csv")}
    return rows, json.loads((out / "fleet.json").read_text())


def _hidden_leftovers(out: Path) -> list:
    return [p.name for p in out.iterdir() if p.name.startswith(".") and p.is_dir()]


DETS = "{dir}/{stem}_det.txt"


def test_embedded_runtime_four_clips_and_a_corrupt_file_then_a_rerun_redoes_nothing(data, tmp_path):
    out = tmp_path / "out"
    ray_tmp = tempfile.mkdtemp(prefix="rayb", dir="/tmp")
    try:
        proc = _batch(data / "clips", "--out", out, "--detections", DETS, "--workers", "2",
                      env=_batch_env(ray_tmp))
        assert not _ray_processes(ray_tmp), "the embedded Ray runtime outlived track batch"
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert proc.returncode == 1, proc.stderr          # one input failed
    assert "Traceback" not in proc.stderr
    rows, fleet = _fleet(out)
    assert set(rows) == {"c1", "c2", "c3", "c4", "corrupt"}
    assert rows["corrupt"]["status"] == "failed"
    assert "cannot open video" in rows["corrupt"]["error"] and "corrupt.mp4" in rows["corrupt"]["error"]
    for name in ("c1", "c2", "c3", "c4"):
        r = rows[name]
        assert r["status"] == "done" and r["error"] == ""
        assert int(r["frames"]) == CLIP_FRAMES and int(r["tracks"]) >= 3
        folder = out / name
        assert all((folder / f).is_file() for f in RUN_FILES) and (folder / f"{name}.mp4").is_file()
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["frames"] == CLIP_FRAMES
        assert summary["outputs"]["csv"] == str(folder / "tracks.csv")   # paths of the final folder
        assert len(read_csv_rows(folder / "tracks.csv")) > 0
    assert not (out / "corrupt").exists()
    assert _hidden_leftovers(out) == []
    assert fleet["engine"] == "ray" and fleet["ray_local"] is True and ":" in fleet["ray_address"]
    assert (fleet["inputs"], fleet["done"], fleet["failed"], fleet["workers"]) == (5, 4, 1, 2)
    assert fleet["frames"] == 4 * CLIP_FRAMES and fleet["fleet_fps"] > 0
    # each worker loaded once and took several videos (a det-file detector is per video)
    assert len({r["worker_pid"] for r in fleet["rows"] if r.get("worker_pid")}) <= 2

    # the same files as a plain `track` run of that clip
    single = tmp_path / "single"
    plain = subprocess.run([TRACK, data / "clips" / "c2.mp4", "--detections", data / "clips" / "c2_det.txt",
                            "--out", single], capture_output=True, text=True, env=_batch_env(), timeout=120)
    assert plain.returncode == 0, plain.stderr
    assert (single / "tracks.txt").read_text() == (out / "c2" / "tracks.txt").read_text()

    # a second run of the same command: nothing is redone, Ray is not even started
    before = {n: (out / n / "summary.json").stat().st_mtime_ns for n in ("c1", "c2", "c3", "c4")}
    again = _batch(data / "clips", "--out", out, "--detections", DETS, "--workers", "2")
    assert again.returncode == 1, again.stderr        # the corrupt file is still failed
    rows, fleet = _fleet(out)
    assert [rows[n]["status"] for n in ("c1", "c2", "c3", "c4")] == ["skipped"] * 4
    assert rows["c1"]["frames"] == str(CLIP_FRAMES)
    assert rows["corrupt"]["status"] == "failed"
    assert {n: (out / n / "summary.json").stat().st_mtime_ns for n in before} == before
    assert fleet["skipped"] == 4 and fleet["frames"] == 0


def test_worker_killed_mid_task_is_retried_with_no_partial_folder(data, tmp_path, ray_address):
    out = tmp_path / "out"
    proc = subprocess.Popen([TRACK, "batch", data / "long" / "long.mp4", data / "clips" / "c1.mp4",
                             "--out", out, "--detections", DETS, "--workers", "1", "--no-video",
                             "--ray-address", ray_address],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_batch_env(), cwd=REPO)
    killed = None
    deadline = time.monotonic() + 90
    while killed is None and time.monotonic() < deadline and proc.poll() is None:
        for tmp in out.glob(".long.tmp-*") if out.is_dir() else []:
            log = tmp / "tracks.txt"
            if log.is_file() and log.stat().st_size > 0:      # the worker is writing: mid-task
                killed = int(tmp.name.rsplit("-", 1)[1])
                os.kill(killed, signal.SIGKILL)
                break
        time.sleep(0.02)
    stdout, stderr = proc.communicate(timeout=120)
    assert killed is not None, f"never saw long.mp4 being tracked: {stderr}"
    assert proc.returncode == 0, stderr
    assert "retrying on another worker" in stderr
    rows, fleet = _fleet(out)
    assert rows["long"]["status"] == "done" and int(rows["long"]["frames"]) == 250
    assert rows["c1"]["status"] == "done"
    assert fleet["retries"] == 1 and fleet["ray_local"] is False
    by_name = {r["name"]: r for r in fleet["rows"]}
    assert by_name["long"]["worker_pid"] != killed
    assert json.loads((out / "long" / "summary.json").read_text())["frames"] == 250
    assert _hidden_leftovers(out) == []                  # the killed worker's temp folder is gone
    assert not (out / "long" / "long.mp4").exists()      # track options pass through (--no-video)

    # --force redoes a completed input (here with fewer frames, so the new result is visible)
    stamp = (out / "c1" / "summary.json").stat().st_mtime_ns
    forced = _batch(data / "clips" / "c1.mp4", "--out", out, "--detections", DETS, "--force",
                    "--max-frames", "20", "--ray-address", ray_address)
    assert forced.returncode == 0, forced.stderr
    rows, _ = _fleet(out)
    assert rows["c1"]["status"] == "done" and rows["c1"]["frames"] == "20"
    assert json.loads((out / "c1" / "summary.json").read_text())["frames"] == 20
    assert (out / "c1" / "summary.json").stat().st_mtime_ns != stamp
    assert _hidden_leftovers(out) == []


def test_unreachable_or_malformed_ray_address_is_one_line(data, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]                       # closed again: nothing listens there
    t0 = time.monotonic()
    proc = _batch(data / "clips" / "c1.mp4", "--out", tmp_path / "o", "--ray-address", f"127.0.0.1:{port}")
    assert_one_line_error(proc, "cannot reach a Ray cluster", f"127.0.0.1:{port}")
    assert time.monotonic() - t0 < 30
    assert parse_address("ray://10.0.0.5:10001") == ("10.0.0.5", 10001)
    for bad in ("head-node", "10.0.0.5:0", "10.0.0.5:99999", "http://head:6379"):
        with pytest.raises(UserError, match="--ray-address must be HOST:PORT"):
            parse_address(bad)


def test_more_gpus_or_cpus_per_task_than_the_cluster_has_is_one_line(data, tmp_path, ray_address):
    proc = _batch(data / "clips" / "c1.mp4", "--out", tmp_path / "o", "--ray-address", ray_address,
                  "--gpus-per-task", "1")
    assert_one_line_error(proc, "--gpus-per-task 1", "0 GPUs")
    proc = _batch(data / "clips" / "c1.mp4", "--out", tmp_path / "o", "--ray-address", ray_address,
                  "--cpus-per-task", "4")
    assert_one_line_error(proc, "--cpus-per-task 4", "2 CPUs")


def test_missing_ray_is_one_line(data, tmp_path):
    fake = tmp_path / "noray"
    (fake / "ray").mkdir(parents=True)
    (fake / "ray" / "__init__.py").write_text("raise ImportError('No module named ray')\n")
    env = _batch_env()
    env["PYTHONPATH"] = f"{fake}{os.pathsep}{env['PYTHONPATH']}"
    proc = _batch(data / "clips" / "c1.mp4", "--out", tmp_path / "o", env=env)
    assert_one_line_error(proc, "track batch needs Ray", "pip install")


def test_inputs_folders_globs_manifests_urls(data, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(data / "clips" / "c1.mp4", other / "c1.mp4")          # same stem, another folder
    manifest = tmp_path / "list.txt"
    manifest.write_text(f"# recordings\n{data / 'clips' / 'c2.mp4'}\nother/c1.mp4\n"
                        "rtsp://admin:secret@cam/live\nmissing.mp4\n")
    items = expand_inputs([str(data / "clips" / "c*.mp4"), str(manifest), str(data / "clips")])
    names = [i.name for i in items]
    assert names == ["c1", "c2", "c3", "c4", "corrupt", "c1_2", "cam_live", "missing"]
    by_name = {i.name: i for i in items}
    assert by_name["c1_2"].spec == str(other / "c1.mp4") and by_name["c1_2"].error is None
    url = by_name["cam_live"]
    assert "secret" not in url.label and "secret" not in url.error and "live stream" in url.error
    assert "secret" not in url.name
    assert "input not found" in by_name["missing"].error
    assert len(items) == len({i.spec for i in items})                   # c2 listed twice, kept once
    with pytest.raises(UserError, match="one file for 2 inputs"):
        detections_for("dets.txt", items[0], 2)
    assert detections_for(DETS, items[0], 2) == str(data / "clips" / "c1_det.txt")


def test_mot_sequence_and_image_folder_are_one_input(tmp_path):
    seq = tmp_path / "data" / "SEQ-01"
    (seq / "img1").mkdir(parents=True)
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=SEQ-01\nframeRate=25\nseqLength=1\n")
    (tmp_path / "data" / "a.mp4").write_bytes(b"")
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "000001.jpg").write_bytes(b"")
    items = expand_inputs([str(tmp_path / "data"), str(frames)])
    assert [(i.name, Path(i.spec).name) for i in items] == [("SEQ-01", "SEQ-01"), ("a", "a.mp4"),
                                                            ("frames", "frames")]


def test_a_failed_run_leaves_no_folder(data, tmp_path):
    item = BatchInput(str(data / "clips" / "corrupt.mp4"), "corrupt")
    r = track_one(item, tmp_path, load_config())
    assert r["status"] == "failed" and "cannot open video" in r["error"]
    assert list(tmp_path.iterdir()) == []
