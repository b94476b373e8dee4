"""The driver of ``track batch``: a Ray runtime, one worker actor per slot, one task per input.

Ray starts (or joins) the runtime, places the actors on the cluster's CPUs/GPUs and detects dead
workers; this module only hands each free worker the next input (largest files first: the batch
ends with its last video) and retries an input whose worker died (killed, out of memory) on
another worker, up to ``RETRIES`` times. Inputs whose folder is complete are skipped (``--force``
redoes them). ``fleet.csv`` is rewritten after every finished input, ``fleet.json`` at the end.

    >>> parse_address("10.0.0.5:6379"), parse_address("ray://head:10001"), parse_address("auto")
    (('10.0.0.5', 6379), ('head', 10001), None)
"""
from __future__ import annotations

import csv
import fcntl
import json
import logging
import math
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..config import Config
from ..errors import UserError
from ..run import write_json_atomic
from .inputs import BatchInput, detections_for
from .worker import TMP_MARK, FleetProgress, VideoWorker, completed_row, row

log = logging.getLogger("tracker")

RETRIES = 2              # a video whose worker died is tried again on another worker this often
JOIN_TIMEOUT_S = 60.0    # joining a cluster that accepts the TCP connection but not this driver
FLEET_COLUMNS = ("source", "status", "frames", "fps", "tracks", "seconds", "error")


def import_ray():
    """Ray, or one clear line saying how to install it."""
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")   # read at import: no page of C++ retry warnings
    try:
        import ray
    except ImportError:
        raise UserError("track batch needs Ray: pip install 'tracker[batch]' (or pip install ray)") from None
    return ray


def parse_address(address: str) -> Optional[Tuple[str, int]]:
    """``HOST:PORT`` or ``ray://HOST:PORT`` → (host, port); ``auto`` (the cluster this machine is
    part of) → None."""
    if address == "auto":
        return None
    m = re.fullmatch(r"(?:ray://)?(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9][A-Za-z0-9.\-]*):(\d{1,5})", address.strip())
    if not m or not 0 < int(m.group(2)) < 65536:
        raise UserError(f"--ray-address must be HOST:PORT (what 'ray start --head' prints), "
                        f"ray://HOST:PORT or auto; got '{address}'")
    return m.group(1).strip("[]"), int(m.group(2))


def check_reachable(address: str, timeout_s: float = 3.0) -> None:
    """Fail in seconds, with one line, when nothing listens at the address (Ray itself retries
    for minutes)."""
    host_port = parse_address(address)
    if host_port is None:
        return
    try:
        socket.create_connection(host_port, timeout=timeout_s).close()
    except OSError as err:
        why = err.strerror or type(err).__name__.replace("Error", " error").lower() or str(err)
        raise UserError(f"cannot reach a Ray cluster at {address}: {why}; start one there with "
                        "'ray start --head', or leave out --ray-address to run on this machine") from None


@dataclass
class RayRuntime:
    address: str          # the GCS address of the cluster used
    local: bool           # started by this command (and stopped at its end)
    start_s: float        # seconds to start or join it
    cpus: float
    gpus: float


def start_ray(address: Optional[str], min_cpus: int = 0) -> RayRuntime:
    """Join the cluster at ``address``, or start a local runtime sized to this machine (with at
    least ``min_cpus`` CPU slots, so every requested worker can start)."""
    ray = import_ray()
    t0 = time.monotonic()
    common = dict(logging_level=logging.ERROR, log_to_driver=False, configure_logging=True)
    if address:
        check_reachable(address)
        # A cluster that refuses this driver (e.g. a token-authenticated head) makes Ray's C++ core
        # print a warning a second while it retries: those go to a scratch file, not the terminal,
        # and a watchdog ends a join that hangs.
        saved_stderr = os.dup(2)
        scratch = tempfile.TemporaryFile()
        os.dup2(scratch.fileno(), 2)
        watchdog = threading.Timer(JOIN_TIMEOUT_S, _join_timed_out, args=(address, saved_stderr))
        watchdog.daemon = True
        watchdog.start()
        try:
            ray.init(address=address, **common)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise UserError(f"cannot join the Ray cluster at {address}: {_first_line(err)}{_AUTH_HINT}") from None
        finally:
            watchdog.cancel()
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
            scratch.close()
    else:
        cpus = max(os.cpu_count() or 1, min_cpus)
        ray.init(num_cpus=cpus, include_dashboard=False, **common)
    resources = ray.cluster_resources()
    return RayRuntime(address=ray.get_runtime_context().gcs_address, local=not address,
                      start_s=time.monotonic() - t0, cpus=float(resources.get("CPU", 0)),
                      gpus=float(resources.get("GPU", 0)))


_AUTH_HINT = ("; if its head uses token authentication, set RAY_AUTH_MODE=token and give this machine "
              "its token (see the README)")


def _join_timed_out(address: str, stderr_fd: int) -> None:
    os.write(stderr_fd, f"error: the Ray cluster at {address} did not accept this driver within "
                        f"{JOIN_TIMEOUT_S:.0f} s{_AUTH_HINT}\n".encode())
    os._exit(2)


@dataclass
class FleetResult:
    rows: Dict[str, dict] = field(default_factory=dict)   # name -> fleet.csv row, in input order
    runtime: Optional[RayRuntime] = None
    workers: int = 0
    retries: int = 0
    process_s: float = 0.0
    first_frames_s: Optional[float] = None   # workers started to their first progress report (25 frames)

    def counts(self) -> Dict[str, int]:
        out = {"done": 0, "skipped": 0, "failed": 0}
        for r in self.rows.values():
            out[r["status"]] = out.get(r["status"], 0) + 1
        return out


def write_fleet_csv(out_root: Path, rows: List[dict]) -> None:
    """fleet.csv via a temporary file and a rename: readers never see half a table."""
    path = out_root / "fleet.csv"
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FLEET_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def write_fleet_json(out_root: Path, result: FleetResult, wall_s: float) -> dict:
    counts = result.counts()
    rows = list(result.rows.values())
    frames = sum(r["frames"] for r in rows if r["status"] == "done")
    rt = result.runtime
    data = {
        "engine": "ray",
        "ray_address": rt.address if rt else None,   # None: nothing to run, Ray was not started
        "ray_local": rt.local if rt else None,
        "ray_start_s": round(rt.start_s, 2) if rt else 0.0,
        "cluster_cpus": rt.cpus if rt else None,
        "cluster_gpus": rt.gpus if rt else None,
        "workers": result.workers,
        "inputs": len(rows),
        **counts,
        "retries": result.retries,
        "frames": frames,
        "first_frames_s": round(result.first_frames_s, 2) if result.first_frames_s is not None else None,
        "process_s": round(result.process_s, 2),
        "wall_s": round(wall_s, 2),
        "fleet_fps": round(frames / result.process_s, 2) if result.process_s > 0 else 0.0,
        "rows": rows,
    }
    write_json_atomic(out_root / "fleet.json", data)
    return data


def lock_output(out_root: Path):
    """One batch per output folder at a time (a second one would race for the same inputs)."""
    fh = open(out_root / ".batch.lock", "w")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise UserError(f"another track batch is writing to {out_root}; wait for it or use another --out") from None
    return fh


def remove_leftovers(out_root: Path) -> None:
    """Temporary folders of workers that were killed (``.<name>.tmp-<pid>``, ``.<name>.old-<pid>``)."""
    for p in out_root.iterdir():
        if p.name.startswith(".") and p.is_dir() and (TMP_MARK in p.name or ".old-" in p.name):
            shutil.rmtree(p, ignore_errors=True)


class _Bar:
    """A progress bar over inputs with the fleet's frames/s (a line per input without a terminal)."""

    def __init__(self, total: int, show: bool) -> None:
        self.total, self.n, self.bar = total, 0, None
        if show and total:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="video", file=sys.stderr, ncols=100, desc="batch")

    def rate(self, fps: float, failed: int) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{fps:.1f} frames/s fleet, {failed} failed")

    def finished(self, r: dict, quiet: bool) -> None:
        self.n += 1
        if self.bar is not None:
            self.bar.update(1)
        elif not quiet:
            what = f"{r['frames']} frames, {r['fps']} frames/s" if r["status"] == "done" else r["error"]
            log.info(f"[{self.n}/{self.total}] {r['name']}: {r['status']} ({what})")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_batch(items: List[BatchInput], out_root: Path, cfg: Config, detections: Optional[str] = None,
              workers: Optional[int] = None, address: Optional[str] = None, cpus_per_task: float = 1.0,
              gpus_per_task: float = 0.0, force: bool = False, show_bar: bool = False) -> FleetResult:
    """Track every input into ``out_root/<name>/``; returns the rows (also in fleet.csv/json)."""
    result = FleetResult()
    todo: List[BatchInput] = []
    for item in items:
        final = out_root / item.name
        if item.error:
            result.rows[item.name] = row(item, "failed", error=item.error)
        elif not force and (final / "summary.json").is_file():
            result.rows[item.name] = completed_row(item, final)
        else:
            result.rows[item.name] = {}   # keeps input order; filled when it finishes
            todo.append(item)
    dets = {item.name: detections_for(detections, item, len(items)) for item in todo}
    # largest files first: the batch ends with its last video, so the long ones should not start last
    todo.sort(key=_size, reverse=True)
    order = [item.name for item in items]

    def save_csv() -> None:
        write_fleet_csv(out_root, [result.rows[n] for n in order if result.rows[n]])

    save_csv()
    if not todo:
        return result
    # a local runtime gets a CPU slot for every requested worker, even beyond the core count
    min_cpus = math.ceil(min(workers or 1, len(todo)) * cpus_per_task)
    result.runtime = start_ray(address, min_cpus=min_cpus)
    ray = import_ray()
    try:
        _dispatch(ray, todo, dets, out_root, cfg, result, workers, cpus_per_task, gpus_per_task,
                  show_bar, save_csv)
    finally:
        ray.shutdown()   # a local runtime stops with it; on a cluster our actors are released
    return result


def _dispatch(ray, todo, dets, out_root, cfg, result, workers, cpus_per_task, gpus_per_task,
              show_bar, save_csv) -> None:
    rt = result.runtime
    capacity = int(rt.cpus // cpus_per_task)
    if capacity == 0:
        raise UserError(f"--cpus-per-task {cpus_per_task:g}: the Ray cluster has {rt.cpus:g} CPUs")
    if gpus_per_task > 0:
        capacity = min(capacity, int(rt.gpus // gpus_per_task))
        if capacity == 0:
            raise UserError(f"--gpus-per-task {gpus_per_task}: the Ray cluster has {rt.gpus:g} GPUs")
    n = min(workers or capacity, len(todo))
    if n > capacity:
        log.warning(f"--workers {n}: the cluster has room for {capacity} "
                    f"({rt.cpus:g} CPUs / {cpus_per_task:g} per task); starting {capacity}")
        n = capacity
    n = max(n, 1)
    result.workers = n
    remote_worker = ray.remote(VideoWorker).options(num_cpus=cpus_per_task, num_gpus=gpus_per_task,
                                                    max_restarts=0, max_task_retries=0)
    progress = ray.remote(FleetProgress).options(num_cpus=0).remote()

    def new_worker():
        return remote_worker.remote(cfg, str(out_root), progress)

    free = [new_worker() for _ in range(n)]
    pending = deque(todo)
    attempts: Dict[str, int] = {}
    running: Dict = {}
    bar = _Bar(len(todo), show_bar)
    started = time.monotonic()
    failed = sum(1 for r in result.rows.values() if r.get("status") == "failed")
    died = (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError,
            ray.exceptions.OutOfMemoryError, ray.exceptions.NodeDiedError)
    try:
        while pending or running:
            while free and pending:
                worker, item = free.pop(), pending.popleft()
                running[worker.track.remote(item, dets[item.name])] = (worker, item)
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            for ref in ready:
                worker, item = running.pop(ref)
                try:
                    r = ray.get(ref)
                    free.append(worker)
                except died as err:
                    # the worker process is gone: a fresh one takes its place, the video goes
                    # to the front of the queue for the next free worker
                    free.insert(0, new_worker())
                    attempts[item.name] = attempts.get(item.name, 0) + 1
                    reason = _first_line(err)
                    if attempts[item.name] <= RETRIES:
                        result.retries += 1
                        log.warning(f"{item.name}: its worker died ({reason}); retrying on another worker")
                        pending.appendleft(item)
                        continue
                    r = row(item, "failed", error=f"its worker died {attempts[item.name]} times "
                                                  f"(killed or out of memory): {reason}")
                except ray.exceptions.RayTaskError as err:   # a bug in track_one itself
                    free.append(worker)
                    r = row(item, "failed", error=_first_line(err))
                result.rows[item.name] = r
                failed += r["status"] == "failed"
                save_csv()
                bar.finished(r, cfg.quiet)
            elapsed = time.monotonic() - started
            try:
                frames = ray.get(progress.total.remote(), timeout=2.0)
                bar.rate(frames / elapsed if elapsed > 0 else 0.0, failed)
                if frames and result.first_frames_s is None:
                    result.first_frames_s = elapsed   # workers started, detector loaded, first frames done
            except ray.exceptions.GetTimeoutError:
                pass
    finally:
        result.process_s = time.monotonic() - started
        bar.close()


def _size(item: BatchInput) -> int:
    try:
        return os.path.getsize(item.spec) if os.path.isfile(item.spec) else 0
    except OSError:
        return 0


def _first_line(err: BaseException) -> str:
    lines = [l.strip() for l in str(err).splitlines() if l.strip()]
    return lines[0][:300] if lines else type(err).__name__
