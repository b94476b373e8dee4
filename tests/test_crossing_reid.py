"""Issue 4 acceptance: appearance keeps identities where motion alone swaps them.

The scene (tools/make_sample_video.py --scene reid_crossing): two same-sized people in different
clothes walk towards each other, both vanish behind a pillar, and both turn back there. A
constant-velocity Kalman prediction carries each track to the side where the *other* person
re-appears. Detections come from the scene's ground truth (its det file); embeddings are computed
by OSNet from the rendered, mp4-compressed pixels.

Both appearance-aware trackers are checked: DeepSORT (matching cascade: appearance decides among
all pairs inside the growing Kalman gate) and BoT-SORT, the default (IoU/appearance fusion with an
appearance veto and re-identification of lost tracks).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from helpers import MODELS, REPO, needs_shared
from tracker.boxes import iou_matrix, tlwh_to_xyxy
from tracker.formats.mot import read_det_file
from tracker.reid import load_embedder
from tracker.trackers import make_tracker
from tracker.types import Detections


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    out = tmp_path_factory.mktemp("reid_crossing")
    subprocess.run([sys.executable, str(REPO / "tools" / "make_sample_video.py"),
                    "--scene", "reid_crossing", "--out", str(out)], check=True, capture_output=True)
    cap = cv2.VideoCapture(str(out / "reid_crossing.mp4"))
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img)
    gt = np.loadtxt(out / "reid_crossing_gt.txt", delimiter=",")
    return frames, read_det_file(out / "reid_crossing_det.txt"), gt


_FEATURES: dict = {}  # model -> {frame: embeddings}, computed once for all trackers


def embeddings(model: str, frames, dets) -> dict:
    if model not in _FEATURES:
        embedder = load_embedder(str(MODELS / model))
        _FEATURES[model] = {f: embedder.embed(frames[f - 1], d.xyxy) for f, d in dets.items()}
    return _FEATURES[model]


def track_ids_per_person(tracker, frames, dets, gt, feats=None) -> dict:
    """{gt id: [track id in each frame where that person was detected and tracked]}."""
    trk = make_tracker(tracker, frame_rate=25.0)
    seen: dict = {1: [], 2: []}
    for f, image in enumerate(frames, start=1):
        d = dets.get(f, Detections.empty())
        if feats is not None and len(d):
            d = Detections(d.xyxy, d.score, d.cls, feats[f])
        tracks = trk.update(d, image=image)
        g = gt[gt[:, 0] == f]
        iou = iou_matrix(tracks.xyxy, tlwh_to_xyxy(g[:, 2:6]))
        for i in np.flatnonzero(tracks.det_index >= 0):
            j = iou[i].argmax()
            if iou[i, j] > 0.5:
                seen[int(g[j, 1])].append(int(tracks.track_id[i]))
    return seen


def test_scene_is_a_real_trap(scene):
    """Sanity: both people vanish together, and each comes back on the side it left from."""
    frames, dets, gt = scene
    hidden = [f for f in range(1, len(frames) + 1) if f not in dets]
    assert len(hidden) >= 10 and hidden == list(range(hidden[0], hidden[-1] + 1))
    for tid in (1, 2):
        g = gt[gt[:, 1] == tid]
        cx = g[:, 2] + g[:, 4] / 2
        assert abs(cx[hidden[0] - 2] - cx[hidden[-1]]) < 20


TRACKERS = ["deepsort", "botsort"]


@pytest.mark.parametrize("tracker", TRACKERS)
def test_motion_only_swaps_identities(scene, tracker):
    seen = track_ids_per_person(tracker, *scene)
    # each person ends with the track the other one started with
    assert seen[1][0] == seen[2][-1] and seen[2][0] == seen[1][-1], seen


@needs_shared
@pytest.mark.parametrize("tracker", TRACKERS)
@pytest.mark.parametrize("model", ["osnet_x0_25_msmt17.onnx", "osnet_x0_25_msmt17.pth"])
def test_reid_keeps_both_identities(scene, tracker, model):
    seen = track_ids_per_person(tracker, *scene, feats=embeddings(model, *scene[:2]))
    assert set(seen[1]) == {seen[1][0]} and set(seen[2]) == {seen[2][0]}, seen
    assert seen[1][0] != seen[2][0]
