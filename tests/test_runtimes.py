"""Inference runtimes: boxes from ONNX Runtime and OpenVINO match torch's on real frames, the export
cache is reused, and every way a runtime can be missing falls back to torch and says so.

Export cost is kept low: one export per runtime per session, into a temporary cache, and a handful
of real 16:9 frames (people_walking.mp4 and MOT17-mini, 1920x1080), which all letterbox to one
384x640 input.
"""
from __future__ import annotations

import json
import logging
import os
import sys

import cv2
import numpy as np
import pytest

from helpers import MOT17_MINI, VIDEOS, YOLO11N, assert_one_line_error, needs_shared, run_track
from tracker.boxes import iou_matrix
from tracker.errors import UserError
from tracker.runtimes import choose_runtime, select_device
from tracker.trackers.matching import linear_assignment
from tracker.types import Frame

pytestmark = needs_shared
CONF = 0.25


def real_frames() -> list:
    images = []
    cap = cv2.VideoCapture(str(VIDEOS / "people_walking.mp4"))
    for index in (400, 1000):
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = cap.read()
        assert ok
        images.append(image)
    cap.release()
    for seq in ("MOT17-02-FRCNN", "MOT17-04-FRCNN", "MOT17-09-FRCNN"):
        images.append(cv2.imread(str(sorted((MOT17_MINI / seq / "img1").glob("*.jpg"))[0])))
    return [Frame(i, i / 10, image) for i, image in enumerate(images)]


@pytest.fixture(scope="session")
def runtime_cache(tmp_path_factory):
    """A private export cache for this session (the shared weights folder is read-only)."""
    mp = pytest.MonkeyPatch()
    cache = tmp_path_factory.mktemp("tracker_cache")
    mp.setenv("TRACKER_CACHE_DIR", str(cache))
    yield cache
    mp.undo()


@pytest.fixture(scope="session")
def frames():
    return real_frames()


@pytest.fixture(scope="session")
def torch_boxes(frames):
    from tracker.detectors.yolo import YoloDetector

    det = YoloDetector(str(YOLO11N), conf=CONF, device="cpu", runtime="torch")
    assert det.runtime == "torch"
    # one frame per call: torch letterboxes each frame to its own rectangle (a batch of frames of
    # different sizes would be letterboxed to 640x640 squares); an export has one fixed 384x640 input
    return [det.detect([frame])[0] for frame in frames]


def assert_same_boxes(reference, other, runtime: str) -> int:
    """IoU >= 0.95 after matching, score difference <= 0.02, same class; a box may be missing on
    one side only when its score is within 0.02 of the threshold. Returns the matched count."""
    matched = 0
    for i, (a, b) in enumerate(zip(reference, other)):
        iou = iou_matrix(a.xyxy, b.xyxy)
        pairs, free_a, free_b = linear_assignment(1 - iou, max_cost=0.5)
        for ia, ib in pairs:
            assert iou[ia, ib] >= 0.95, (runtime, i, iou[ia, ib])
            assert abs(a.score[ia] - b.score[ib]) <= 0.02, (runtime, i, a.score[ia], b.score[ib])
            assert a.cls[ia] == b.cls[ib], (runtime, i)
        assert np.all(a.score[free_a] < CONF + 0.02), (runtime, i, "torch box missing", a.score[free_a])
        assert np.all(b.score[free_b] < CONF + 0.02), (runtime, i, "extra box", b.score[free_b])
        matched += len(pairs)
    return matched


@pytest.mark.parametrize("runtime", ["onnx", "openvino"])
def test_runtime_boxes_match_torch_and_export_is_cached(runtime, runtime_cache, frames, torch_boxes):
    pytest.importorskip({"onnx": "onnxruntime", "openvino": "openvino"}[runtime])
    from tracker.detectors.yolo import YoloDetector

    det = YoloDetector(str(YOLO11N), conf=CONF, device="cpu", runtime=runtime)
    boxes = det.detect(frames)
    assert det.runtime == runtime
    assert det.input_shape == (384, 640)          # 16:9 frames: the rectangular export
    assert det.export_s is not None and det.export_s > 0
    assert list((runtime_cache / "exports").glob(f"yolo11n-*-384x640-fp32-{runtime}*"))
    matched = assert_same_boxes(torch_boxes, boxes, runtime)
    assert matched >= 20, matched                  # the frames hold dozens of people
    again = YoloDetector(str(YOLO11N), conf=CONF, device="cpu", runtime=runtime)
    again.detect(frames[:1])
    assert again.runtime == runtime and again.export_s is None   # taken from the cache


def test_openvino_runner_decodes_like_ultralytics(runtime_cache, frames):
    """Our letterbox + NMS + scale_boxes (numpy, no torch) give ultralytics' boxes exactly, on the
    real network output of a crowd frame, for a class filter, class-agnostic NMS, max_det and a low
    threshold (hundreds of candidates, so NMS does real work)."""
    pytest.importorskip("openvino")
    import torch
    from ultralytics.data.augment import LetterBox
    from ultralytics.utils import nms, ops

    from tracker.detectors import openvino_yolo
    from tracker.detectors.yolo import YoloDetector

    det = YoloDetector(str(YOLO11N), conf=CONF, device="cpu", runtime="openvino")
    det.detect(frames[:1])
    runner = det._openvino
    assert runner is not None and runner.input_shape == (384, 640)
    image = frames[3].image                                   # MOT17-04, 1920x1080, a crowd
    boxed = openvino_yolo.letterbox(image, runner.input_shape)
    assert np.array_equal(boxed, LetterBox(runner.input_shape, auto=False)(image=image))
    runner.request.infer({0: openvino_yolo.to_input(boxed)})
    raw = runner.request.get_output_tensor(0).data[0].copy()
    for conf, classes, agnostic, max_det in [(0.25, None, False, 300), (0.05, None, False, 300),
                                            (0.05, [0, 2], False, 300), (0.05, None, True, 300),
                                            (0.05, None, False, 7)]:
        xyxy, score, cls = openvino_yolo.decode(raw, runner.input_shape, image.shape[:2], conf, 0.7,
                                                classes, agnostic, max_det)
        ref = nms.non_max_suppression(torch.from_numpy(raw[None]), conf, 0.7, classes, agnostic,
                                      max_det=max_det)[0]
        ref[:, :4] = ops.scale_boxes(runner.input_shape, ref[:, :4], image.shape[:2])
        ref = ref.numpy()
        assert len(score) == len(ref) > 0, (conf, classes, agnostic, len(score), len(ref))
        assert np.allclose(xyxy, ref[:, :4], atol=1e-3), (conf, classes, agnostic)
        assert np.allclose(score, ref[:, 4], atol=1e-6) and np.array_equal(cls, ref[:, 5].astype(int))
    assert len(openvino_yolo.decode(raw, runner.input_shape, image.shape[:2], 0.999, 0.7)[1]) == 0


@pytest.mark.parametrize("reid", [[], ["--reid", "osnet_x0_25_msmt17.onnx"]], ids=["motion", "reid-onnx"])
def test_default_cpu_run_never_imports_torch(runtime_cache, frames, tmp_path, reid):
    """Once the export is cached, `track` on the CPU with the default runtime runs on OpenVINO alone,
    with an ``.onnx`` ReID model too: a stand-in `torch` (and `ultralytics`) that cannot be imported
    does not stop it. torch's libraries are ~450 MiB of resident memory (docs/benchmarks.md)."""
    pytest.importorskip("openvino")
    from tracker.detectors.yolo import YoloDetector
    from tracker.runtimes import is_x86

    if not is_x86():
        pytest.skip("runtime auto is OpenVINO on x86 CPUs only")
    YoloDetector(str(YOLO11N), conf=CONF, device="cpu", runtime="openvino").detect(frames[:1])  # cache it
    fakes = tmp_path / "no_torch"
    for name in ("torch", "ultralytics"):
        (fakes / name).mkdir(parents=True)
        (fakes / name / "__init__.py").write_text(f"raise ImportError('simulated: {name} is not installed')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(fakes), os.environ.get("PYTHONPATH", "")])}
    proc = run_track(VIDEOS / "people_walking.mp4", "--max-frames", 3, "--device", "cpu", "--model", YOLO11N,
                     *reid, "--out", tmp_path / "out", env=env, timeout=300)  # 768x432: the 384x640 export
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "warning" not in proc.stderr.lower(), proc.stderr
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["frames"] == 3
    assert (tmp_path / "out" / "people_walking.mp4").stat().st_size > 0


def test_auto_is_openvino_on_x86_cpu():
    pytest.importorskip("openvino")
    from tracker.runtimes import is_x86

    assert choose_runtime("auto", "cpu") == ("openvino" if is_x86() else "torch")


def test_missing_openvino_falls_back_to_torch_and_says_so(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "openvino", None)    # `import openvino` now fails
    with caplog.at_level(logging.WARNING, logger="tracker"):
        assert choose_runtime("auto", "cpu") == "torch"
        assert choose_runtime("openvino", "cpu") == "torch"
    assert [r.getMessage() for r in caplog.records if "OpenVINO is not installed" in r.getMessage()]
    assert [r.getMessage() for r in caplog.records if "openvino is not installed" in r.getMessage()]


def test_failed_export_falls_back_to_torch_with_one_warning(monkeypatch, caplog, frames, torch_boxes):
    pytest.importorskip("openvino")
    from tracker.detectors import export
    from tracker.detectors.yolo import YoloDetector

    def broken(*args, **kwargs):
        raise RuntimeError("simulated exporter crash")

    monkeypatch.setattr(export, "exported_model", broken)
    det = YoloDetector(str(YOLO11N), conf=CONF, device="cpu", runtime="openvino")
    with caplog.at_level(logging.WARNING, logger="tracker"):
        boxes = det.detect(frames[:2])
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "simulated exporter crash" in warnings[0] and "torch" in warnings[0]
    assert det.runtime == "torch"
    assert assert_same_boxes(torch_boxes[:2], boxes, "fallback") > 0


def test_cli_without_openvino_runs_on_torch(tmp_path):
    """A machine without OpenVINO: `import openvino` fails (a stand-in package that raises)."""
    fake = tmp_path / "no_openvino" / "openvino"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('simulated: openvino is not installed')\n")

    env = {"PYTHONPATH": os.pathsep.join([str(fake.parent), os.environ.get("PYTHONPATH", "")])}
    proc = run_track(VIDEOS / "cars.mp4", "--max-frames", 3, "--no-video", "--quiet", "--device", "cpu",
                     "--model", YOLO11N, "--out", tmp_path / "out", env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "OpenVINO is not installed" in line]
    assert len(lines) == 1, proc.stderr
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["frames"] == 3


def test_mps_without_metal_is_one_clear_error(tmp_path):
    import torch

    if torch.backends.mps.is_available():
        pytest.skip("this machine has Apple's GPU")
    with pytest.raises(UserError, match="mps"):
        select_device("mps")
    proc = run_track(VIDEOS / "cars.mp4", "--max-frames", 2, "--device", "mps", "--out", tmp_path / "o")
    assert_one_line_error(proc, "--device mps")


def test_hidden_gpus_mean_cpu_without_asking_torch(monkeypatch):
    """CUDA_VISIBLE_DEVICES="" hides every GPU: auto is the CPU and --device cuda a clear error,
    decided without importing torch (gpu_driver_absent)."""
    from tracker import runtimes

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setitem(sys.modules, "torch", None)      # `import torch` would now fail
    assert runtimes.gpu_driver_absent()
    assert select_device(None) == select_device("auto") == "cpu"
    with pytest.raises(UserError, match="no.*GPU|none is available"):
        select_device("cuda:0")


def test_unknown_runtime_is_rejected():
    with pytest.raises(UserError, match="unknown runtime"):
        choose_runtime("tflite", "cpu")
    assert choose_runtime("tensorrt", "cpu") == "torch"     # TensorRT needs a GPU: falls back


def test_openvino_reid_embeddings_match_onnxruntime(frames):
    """OSNet on OpenVINO (the same .onnx file) gives ONNX Runtime's embeddings."""
    pytest.importorskip("openvino")
    from helpers import MODELS
    from tracker.reid import load_embedder
    from tracker.reid.onnx import OnnxEmbedder
    from tracker.reid.openvino import OpenVinoEmbedder

    image = frames[3].image          # MOT17-04: a crowd
    boxes = np.array([[100, 200, 180, 420], [900, 300, 980, 520], [1500, 400, 1600, 700],
                      [40, 40, 30, 50]], np.float32)   # the last covers no pixel: a zero row
    reference = OnnxEmbedder(MODELS / "osnet_x0_25_msmt17.onnx").embed(image, boxes)
    embedder = load_embedder(str(MODELS / "osnet_x0_25_msmt17.onnx"), runtime="openvino")
    assert isinstance(embedder, OpenVinoEmbedder)
    ours = embedder.embed(image, boxes)
    assert ours.shape == reference.shape == (4, 512)
    cosine = (ours[:3] * reference[:3]).sum(1)
    assert np.all(cosine > 0.999), cosine
    assert np.allclose(ours[3], reference[3])
