"""tools/bench_gpu.py runs where no GPU is lent: argument checks and a CPU dry run of every batch size."""
from __future__ import annotations

import subprocess
import sys

from helpers import REPO, YOLO11N, needs_shared


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "tools" / "bench_gpu.py"), *args],
                          capture_output=True, text=True, timeout=300, cwd=REPO)


def test_bad_batch_is_rejected():
    proc = bench("--batches", "0", "--dry-run")
    assert proc.returncode == 2 and "--batches must be >= 1" in proc.stderr


@needs_shared
def test_dry_run_reports_a_row_per_batch_size():
    proc = bench("--dry-run", "--model", str(YOLO11N), "--batches", "1", "3")
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| torch |")]
    assert [row.split("|")[2].strip() for row in rows] == ["1", "3"], proc.stdout
    assert all(float(row.split("|")[3]) > 0 for row in rows)
