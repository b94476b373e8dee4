"""The README's test command sets up what the tests need, so "skipped" never hides a broken path.

``tools/install_test_deps.sh`` is run with stub ``dpkg-query``/``id``/``apt-get``/``useradd``/``getent``
on the PATH (nothing is installed for real): it installs only what is missing, as root; without
root it prints the one command that does and fails, so ``make test`` stops before the tests.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "install_test_deps.sh"


def stub_bin(folder: Path, installed: set, uid: int, user_exists: bool) -> Path:
    """A PATH folder whose dpkg-query/id/getent answer as told and whose apt-get/useradd log calls."""
    folder.mkdir()
    calls = folder / "calls.log"
    stubs = {
        "dpkg-query": 'for p in ' + " ".join(sorted(installed)) + '; do [ "$p" = "${@: -1}" ] && '
                      'printf "install ok installed" && exit 0; done; exit 1',
        "id": f"echo {uid}",
        "getent": "exit 0" if user_exists else "exit 2",
        "apt-get": f'echo "apt-get $*" >> {calls}',
        "useradd": f'echo "useradd $*" >> {calls}',
    }
    for name, body in stubs.items():
        path = folder / name
        path.write_text("#!/usr/bin/env bash\n" + body + "\n")
        path.chmod(0o755)
    return folder


def run_script(bin_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=60)


def packages() -> list:
    text = SCRIPT.read_text()
    block = text.split("PACKAGES=(", 1)[1].split(")", 1)[0]
    return block.split()


def test_everything_present_is_a_no_op(tmp_path):
    bin_dir = stub_bin(tmp_path / "bin", set(packages()), uid=1000, user_exists=True)
    proc = run_script(bin_dir)
    assert proc.returncode == 0 and not (bin_dir / "calls.log").exists(), proc.stderr


def test_as_root_installs_only_what_is_missing(tmp_path):
    present = set(packages()) - {"vlc-bin", "chromium"}
    bin_dir = stub_bin(tmp_path / "bin", present, uid=0, user_exists=False)
    proc = run_script(bin_dir)
    assert proc.returncode == 0, proc.stderr
    calls = (bin_dir / "calls.log").read_text().splitlines()
    assert calls[0].startswith("apt-get update")
    install = calls[1].split()
    assert install[:2] == ["apt-get", "install"] and sorted(install[-2:]) == ["chromium", "vlc-bin"]
    assert calls[2].startswith("useradd") and calls[2].endswith("rtsptest")


def test_without_root_it_prints_the_one_command_and_fails(tmp_path):
    bin_dir = stub_bin(tmp_path / "bin", set(packages()) - {"gstreamer1.0-rtsp"}, uid=1000, user_exists=True)
    proc = run_script(bin_dir)
    assert proc.returncode == 1 and not (bin_dir / "calls.log").exists()
    assert "gstreamer1.0-rtsp" in proc.stderr and "sudo bash tools/install_test_deps.sh" in proc.stderr


def test_make_test_sets_up_before_the_tests_and_ci_only_calls_it():
    dry = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    setup = next(i for i, l in enumerate(lines) if "tools/install_test_deps.sh" in l)
    tests = next(i for i, l in enumerate(lines) if "pytest" in l)
    assert setup < tests
    ci = [l for l in (ROOT / ".ci" / "run").read_text().splitlines() if l and not l.startswith("#")]
    assert ci[-1] == "make test" and not any("install" in l for l in ci)
    # the second RTSP server comes with the dev extra, PyAV (which it needs) with the package itself
    pyproject = (ROOT / "pyproject.toml").read_text()
    main, extras = pyproject.split("dependencies = [", 1)[1].split("[project.optional-dependencies]", 1)
    dev = extras.split("dev = [", 1)[1].split("]", 1)[0]
    assert "aio-rtsp-toolkit" in dev and '"av' in main.split("]", 1)[0]


def test_this_machine_is_set_up():
    """On a machine where `make test` ran, nothing the tests need is missing."""
    proc = subprocess.run(["bash", str(SCRIPT), "--check"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
