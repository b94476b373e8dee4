"""tracker.reid: crops, embedders (OSNet torch / ONNX / torchvision), factory, export, helpers."""
from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from helpers import MODELS, MOT17_MINI, needs_shared
from tracker.boxes import tlwh_to_xyxy
from tracker.errors import UserError
from tracker.reid import Embedder, clean_for_update, load_embedder, occlusion_mask
from tracker.reid.backbone import TorchvisionEmbedder
from tracker.reid.crops import crop_boxes, to_network_input
from tracker.reid.metrics import retrieval_metrics, split_query_gallery
from tracker.reid.osnet import OSNET_CHANNELS, build_osnet

torch.set_num_threads(1)
OSNET_PTH = MODELS / "osnet_x0_25_msmt17.pth"
OSNET_ONNX = MODELS / "osnet_x0_25_msmt17.onnx"


def person_crops(n: int = 32):
    """(frame, boxes) of real people: the first MOT17-04 frame and its visible gt boxes."""
    seq = MOT17_MINI / "MOT17-04-FRCNN"
    gt = np.loadtxt(seq / "gt" / "gt.txt", delimiter=",")
    g = gt[(gt[:, 0] == 1) & (gt[:, 6] == 1) & (gt[:, 7] == 1) & (gt[:, 8] > 0.5)][:n]
    return cv2.imread(str(seq / "img1" / "000001.jpg")), tlwh_to_xyxy(g[:, 2:6])


# ---------------------------------------------------------------------------------------- crops
def test_crops_clip_and_flag_invalid_boxes():
    img = np.arange(100 * 200 * 3, dtype=np.uint8).reshape(100, 200, 3)
    boxes = np.array([[10, 10, 50, 90],        # inside
                      [-20, -20, 30, 40],      # partly outside: clipped
                      [300, 0, 400, 50],       # entirely outside
                      [5, 5, 5, 30],           # zero width
                      [np.nan, 0, 10, 10],     # not finite
                      [10.2, 10.7, 10.9, 11.1]])  # under a pixel but covers one: kept
    crops, valid = crop_boxes(img, boxes, (16, 8))
    assert crops.shape == (6, 16, 8, 3) and crops.dtype == np.uint8
    assert valid.tolist() == [True, True, False, False, False, True]
    assert (crops[~valid] == 0).all()
    # the clipped crop only holds frame pixels from [0, 30) x [0, 40)
    ref = cv2.resize(img[0:40, 0:30], (8, 16), interpolation=cv2.INTER_AREA)
    assert np.array_equal(crops[1], ref)
    assert crop_boxes(img, np.zeros((0, 4)))[0].shape == (0, 256, 128, 3)


def test_network_input_is_normalised_rgb():
    crops = np.zeros((1, 4, 2, 3), np.uint8)
    crops[..., 2] = 255  # pure red in BGR
    x = to_network_input(crops)
    assert x.shape == (1, 3, 4, 2) and x.flags["C_CONTIGUOUS"]
    assert np.allclose(x[0, 0], (1 - 0.485) / 0.229) and np.allclose(x[0, 2], -0.406 / 0.225)


# ----------------------------------------------------------------------------------- embedders
@pytest.mark.parametrize("arch", sorted(OSNET_CHANNELS))
def test_osnet_architectures_build_and_embed(arch):
    net = build_osnet(arch, num_classes=7).eval()
    with torch.inference_mode():
        out = net(torch.zeros(2, 3, 256, 128))
    assert out.shape == (2, 512)


def test_torchvision_backbone_embedder_random_init():
    emb = TorchvisionEmbedder("resnet18", weights=None)
    img = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    feat = emb.embed(img, np.array([[0, 0, 50, 100], [200, 0, 300, 10]]))
    assert isinstance(emb, Embedder) and feat.shape == (2, 512) and feat.dtype == np.float32
    assert np.isclose(np.linalg.norm(feat[0]), 1.0) and (feat[1] == 0).all()  # outside: zeros


@needs_shared
def test_torchreid_checkpoint_loads_and_embeds_unit_vectors():
    emb = load_embedder(str(OSNET_PTH))
    assert emb.dim == 512 and "osnet_x0_25" in emb.name
    img, boxes = person_crops(8)
    feat = emb.embed(img, boxes)
    assert feat.shape == (len(boxes), 512)
    assert np.allclose(np.linalg.norm(feat, axis=1), 1.0, atol=1e-5)
    # the same box twice gives the same vector; different people differ
    sim = feat @ feat.T
    assert sim[np.triu_indices(len(feat), 1)].max() < 0.99
    # embed_batch over frames equals per-frame embed
    both = emb.embed_batch([img, img[:, ::-1].copy()], [boxes[:3], boxes[3:5]])
    assert np.allclose(both[0], feat[:3], atol=1e-5) and both[1].shape == (2, 512)
    assert emb.embed(img, np.zeros((0, 4))).shape == (0, 512)


@needs_shared
def test_onnx_and_torch_embedders_agree_on_person_crops():
    img, boxes = person_crops(32)
    crops, valid = crop_boxes(img, boxes)
    assert valid.all() and len(crops) >= 16
    a = load_embedder(str(OSNET_PTH)).embed_crops(crops)
    b = load_embedder(str(OSNET_ONNX)).embed_crops(crops)
    assert (a * b).sum(axis=1).min() >= 0.999


@needs_shared
def test_bare_name_resolves_in_weights_dir(monkeypatch):
    monkeypatch.setenv("TRACKER_WEIGHTS_DIR", str(MODELS))
    name = load_embedder("osnet_x0_25_msmt17").name   # CPU prefers the .onnx (on OpenVINO on x86)
    assert "onnxruntime" in name or "openvino" in name
    assert "torch" in load_embedder("osnet_x0_25_msmt17.pth").name


def test_missing_and_broken_weights_are_one_line_user_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(UserError, match="not found.*--reid PATH") as err:
        load_embedder("no_such_model")
    assert "\n" not in str(err.value)
    for name, data in (("junk.onnx", b"not a model"), ("junk.pth", b"\x00garbage")):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(UserError, match="junk"):
            load_embedder(str(tmp_path / name))
    torch.save({"layer.weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(UserError, match="unknown architecture"):
        load_embedder(str(tmp_path / "other.pth"))


@needs_shared
def test_export_reid_roundtrip(tmp_path):
    pytest.importorskip("onnx", reason="torch's ONNX exporter needs the onnx package")
    from tracker.reid.export import main_export

    out = tmp_path / "osnet.onnx"
    assert main_export([str(OSNET_PTH), "--out", str(out)]) == 0
    img, boxes = person_crops(4)
    a = load_embedder(str(OSNET_PTH)).embed(img, boxes)
    b = load_embedder(str(out)).embed(img, boxes)
    assert (a * b).sum(axis=1).min() >= 0.999
    # bad input: one line, exit 2
    proc = subprocess.run([sys.executable, "-m", "tracker.reid.export", str(tmp_path / "nope.pth")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("error:") and "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------------- helpers
def test_occlusion_mask_and_clean_updates():
    boxes = np.array([[0, 0, 10, 20], [8, 0, 18, 20], [100, 0, 110, 20], [102, 2, 104, 6]], float)
    # box 0/1 overlap 20% of their area; box 3 lies inside box 2 (100% of box 3, 4% of box 2)
    assert occlusion_mask(boxes, 0.1).tolist() == [True, True, False, True]
    assert occlusion_mask(boxes, 0.25).tolist() == [False, False, False, True]
    assert clean_for_update(boxes, np.array([0.9, 0.3, 0.9, 0.9]), 0.25, 0.5).tolist() == \
        [True, False, True, False]
    assert occlusion_mask(np.zeros((0, 4))).shape == (0,)


def test_retrieval_metrics():
    ids = np.array([1, 1, 2, 2, 3])
    q, g = split_query_gallery(ids)
    assert q.tolist() == [0, 2] and g.tolist() == [1, 3, 4]
    feats = np.eye(5)[[0, 0, 1, 2, 3]].astype(np.float32)  # id 2's two crops look different
    r = retrieval_metrics(feats[q], ids[q], feats[g], ids[g])
    assert r["rank1"] == 0.5 and r["queries"] == 2
