"""Unit tests of the small core pieces: types, boxes, config, det files, file sources, sinks."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from tracker.boxes import (clip_xyxy, finite_rows, iou_matrix, tlwh_to_xyxy, xyah_to_xyxy, xywh_to_xyxy,
                           xyxy_to_tlwh, xyxy_to_xyah, xyxy_to_xywh)
from tracker.config import CONFIG_DIR, Config, load_config, parse_override
from tracker.detectors.classes import COCO80_NAMES, parse_classes
from tracker.detectors.weights import resolve_weights
from tracker.errors import UserError
from tracker.formats.mot import format_mot_rows, parse_det_text
from tracker.pipeline import clean_detections
from tracker.types import Detections, Tracks


def test_box_round_trips():
    b = np.array([[10.0, 20.0, 40.0, 80.0], [0.0, 0.0, 1.0, 2.0]])
    assert np.allclose(tlwh_to_xyxy(xyxy_to_tlwh(b)), b)
    assert np.allclose(xywh_to_xyxy(xyxy_to_xywh(b)), b)
    assert np.allclose(xyah_to_xyxy(xyxy_to_xyah(b)), b)
    assert np.allclose(xyxy_to_xyah(b)[0], [25, 50, 0.5, 60])


def test_iou_known_values():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 0, 0]])
    assert np.allclose(iou_matrix(a, b), [[1.0, 50 / 150, 0.0, 0.0]])
    assert iou_matrix(np.zeros((0, 4)), b).shape == (0, 4)


def test_clip_and_finite():
    b = np.array([[-5, -5, 50, 50], [np.nan, 0, 1, 1], [5, 5, 5, 9]], np.float32)
    assert clip_xyxy(b[:1], 20, 30).tolist() == [[0, 0, 20, 30]]
    assert finite_rows(b).tolist() == [True, False, False]


def test_clean_detections_drops_nan_and_clips():
    dets = Detections([[-10, 0, 50, 50], [np.nan, 1, 2, 3], [90, 90, 200, 200], [150, 150, 160, 160]],
                      [0.9, 0.8, 0.7, 0.6], [0, 0, 0, 0])
    clean, dropped = clean_detections(dets, 100, 100)
    assert dropped == 2      # NaN box and the box entirely outside the frame
    assert clean.xyxy.tolist() == [[0, 0, 50, 50], [90, 90, 100, 100]]


def test_detections_validate_lengths():
    with pytest.raises(ValueError):
        Detections(np.zeros((2, 4)), np.zeros(3), np.zeros(2))
    d = Detections.empty()
    assert len(d) == 0 and d.xyxy.shape == (0, 4)
    assert len(Tracks.empty()) == 0


def test_det_text_groups_frames():
    dets = parse_det_text("1,-1,10,20,30,40,0.9,-1,-1,-1\n1,-1,0,0,5,5,0.5,-1,-1,-1\n3,-1,1,1,2,2,1,-1,-1,-1\n")
    assert sorted(dets) == [1, 3]
    assert dets[1].xyxy.tolist() == [[10, 20, 40, 60], [0, 0, 5, 5]]
    assert dets[1].score.tolist() == pytest.approx([0.9, 0.5])


def test_mot_rows_format():
    t = Tracks([[10, 20, 40, 60]], [7], [0.5], [0], [0])
    assert format_mot_rows(3, t) == "3,7,10.00,20.00,30.00,40.00,0.5000,-1,-1,-1\n"


def test_config_defaults_match_default_yaml():
    """configs/default.yaml documents exactly the dataclass defaults (one source of truth checked)."""
    from tracker.trackers import DEFAULT_TRACKER

    data = yaml.safe_load((CONFIG_DIR / "default.yaml").read_text())
    defaults = Config().to_dict()
    assert data == defaults
    assert data["tracker"]["name"] == DEFAULT_TRACKER
    text = (CONFIG_DIR / "default.yaml").read_text()
    for line in text.splitlines():
        if line.startswith("  ") and ":" in line and not line.strip().startswith("#"):
            assert "#" in line or line.strip().endswith(":"), f"uncommented key: {line}"


def test_config_overrides_and_errors(tmp_path):
    cfg = load_config(overrides=["detector.classes=person,car", "source.max_frames=5", "quiet=true"])
    assert cfg.detector.classes == "person,car" and cfg.source.max_frames == 5 and cfg.quiet
    assert parse_override("a.b.c=1") == {"a": {"b": {"c": 1}}}
    for bad in ("detector", "detector.conf", "nope.key=1", "detector.batch=1.5", "output.video=maybe"):
        with pytest.raises(UserError):
            load_config(overrides=[bad])
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("detector: [unclosed\n")
    with pytest.raises(UserError, match="not valid YAML"):
        load_config(str(bad_yaml))


def test_parse_classes():
    assert parse_classes("person,car", COCO80_NAMES) == [0, 2]
    assert parse_classes([2, "person"], COCO80_NAMES) == [0, 2]
    assert parse_classes(None, COCO80_NAMES) is None
    with pytest.raises(UserError, match="unicorn"):
        parse_classes("unicorn", COCO80_NAMES)
    with pytest.raises(UserError, match="999"):
        parse_classes("999", COCO80_NAMES)


def test_resolve_weights(tmp_path, monkeypatch):
    (tmp_path / "m.pt").write_bytes(b"x")
    monkeypatch.setenv("TRACKER_WEIGHTS_DIR", str(tmp_path))
    assert resolve_weights("m.pt") == str(tmp_path / "m.pt")
    assert resolve_weights("other.pt") == "other.pt"          # left to ultralytics' download
    monkeypatch.delenv("TRACKER_WEIGHTS_DIR")
    assert resolve_weights("m.pt", str(tmp_path)) == str(tmp_path / "m.pt")
