"""The malformed-input corpus: every bad input ends in one ``error:`` line, exit code 2, no traceback.

One table, run through the real ``track`` command. A case names the files it needs (text, bytes, or
a function that writes them into the case's folder), the command line (``{name}`` stands for the
path of that file, ``{tmp}`` for the case's folder) and words the error line must contain. Add a
case here for every bad input a user reports. Parser-level checks of the same inputs are in
``tests/test_input_validation.py`` and ``tests/test_fuzz.py``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Union

import cv2
import numpy as np
import pytest

from helpers import MODELS, MOT17_MINI, SAMPLE_DETS, SAMPLE_VIDEO, SHARED, YOLO11N, assert_one_line_error, run_track

VIDEO, DETS = str(SAMPLE_VIDEO), str(SAMPLE_DETS)
ROW = "1,-1,10,20,30,40,0.9\n"


@dataclass
class Case:
    id: str
    args: List[str]
    fragments: List[str]
    files: Dict[str, Union[str, bytes, Callable[[Path], None]]] = field(default_factory=dict)
    needs_shared: bool = False
    no_output: bool = False      # the error comes before any output folder is created


def _image(path: Path) -> None:
    cv2.imwrite(str(path), np.zeros((20, 20, 3), np.uint8))


def _empty_folder(path: Path) -> None:
    path.mkdir()


def _truncated_mp4(path: Path) -> None:
    data = SAMPLE_VIDEO.read_bytes()
    path.write_bytes(data[: len(data) // 3])     # mp4v keeps its moov atom at the end: undecodable


def _tracker_yaml(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text)


def _det(text: str) -> Dict[str, str]:
    return {"det.txt": text}


with_det = [VIDEO, "--detections", "{det.txt}"]

CASES = [
    # sources
    Case("missing-file", ["{tmp}/nope.mp4"], ["not found"]),
    Case("zero-byte-video", ["{empty.mp4}"], ["empty"], {"empty.mp4": b""}),
    Case("random-bytes-video", ["{noise.mp4}", "--detections", DETS], ["video"], {"noise.mp4": bytes(range(256)) * 400}),
    Case("truncated-mp4", ["{cut.mp4}", "--detections", DETS], ["video"], {"cut.mp4": _truncated_mp4}),
    Case("empty-image-folder", ["{frames}"], ["no images"], {"frames": _empty_folder}),
    Case("single-image", ["{one.jpg}"], ["folder"], {"one.jpg": _image}),
    # det files
    Case("det-too-few-columns", with_det, ["det.txt", "columns"], _det("1,-1,10,20,30\n")),
    Case("det-not-a-number", with_det, ["det.txt", "not a number"], _det("1,-1,10,20,abc,40,0.9\n")),
    Case("det-nan", with_det, ["det.txt", "nan"], _det("1,-1,10,20,nan,40,0.9\n")),
    Case("det-inf", with_det, ["det.txt", "nan or infinite"], _det("1,-1,10,20,30,inf,0.9\n")),
    Case("det-negative-width", with_det, ["det.txt", "positive"], _det("1,-1,10,20,-5,40,0.9\n")),
    Case("det-zero-width", with_det, ["det.txt", "positive"], _det("1,-1,10,20,0,40,0.9\n")),
    Case("det-fractional-frame", with_det, ["det.txt", "integer"], _det("1.5,-1,10,20,30,40,0.9\n")),
    Case("det-ragged-rows", with_det, ["det.txt", "columns"], _det(ROW + "2,-1,10,20,30,40\n")),
    Case("det-beyond-the-video", with_det, ["beyond"], _det(ROW + "99999,-1,10,20,30,40,0.9\n")),
    # --classes with a det file (issue 15): applied, never silently ignored
    Case("det-classes-misspelt", with_det + ["--classes", "prson"], ["prson", "--classes"], _det(ROW), no_output=True),
    Case("det-classes-no-class-column", with_det + ["--classes", "car"], ["no class column", "person"], _det(ROW),
         no_output=True),
    Case("det-classes-absent-class", with_det + ["--classes", "truck"], ["keeps no box", "car"],
         _det("1,-1,10,20,30,40,0.9,2\n"), no_output=True),
    Case("det-file-for-two-sources", [VIDEO, VIDEO, "--detections", "{det.txt}"], ["1 det file", "2 sources"],
         _det(ROW), no_output=True),
    Case("three-det-files-for-two-sources", [VIDEO, VIDEO, "--detections", "{det.txt},{det.txt},{det.txt}"],
         ["3 det file", "2 sources"], _det(ROW), no_output=True),
    # config values (issue 15: 1e308 was an OverflowError)
    Case("set-tracker-option-1e308", [VIDEO, "--detections", DETS, "--set", "tracker.track_buffer=1e308"],
         ["track_buffer"], no_output=True),
    Case("set-tracker-option-inf", [VIDEO, "--detections", DETS, "--set", "tracker.track_buffer=.inf"],
         ["track_buffer"], no_output=True),
    Case("set-tracker-option-negative", [VIDEO, "--detections", DETS, "--set", "tracker.match_thresh=-1"],
         ["match_thresh", "between"], no_output=True),
    Case("config-file-tracker-option-1e308", [VIDEO, "--detections", DETS, "--config", "{c.yaml}"],
         ["track_buffer"], {"c.yaml": "tracker:\n  track_buffer: 1e308\n"}, no_output=True),
    Case("tracker-yaml-option-1e308", [VIDEO, "--detections", DETS, "--tracker", "{t.yaml}"], ["min_hits"],
         {"t.yaml": _tracker_yaml("tracker_type: bytetrack\nmin_hits: 1.0e+308\n")}, no_output=True),
    Case("config-file-timeout-1e308", [VIDEO, "--detections", DETS, "--config", "{c.yaml}"],
         ["stream.read_timeout_s", "between"], {"c.yaml": "stream:\n  read_timeout_s: 1e308\n"}, no_output=True),
    Case("set-threads-1e308", [VIDEO, "--detections", DETS, "--set", "detector.threads=1e308"],
         ["detector.threads"], no_output=True),
    Case("imgsz-huge", [VIDEO, "--detections", DETS, "--imgsz", str(10**9)], ["detector.imgsz"], no_output=True),
    Case("segment-huge", [VIDEO, "--detections", DETS, "--segment", "9" * 400 + "MB"], ["--segment"], no_output=True),
    Case("vid-stride-zero", [VIDEO, "--detections", DETS, "--vid-stride", "0"], ["source.vid_stride"], no_output=True),
    Case("unknown-config-key", [VIDEO, "--detections", DETS, "--set", "detector.cnof=0.3"], ["detector.cnof"],
         no_output=True),
    Case("wrong-config-type", [VIDEO, "--detections", DETS, "--config", "{bad.yaml}"], ["detector.imgsz"],
         {"bad.yaml": "detector:\n  imgsz: big\n"}, no_output=True),
    Case("unknown-tracker-option", [VIDEO, "--detections", DETS, "--set", "tracker.nosuch_option=1"],
         ["nosuch_option"], no_output=True),
    Case("tracker-option-not-a-number", [VIDEO, "--detections", DETS, "--set", "tracker.track_buffer=lots"],
         ["track_buffer"], no_output=True),
    Case("unknown-tracker", [VIDEO, "--detections", DETS, "--tracker", "nosuchtracker"], ["nosuchtracker"],
         no_output=True),
    Case("print-config-unknown-tracker", ["--print-config", "nosuchtracker"], ["nosuchtracker"], no_output=True),
    Case("no-source", ["--detections", DETS], ["no source"], no_output=True),
    Case("eval-set-1e308", ["eval", str(MOT17_MINI), "--set", "track_buffer=1e308", "--out", "{tmp}/eval"],
         ["track_buffer"], needs_shared=True),
    # outputs
    Case("output-under-a-file", [VIDEO, "--detections", DETS, "--out", "{blocker}/sub"],
         ["cannot write to output directory"], {"blocker": "not a folder"}),
    # models (issue 15: AssertionError, TypeError, onnxruntime traceback)
    Case("model-pth", [VIDEO, "--model", "yolo11n.pth"], ["yolo11n.pth", "'.pth'"], no_output=True),
    Case("model-bin", [VIDEO, "--model", "{w.bin}"], ["w.bin", "'.bin'"], {"w.bin": b"junk"}, no_output=True),
    Case("model-reid-onnx", [VIDEO, "--model", str(MODELS / "osnet_x0_25_msmt17.onnx")], ["not a detector", "--reid"],
         needs_shared=True, no_output=True),
    Case("model-junk-torchscript", [VIDEO, "--model", "{m.torchscript}"], ["m.torchscript"],   # loaded lazily
         {"m.torchscript": b"junk"}, no_output=True),
    Case("model-junk-onnx", [VIDEO, "--model", "{m.onnx}"], ["m.onnx", "onnx"], {"m.onnx": b"junk"}, no_output=True),
    Case("model-truncated-pt", [VIDEO, "--model", "{cut.pt}"], ["cut.pt"],
         {"cut.pt": lambda p: p.write_bytes(YOLO11N.read_bytes()[:1000])}, needs_shared=True, no_output=True),
    Case("unknown-class-name", [VIDEO, "--model", str(YOLO11N), "--classes", "person,unicorn"], ["unicorn"],
         needs_shared=True, no_output=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input(tmp_path, case):
    if case.needs_shared and not SHARED.is_dir():
        pytest.skip("../shared (test data and models) is absent")
    paths = {"tmp": str(tmp_path)}
    for name, content in case.files.items():
        path = tmp_path / name
        if callable(content):
            content(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        paths[name] = str(path)
    args = list(case.args)
    for name, path in paths.items():
        args = [a.replace("{" + name + "}", path) for a in args]
    out = tmp_path / "o"
    if args[0] != "eval" and "--out" not in args:
        args += ["--out", str(out)]
    proc = run_track(*args, cwd=tmp_path, timeout=300)
    assert_one_line_error(proc, *case.fragments)
    if case.no_output:
        assert not out.exists(), "a bad input is caught before outputs are created"


def test_missing_weights_offline(tmp_path):
    empty = tmp_path / "weights"
    empty.mkdir()
    proc = run_track(SAMPLE_VIDEO, "--model", "yolov8s.pt", "--out", tmp_path / "o",
                     env={"TRACKER_WEIGHTS_DIR": str(empty)})
    assert_one_line_error(proc, "yolov8s.pt", "--model")


def test_read_only_output_directory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    if os.access(ro, os.W_OK):   # root ignores permissions: use a read-only bind mount instead
        if shutil.which("mount") is None or subprocess.run(
                ["mount", "--bind", "-o", "ro", str(ro), str(ro)], capture_output=True).returncode != 0:
            pytest.skip("cannot make a read-only folder here (root without mount permission)")
        try:
            proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--out", ro / "out")
        finally:
            subprocess.run(["umount", str(ro)], capture_output=True)
    else:
        proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--out", ro / "out")
    assert_one_line_error(proc, "cannot write to output directory")
