#!/usr/bin/env python
"""End-to-end speed and memory: our `track` vs ultralytics `yolo track`, same model, same video.

Rows, run as subprocesses in one alternating loop (each round runs every row once) so that load on
the shared machine affects all alike:

* ``track`` — ours, default runtime (``auto``: OpenVINO on x86 CPUs), H.264 video, CSV, MOT;
* ``track --no-video`` — the same without the video: the cost of drawing + H.264 encoding;
* ``yolo track`` — ultralytics on the ``.pt`` model (torch), ``save=True``;
* ``yolo track`` OpenVINO — ultralytics on the same model exported by ``yolo export
  format=openvino`` (its default 640x640 input, as a user would do it), ``save=True``.

For each run: wall time (process start to exit, model loading included for all), frames/s =
frames / wall time, and the peak resident memory of the process tree (sampled every 20 ms with
psutil). Before the rounds, both exports are timed from an empty cache (first-run cost, reported
separately); the rounds then use the cached exports.

Usage:
    python tools/bench_pipeline.py ../shared/videos/people_walking.mp4 \
        --model ../shared/models/yolo11n.pt --rounds 2 [--markdown docs/benchmarks.md]
    (--no-openvino-peer: skip the OpenVINO peer, e.g. on a machine without openvino)
    python tools/bench_pipeline.py --import-costs   # peak RSS of a fresh interpreter per library

Soak (``--soak [N]``, default 100,000 frames): no video and no subprocess. N frames of synthetic
precomputed detections (a few dozen moving boxes, objects entering and leaving, misses and jitter,
so tracks are born, lost and removed all the time) go through the default tracker and the real
CSV and MOT writers, in this process. Resident memory (sampled every 100 frames) and per-frame time
(tracker update + writing: CPU time of the thread and wall time) of the first and last 10% of the
run are compared; targets: memory growth < 5%, per-frame time growth < 10%. On a shared machine
other jobs only ever add time, so the time target uses the median CPU time of the quietest
1,000-frame block of each 10% (means and wall times are reported too):

    python tools/bench_pipeline.py --soak 100000 [--soak-objects 30] [--tracker botsort]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import psutil

BIN = Path(sys.executable).parent
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout without installing


class SyntheticScene:
    """Moving boxes in a 1280x720 frame: objects walk in straight lines with jitter, are missed now and
    then, and leave; each one that leaves is replaced by a new object entering from an edge."""

    def __init__(self, n_objects: int = 30, seed: int = 0, width: int = 1280, height: int = 720,
                 warmup: int = 1000) -> None:
        import numpy as np

        self.np = np
        self.rng = np.random.default_rng(seed)
        self.w, self.h = width, height
        self.n = n_objects
        self.pos = np.zeros((n_objects, 2))
        self.size = np.zeros((n_objects, 2))
        self.vel = np.zeros((n_objects, 2))
        self.entered = 0
        self._respawn(np.arange(n_objects))
        for _ in range(warmup):   # start in the steady state: objects spread over the frame, coming and going
            self._move()
        self.entered = 0          # objects that entered after the start (each is a new track)

    def _respawn(self, idx) -> None:
        np, rng = self.np, self.rng
        k = len(idx)
        side = rng.integers(0, 4, k)
        x = np.where(side == 0, 0.0, np.where(side == 1, self.w, rng.uniform(0, self.w, k)))
        y = np.where(side == 2, 0.0, np.where(side == 3, self.h, rng.uniform(0, self.h, k)))
        self.pos[idx] = np.stack([x, y], 1)
        target = rng.uniform([0.1 * self.w, 0.1 * self.h], [0.9 * self.w, 0.9 * self.h], (k, 2))
        toward = target - self.pos[idx]
        speed = rng.uniform(1, 6, (k, 1))
        self.vel[idx] = toward / np.maximum(np.linalg.norm(toward, axis=1, keepdims=True), 1) * speed
        self.size[idx] = rng.uniform([20, 50], [80, 200], (k, 2))
        self.entered += k

    def _move(self) -> None:
        np = self.np
        self.pos += self.vel
        gone = np.flatnonzero((self.pos[:, 0] < -100) | (self.pos[:, 0] > self.w + 100)
                              | (self.pos[:, 1] < -100) | (self.pos[:, 1] > self.h + 100))
        if len(gone):
            self._respawn(gone)

    def step(self):
        """The next frame's Detections."""
        from tracker.types import Detections

        np, rng = self.np, self.rng
        self._move()
        seen = rng.random(self.n) > 0.05                       # 5% misses
        pos = self.pos[seen] + rng.normal(0, 1.5, (int(seen.sum()), 2))
        wh = self.size[seen] * rng.uniform(0.95, 1.05, (int(seen.sum()), 1))
        xyxy = np.concatenate([pos - wh / 2, pos + wh / 2], 1)
        xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, self.w)
        xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, self.h)
        ok = (xyxy[:, 2] - xyxy[:, 0] > 2) & (xyxy[:, 3] - xyxy[:, 1] > 2)
        xyxy = xyxy[ok]
        score = rng.uniform(0.3, 1.0, len(xyxy))
        return Detections(xyxy, score, np.zeros(len(xyxy), np.int64))


def soak(frames: int = 100_000, n_objects: int = 30, tracker: str = None, out_dir=None, seed: int = 0,
         rss_every: int = 100, progress: bool = False) -> dict:
    """Run ``frames`` synthetic frames through a tracker and the CSV/MOT writers; return measurements.

    Returns a dict with per-frame times (ms) and RSS (MiB) of the first and last 10% of the run and
    their growth in percent, plus counts (ids issued, rows written, live tracks at the end).
    """
    import numpy as np

    from tracker.sinks import CsvSink, MotSink
    from tracker.trackers import DEFAULT_TRACKER, make_tracker
    from tracker.types import Frame

    name = tracker or DEFAULT_TRACKER
    proc = psutil.Process()
    own_dir = out_dir is None
    out = Path(tempfile.mkdtemp(prefix="soak_")) if own_dir else Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scene = SyntheticScene(n_objects, seed)
    trk = make_tracker(name, frame_rate=30.0)
    sinks = [CsvSink(out / "tracks.csv", {0: "person"}), MotSink(out / "tracks.txt")]
    image = np.zeros((1, 1, 3), np.uint8)        # the writers never look at pixels
    frame_ms = np.full(frames, 0.0)   # wall clock per frame (np.full touches the pages now: RSS must
                                      # not grow later just because the array is being filled in)
    cpu_ms = np.full(frames, 0.0)     # CPU time of this thread per frame
    rss_at, rss_mib = [], []
    rows = 0
    max_live = 0
    clock, cpu_clock = time.perf_counter, time.thread_time
    try:
        for i in range(frames):
            dets = scene.step()
            t0, c0 = clock(), cpu_clock()
            tracks = trk.update(dets, None)
            frame = Frame(i, i / 30.0, image)
            for sink in sinks:
                sink.write(frame, tracks)
            frame_ms[i] = (clock() - t0) * 1000
            cpu_ms[i] = (cpu_clock() - c0) * 1000
            rows += len(tracks)
            if i % rss_every == 0 or i == frames - 1:
                rss_at.append(i)
                rss_mib.append(proc.memory_info().rss / 2**20)
                max_live = max(max_live, len(getattr(trk, "tracks", ())))
                if progress and i % (rss_every * 100) == 0:
                    print(f"  frame {i:>7d}  {frame_ms[max(0, i - 1000):i + 1].mean():6.3f} ms/frame wall  "
                          f"{cpu_ms[max(0, i - 1000):i + 1].mean():6.3f} ms CPU  "
                          f"RSS {rss_mib[-1]:7.1f} MiB", flush=True)
    finally:
        for sink in sinks:
            sink.close()
        sizes = {p.name: p.stat().st_size for p in (out / "tracks.csv", out / "tracks.txt")}
        if own_dir:
            shutil.rmtree(out, ignore_errors=True)
    tenth = max(1, frames // 10)
    rss_at, rss_mib = np.asarray(rss_at), np.asarray(rss_mib)
    first_rss = rss_mib[rss_at < tenth].mean()
    last_rss = rss_mib[rss_at >= frames - tenth].mean()
    first_t, last_t = frame_ms[:tenth], frame_ms[-tenth:]
    first_c, last_c = cpu_ms[:tenth], cpu_ms[-tenth:]

    def quietest(x, block=max(1, min(1000, tenth // 5))):
        """Median of the least disturbed block: other jobs on a shared machine only ever add time."""
        n = len(x) // block * block
        return float(np.median(x[:n].reshape(-1, block), axis=1).min()) if n else float(np.median(x))

    return {
        "frames": frames, "objects": n_objects, "tracker": name,
        "cpu_ms_first_mean": float(first_c.mean()), "cpu_ms_last_mean": float(last_c.mean()),
        "cpu_ms_first_median": float(np.median(first_c)), "cpu_ms_last_median": float(np.median(last_c)),
        "cpu_growth_mean_pct": float(100 * (last_c.mean() / first_c.mean() - 1)),
        "cpu_ms_first_quiet": quietest(first_c), "cpu_ms_last_quiet": quietest(last_c),
        "cpu_growth_pct": float(100 * (quietest(last_c) / quietest(first_c) - 1)),
        "ms_first_median": float(np.median(first_t)), "ms_last_median": float(np.median(last_t)),
        "ms_first_mean": float(first_t.mean()), "ms_last_mean": float(last_t.mean()),
        "time_growth_pct": float(100 * (np.median(last_t) / np.median(first_t) - 1)),
        "time_growth_mean_pct": float(100 * (last_t.mean() / first_t.mean() - 1)),
        "rss_first_mib": float(first_rss), "rss_last_mib": float(last_rss),
        "rss_growth_pct": float(100 * (last_rss / first_rss - 1)), "rss_max_mib": float(rss_mib.max()),
        "ids_issued": int(getattr(trk, "next_id", 1) - 1), "objects_entered": scene.entered,
        "rows_written": rows, "max_live_tracks": max_live, "file_bytes": sizes,
        "total_s": float(frame_ms.sum() / 1000), "total_cpu_s": float(cpu_ms.sum() / 1000),
    }


def soak_report(r: dict, command: str) -> str:
    ok_mem = r["rss_growth_pct"] < 5
    ok_time = r["cpu_growth_pct"] < 10
    return "\n".join([
        f"Command: `{command}`",
        "",
        f"{r['frames']:,} frames, {r['objects']} objects in view (5% misses, replaced when they leave: "
        f"{r['objects_entered']:,} entered, {r['ids_issued']:,} track ids issued), tracker `{r['tracker']}`, "
        f"CSV + MOT writers ({r['rows_written']:,} rows, "
        f"{sum(r['file_bytes'].values()) / 2**20:.0f} MiB written), no video; "
        f"{r['total_s']:.0f} s wall / {r['total_cpu_s']:.0f} s CPU of tracking + writing.",
        "",
        "| | first 10% | last 10% | growth | target |",
        "|---|---:|---:|---:|---|",
        f"| per-frame CPU time, median of the quietest block (ms) | {r['cpu_ms_first_quiet']:.3f} | "
        f"{r['cpu_ms_last_quiet']:.3f} | {r['cpu_growth_pct']:+.1f}% | < 10% {'✓' if ok_time else '✗'} |",
        f"| per-frame CPU time, mean (ms) | {r['cpu_ms_first_mean']:.3f} | {r['cpu_ms_last_mean']:.3f} | "
        f"{r['cpu_growth_mean_pct']:+.1f}% | |",
        f"| per-frame CPU time, median (ms) | {r['cpu_ms_first_median']:.3f} | {r['cpu_ms_last_median']:.3f} | "
        f"{100 * (r['cpu_ms_last_median'] / r['cpu_ms_first_median'] - 1):+.1f}% | |",
        f"| per-frame wall time, median (ms) | {r['ms_first_median']:.3f} | {r['ms_last_median']:.3f} | "
        f"{r['time_growth_pct']:+.1f}% | (wall time includes waiting for the 2 shared cores) |",
        f"| per-frame wall time, mean (ms) | {r['ms_first_mean']:.3f} | {r['ms_last_mean']:.3f} | "
        f"{r['time_growth_mean_pct']:+.1f}% | |",
        f"| resident memory, mean (MiB) | {r['rss_first_mib']:.1f} | {r['rss_last_mib']:.1f} | "
        f"{r['rss_growth_pct']:+.2f}% | < 5% {'✓' if ok_mem else '✗'} |",
        "",
        f"Largest track table seen: {r['max_live_tracks']} rows (live + lost tracks); peak RSS "
        f"{r['rss_max_mib']:.1f} MiB.",
        "",
    ])


IMPORTS = ["numpy", "cv2", "av", "openvino", "scipy.optimize", "filterpy.kalman", "tracker.cli",
           "tracker.detectors.openvino_yolo", "torch", "ultralytics"]


def import_costs(modules=IMPORTS) -> str:
    """Peak resident memory of a fresh interpreter that imports one module (and what it pulls in),
    as a Markdown table: what each library costs a process before it does any work. (VmHWM, Linux:
    ru_maxrss would include the memory of this process, which the child is forked from.)"""
    lines = ["| import | peak RSS of a fresh interpreter (MiB) |", "|---|---:|"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")])))
    for name in ["(nothing)"] + list(modules):
        code = ("" if name == "(nothing)" else f"import {name}\n") + \
            "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        value = f"{int(out.stdout.split()[-1]) / 1024:.0f}" if out.returncode == 0 else "not installed"
        lines.append(f"| `{name}` | {value} |")
    return "\n".join(lines)


def run_measured(cmd, env) -> tuple:
    """Run ``cmd``; return (wall seconds, peak RSS of the process tree in MiB, return code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            rss = root.memory_info().rss + sum(c.memory_info().rss for c in root.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        print(f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{err[-2000:]}", file=sys.stderr)
    run_measured.stderr = err   # the last run's stderr (export time lines)
    return wall, peak / 2**20, proc.returncode


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("video", nargs="?", help="video for the track vs yolo track comparison")
    p.add_argument("--soak", type=int, nargs="?", const=100_000, metavar="N",
                   help="soak test: N frames (default 100000) of synthetic detections through the tracker "
                        "and the CSV/MOT writers; reports memory and per-frame time, first vs last 10%%")
    p.add_argument("--soak-objects", type=int, default=30, help="objects in view during the soak")
    p.add_argument("--model", default="yolo11n.pt")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--tracker", default=None, help="our tracker (default: the configured default)")
    p.add_argument("--peer-tracker", default="botsort.yaml",
                   help="ultralytics tracker YAML (botsort.yaml is `yolo track`'s default)")
    p.add_argument("--ours-args", default="", help="extra arguments for `track`, e.g. '--batch 4'")
    p.add_argument("--markdown", help="append the result table to this Markdown file")
    p.add_argument("--no-openvino-peer", dest="openvino_peer", action="store_false",
                   help="skip the `yolo track` row on the model exported to OpenVINO")
    p.add_argument("--import-costs", action="store_true",
                   help="only print the peak memory of a fresh interpreter per imported library")
    a = p.parse_args(argv)
    if a.import_costs:
        print(import_costs())
        return 0
    if a.soak:
        cmd_line = "python tools/bench_pipeline.py " + " ".join(argv if argv is not None else sys.argv[1:])
        print(f"soak: {a.soak} frames, {a.soak_objects} objects", flush=True)
        result = soak(a.soak, a.soak_objects, a.tracker, progress=True)
        report = soak_report(result, cmd_line)
        print(report)
        if a.markdown:
            with open(a.markdown, "a") as fh:
                fh.write(report + "\n")
        ok = result["rss_growth_pct"] < 5 and result["cpu_growth_pct"] < 10
        return 0 if ok else 1
    if not a.video:
        p.error("give a video (or --soak)")

    cap = cv2.VideoCapture(a.video)
    frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    work = Path(tempfile.mkdtemp(prefix="bench_pipeline_"))
    # a fresh export cache: the first `track` run below pays (and reports) the export
    env = dict(os.environ, YOLO_VERBOSE="False", TRACKER_CACHE_DIR=str(work / "cache"))
    ours_cmd = [str(BIN / "track"), a.video, "--model", a.model, "--out", str(work / "ours")]
    if a.tracker:
        ours_cmd += ["--tracker", a.tracker]
    ours_cmd += a.ours_args.split()
    # a copy of the weights: `yolo export` writes next to them (the shared folder is read-only)
    peer_weights = work / Path(a.model).name
    shutil.copyfile(a.model, peer_weights)

    def peer_cmd(model, name):
        return [str(BIN / "yolo"), "track", f"model={model}", f"source={a.video}", "save=True",
                f"tracker={a.peer_tracker}", f"project={work}", f"name={name}", "exist_ok=True",
                "verbose=False"]

    rows = {"track": ours_cmd + ["--quiet"], "track --no-video": ours_cmd + ["--quiet", "--no-video"],
            "yolo track": peer_cmd(peer_weights, "peer")}
    export = {}
    wall, _, rc = run_measured(ours_cmd + ["--max-frames", "1", "--no-video"], env)
    match = re.search(r"exported in ([0-9.]+) s", run_measured.stderr)
    export["track"] = (float(match.group(1)) if match else None, wall)
    if rc != 0:
        return 1
    if a.openvino_peer:
        start = time.perf_counter()
        rc = subprocess.run([str(BIN / "yolo"), "export", f"model={peer_weights}", "format=openvino"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env).returncode
        export["yolo track OpenVINO"] = (time.perf_counter() - start, None)
        if rc != 0:
            print("yolo export format=openvino failed", file=sys.stderr)
            return 1
        rows["yolo track OpenVINO"] = peer_cmd(work / f"{peer_weights.stem}_openvino_model", "peer_ov")
    results = {name: [] for name in rows}
    for r in range(a.rounds):
        for name, cmd in rows.items():
            for folder in ("ours", "peer", "peer_ov"):
                shutil.rmtree(work / folder, ignore_errors=True)
            wall, peak, rc = run_measured(cmd, env)
            if rc != 0:
                return 1
            results[name].append((wall, peak))
            print(f"round {r + 1} {name:20s}: {wall:7.1f} s  {frames / wall:6.2f} fps  peak {peak:7.0f} MiB",
                  flush=True)
    shutil.rmtree(work, ignore_errors=True)

    def fps(name):
        return statistics.median(frames / w for w, _ in results[name])

    def peak(name):
        return max(m for _, m in results[name])

    labels = {"track": "`track` (ours, runtime auto, H.264 video)",
              "track --no-video": "`track --no-video` (ours, no video: encoding cost)",
              "yolo track": "`yolo track` (ultralytics, torch, save=True)",
              "yolo track OpenVINO": "`yolo track` (ultralytics, same model exported to OpenVINO, save=True)"}
    cmd_line = "python tools/bench_pipeline.py " + " ".join(argv if argv is not None else sys.argv[1:])
    table = [
        f"Command: `{cmd_line}` ({frames} frames, {a.rounds} alternating rounds, median fps, max peak RSS)",
        "",
        "| pipeline | frames/s | peak memory (MiB) | ours / this (fps) | ours / this (memory) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in rows:
        table.append(f"| {labels[name]} | {fps(name):.2f} | {peak(name):.0f} | "
                     f"{fps('track') / fps(name):.2f}x | {peak('track') / peak(name):.2f}x |")
    ours_export, ours_first = export["track"]
    table += ["", "First-run export (an empty cache; later runs reuse it): "
              f"`track` {ours_export if ours_export is None else round(ours_export, 1)} s "
              f"(its whole first 1-frame run: {ours_first:.1f} s)"
              + (f", `yolo export format=openvino` {export['yolo track OpenVINO'][0]:.1f} s"
                 if "yolo track OpenVINO" in export else "") + ".", ""]
    print("\n".join(table))
    if a.markdown:
        with open(a.markdown, "a") as fh:
            fh.write("\n".join(table) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
