"""Soak test: run ``track`` on a live RTSP stream for a long time and watch its memory.

Starts the project's test RTSP server (GStreamer, ``tests/rtsp_server.py``) on 127.0.0.1, runs
``python -m tracker.cli rtsp://... --detections <synthetic det file>`` (precomputed detections
keep it cheap: the soak is about streams, queues, tracker and writers, not the network), samples
the resident memory (RSS) of the ``track`` process every few seconds, optionally restarts the
server now and then (reconnects must not leak either), and finally stops ``track`` with SIGTERM.

Pass/fail: RSS at the end may exceed RSS after the warm-up (default: the first minute) by less
than ``--max-growth`` percent (default 5), ``track`` must exit 0 and must have written rows from
the whole run.

Examples:
    python tools/soak_stream.py --minutes 20                      # the benchmark in docs/benchmarks.md
    python tools/soak_stream.py --seconds 30 --warmup-s 10        # the short CI variant
    python tools/soak_stream.py --minutes 20 --restart-every 300  # + a camera reboot every 5 min

Prints one JSON object (also written to ``--json``) with the RSS samples summary and the run's
stream statistics; exit code 0 on pass, 1 on fail.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from rtsp_server import RtspServer, free_port, gst_rtsp_unavailable_reason  # noqa: E402


def write_det_file(path: Path, frames: int, boxes: int = 5) -> None:
    """Synthetic MOTChallenge detections: ``boxes`` boxes swaying in every frame."""
    with open(path, "w") as f:
        for i in range(1, frames + 1):
            for b in range(boxes):
                x = 20 + 55 * b + 10 * math.sin(i / 15 + b)
                y = 40 + 30 * (b % 3) + 5 * math.cos(i / 20 + b)
                f.write(f"{i},-1,{x:.1f},{y:.1f},30,60,0.9,-1,-1,-1\n")


def count_rows(csv_path: Path) -> int:
    if not csv_path.exists():
        return 0
    with open(csv_path, newline="") as f:
        return max(sum(1 for _ in csv.reader(f)) - 1, 0)


def soak(duration_s: float, warmup_s: float, fps: int, restart_every_s: Optional[float],
         out_dir: Path, sample_every_s: float, extra_args: List[str]) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    det_file = out_dir / "det.txt"
    # frame indexes count every decoded frame; leave room for start-up bursts
    write_det_file(det_file, frames=int((duration_s + 60) * fps * 1.2))
    server = RtspServer(free_port(), fps=fps, user="soak", password="soak-secret",
                        log_path=str(out_dir / "rtsp_server.log")).start()
    run_dir = out_dir / "run"
    cmd = [sys.executable, "-m", "tracker.cli", server.url, "--detections", str(det_file),
           "--out", str(run_dir), "--quiet", "--tracker", "bytetrack",
           "--set", "stream.reconnect_max=0", *extra_args]
    samples: List[tuple] = []  # (seconds since start, rss MiB)
    restarts = 0
    stderr_path = out_dir / "track_stderr.txt"
    with open(stderr_path, "w") as stderr:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=stderr, stderr=stderr)
        ps = psutil.Process(proc.pid)
        start = time.monotonic()
        next_restart = start + restart_every_s if restart_every_s else math.inf
        try:
            while (now := time.monotonic()) - start < duration_s:
                if proc.poll() is not None:
                    raise RuntimeError(f"track exited early ({proc.returncode}); see {stderr_path}")
                samples.append((round(now - start, 1), ps.memory_info().rss / 2**20))
                if now >= next_restart:
                    server.restart()
                    restarts += 1
                    next_restart += restart_every_s
                time.sleep(sample_every_s)
            rows_before_stop = count_rows(run_dir / "tracks.csv")
            proc.send_signal(signal.SIGTERM)
            returncode = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
            server.stop()
    after_warmup = [rss for t, rss in samples if t >= warmup_s]
    if not after_warmup:
        raise RuntimeError("no RSS sample after the warm-up: make the run longer than --warmup-s")
    baseline, final = after_warmup[0], after_warmup[-1]
    # a straight-line fit over the samples after the warm-up: a leak shows as a steady slope
    # even when the end-to-end growth is small
    fit = [(t, rss) for t, rss in samples if t >= warmup_s]
    slope_mib_per_h = 0.0
    if len(fit) > 2:
        mean_t = sum(t for t, _ in fit) / len(fit)
        mean_r = sum(r for _, r in fit) / len(fit)
        var_t = sum((t - mean_t) ** 2 for t, _ in fit)
        if var_t > 0:
            slope_mib_per_h = 3600 * sum((t - mean_t) * (r - mean_r) for t, r in fit) / var_t
    tenths = [round(fit[min(len(fit) - 1, round(k * (len(fit) - 1) / 10))][1], 1) for k in range(11)]
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    return {
        "duration_s": duration_s,
        "warmup_s": warmup_s,
        "stream_fps": fps,
        "server_restarts": restarts,
        "returncode": returncode,
        "rss_mib_start": round(samples[0][1], 1),
        "rss_mib_after_warmup": round(baseline, 1),
        "rss_mib_end": round(final, 1),
        "rss_mib_max_after_warmup": round(max(after_warmup), 1),
        "rss_growth_pct": round(100.0 * (final - baseline) / baseline, 2),
        "rss_slope_mib_per_hour": round(slope_mib_per_h, 2),
        "rss_mib_at_tenths_after_warmup": tenths,
        "csv_rows": rows_before_stop,
        "frames": summary.get("frames"),
        "processing_fps": summary.get("processing_fps"),
        "stream": summary.get("stream"),
        "command": " ".join(cmd).replace("soak-secret", "***"),
        "rss_samples": [(t, round(rss, 2)) for t, rss in samples],
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="run length in minutes (default 20)")
    length.add_argument("--seconds", type=float, help="run length in seconds")
    parser.add_argument("--warmup-s", type=float, default=60.0,
                        help="RSS growth is measured from this time on (default 60)")
    parser.add_argument("--fps", type=int, default=15, help="frame rate of the served stream")
    parser.add_argument("--restart-every", type=float, metavar="S",
                        help="restart the RTSP server every S seconds (camera reboots)")
    parser.add_argument("--max-growth", type=float, default=5.0, help="allowed RSS growth, percent")
    parser.add_argument("--sample-every", type=float, default=2.0, help="RSS sampling period, s")
    parser.add_argument("--out", type=Path, help="work folder (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("track_args", nargs="*", help="extra arguments for track (after --)")
    args = parser.parse_args(argv)

    reason = gst_rtsp_unavailable_reason()
    if reason:
        print(f"soak_stream: {reason}", file=sys.stderr)
        return 2
    duration = args.seconds if args.seconds else 60.0 * (args.minutes or 20.0)
    out = args.out or Path(tempfile.mkdtemp(prefix="soak_stream_"))
    result = soak(duration, args.warmup_s, args.fps, args.restart_every, out, args.sample_every,
                  args.track_args)
    result["max_growth_pct"] = args.max_growth
    result["passed"] = (result["returncode"] == 0 and result["rss_growth_pct"] < args.max_growth
                        and result["csv_rows"] > 0)
    samples = result.pop("rss_samples")
    print(json.dumps(result, indent=2))
    if args.json:  # the file also keeps every (seconds, RSS MiB) sample
        args.json.write_text(json.dumps({**result, "rss_samples": samples}, indent=1) + "\n")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
