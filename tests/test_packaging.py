"""A real non-editable ``pip install`` ships the YAMLs of ``configs/`` (issue 15, item 14).

The source is copied to a temporary folder (building in the checkout would leave build/ and
egg-info there), installed with pip into a ``--target`` folder, and used from there with nothing
of the checkout on the path: the config folder is the package's copy, ``track --print-config``
works, and every YAML of the checkout's ``configs/`` is in it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from helpers import REPO


def _copy_source(dst):
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "configs")  # tracker/configs: stale copies
    shutil.copytree(REPO / "tracker", dst / "tracker", ignore=ignore)
    shutil.copytree(REPO / "configs", dst / "configs")
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(REPO / name, dst / name)


def test_non_editable_install_ships_the_configs(tmp_path):
    src, site = tmp_path / "src", tmp_path / "site"
    _copy_source(src)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(src)], check=True, capture_output=True, timeout=120)
    assert not (site / "configs").exists(), "the YAMLs belong inside the package, not at site level"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    shutil.rmtree(src)   # nothing of a checkout is left to fall back on

    def python(*args):
        proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    where = python("-c", "import tracker, tracker.config as c, tracker.trackers.registry as r; "
                         "print(tracker.__file__); print(c.DEFAULT_CONFIG); print(r.CONFIG_DIR)").split()
    assert all(w.startswith(str(site / "tracker")) for w in where), where
    shipped = sorted(p.relative_to(site / "tracker" / "configs").as_posix()
                     for p in (site / "tracker" / "configs").rglob("*.yaml"))
    assert shipped == sorted(p.relative_to(REPO / "configs").as_posix() for p in (REPO / "configs").rglob("*.yaml"))

    botsort = python("-m", "tracker.cli", "--print-config", "botsort")
    assert botsort.splitlines()[1:] == (REPO / "configs" / "trackers" / "botsort.yaml").read_text().splitlines()
    effective = python("-m", "tracker.cli", "--print-config", "--set", "tracker.track_buffer=77")
    assert "track_buffer: 77" in effective and str(site / "tracker" / "configs") in effective
