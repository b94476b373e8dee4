"""tools/train_reid.py: a few CPU steps on MOT17-mini write weights the embedders load."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from helpers import MODELS, MOT17_MINI, REPO, needs_shared
from tracker.reid import load_embedder


def _train(tmp_path, *extra):
    env = {**os.environ, "TRACKER_WEIGHTS_DIR": str(MODELS), "OMP_NUM_THREADS": "1"}
    out = tmp_path / "reid.pth"
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "train_reid.py"), str(MOT17_MINI),
                           "--steps", "3", "--ids-per-batch", "4", "--instances", "2",
                           "--max-per-id", "4", "--out", str(out), "--log-every", "1", *extra],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


@needs_shared
def test_finetune_osnet_writes_loadable_weights_and_report(tmp_path):
    out, stdout = _train(tmp_path, "--init", "osnet_x0_25_msmt17")
    assert "step 3/3 loss" in stdout and "rank-1" in stdout and "mAP" in stdout
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["arch"] == "osnet_x0_25" and report["steps"] == 3
    for key in ("rank1", "mAP"):
        assert 0.0 <= report["after"][key] <= 1.0 and report["after"]["queries"] > 0
    emb = load_embedder(str(out))
    feat = emb.embed(np.zeros((300, 200, 3), np.uint8), np.array([[10, 10, 60, 150]]))
    assert feat.shape == (1, 512) and np.isclose(np.linalg.norm(feat), 1.0)


@needs_shared
def test_train_from_scratch_torchvision_backbone(tmp_path):
    out, _ = _train(tmp_path, "--init", "resnet18", "--test-fraction", "0.1")
    assert load_embedder(str(out)).dim == 512


def test_bad_data_path_is_one_line_error(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "train_reid.py"),
                           str(tmp_path / "missing")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error:") and "Traceback" not in proc.stderr
