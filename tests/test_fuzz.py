"""Fuzzing (hypothesis) of the parsers users feed by hand: det files and configs.

Contract: whatever the input, the parsers either return a valid value or raise ``UserError`` (the
one-line, exit-code-2 error) — never a ``ValueError``/``IndexError``/``OverflowError`` traceback.
What they accept is valid: finite boxes of positive size, frames >= 1 in order, typed config.
"""
from __future__ import annotations

import dataclasses
import tempfile
import typing
from pathlib import Path
from typing import Optional

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tracker.config import _RANGES, Config, load_config, parse_override
from tracker.errors import UserError
from tracker.formats.mot import parse_det_rows, parse_det_text, read_det_file
from tracker.trackers import TRACKER_NAMES, make_tracker
from tracker.trackers.registry import TRACKERS
from tracker.types import Detections

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- det files ---------------------------------------------------------------------------------------
NUMBER_TOKENS = ["0", "1", "-1", "2", "10", "1.5", "-0", "0.0", "1e3", "1e-50", "1e39", "3.4e38", "-3e38",
                 "1e309", "-1e309", "nan", "NaN", "inf", "-inf", "Infinity", "+5", "1_000", "0x10", "",
                 "abc", "1,2", "١٢", "9" * 30, "9223372036854775808", "4.9e-324", " ", "\x00", "é", "--1"]
token = st.one_of(st.sampled_from(NUMBER_TOKENS), st.floats().map(repr), st.integers().map(str),
                  st.text(max_size=4))
det_line = st.lists(token, min_size=0, max_size=12).flatmap(
    lambda parts: st.sampled_from([",", ", ", " ", "\t", ",,"]).map(lambda sep: sep.join(parts)))
plausible_line = st.tuples(st.integers(-2, 60), st.sampled_from(["-1", "3"]), token, token,
                           st.one_of(token, st.floats(-5, 100).map(repr)),
                           st.one_of(token, st.floats(-5, 100).map(repr)),
                           st.one_of(token, st.floats(0, 1).map(repr))).map(
    lambda t: ",".join(str(x) for x in t))
det_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(det_line, plausible_line, st.just("# comment"), st.just("")), max_size=15).map(
        lambda lines: "\n".join(lines)),
    st.lists(plausible_line, max_size=20).map(lambda lines: "\r\n".join(lines) + "\n"),
)


def _check_accepted(dets: dict, max_frame) -> None:
    for frame, d in dets.items():
        assert isinstance(frame, int) and frame >= 1
        assert max_frame is None or frame <= max_frame
        assert len(d) > 0
        assert np.isfinite(d.xyxy).all() and np.isfinite(d.score).all()
        assert (d.xyxy[:, 2] > d.xyxy[:, 0]).all() and (d.xyxy[:, 3] > d.xyxy[:, 1]).all()


@FUZZ
@given(det_text, st.one_of(st.none(), st.integers(0, 100)))
def test_det_parser_raises_only_user_error(text, max_frame):
    try:
        dets = parse_det_text(text, "fuzz.txt", max_frame=max_frame)
    except UserError as err:
        assert "\n" not in str(err) and "fuzz.txt" in str(err)
        return
    _check_accepted(dets, max_frame)


@FUZZ
@given(det_text, st.integers(1, 10))
def test_det_rows_parser_raises_only_user_error(text, min_cols):
    try:
        rows = parse_det_rows(text, "fuzz.txt", min_cols=min_cols)
    except UserError:
        return
    assert rows.ndim == 2 and rows.shape[1] >= min_cols and np.isfinite(rows).all()
    if len(rows):
        assert (np.diff(rows[:, 0]) >= 0).all() and (rows[:, 0] >= 1).all()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_det_file_reader_on_random_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "det.txt"
        path.write_bytes(data)
        try:
            dets = read_det_file(path)
        except UserError:
            return
    _check_accepted(dets, None)


# -- configs -------------------------------------------------------------------------------------------
SECTIONS = ["detector", "tracker", "reid", "source", "stream", "output", "quiet", "junk", "", "1"]
KEYS = ["name", "model", "conf", "imgsz", "classes", "half", "batch", "max_frames", "vid_stride", "fps",
        "realtime", "reconnect_max", "read_timeout_s", "dir", "video", "trails", "segment", "track_buffer",
        "match_thresh", "nosuchkey", "per_class", ""]
scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10),
                   st.sampled_from(["0", "yes", "null", "~", "[1", "{a: 1}", "1e400", ".inf", "-.inf", ".nan",
                                    "person,car", "2020-01-01", "!!binary aGk=", "&a [*a]", "'q'"]))
value = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)),
                     max_leaves=6)
config_data = st.one_of(
    st.dictionaries(st.sampled_from(SECTIONS),
                    st.one_of(scalar, st.dictionaries(st.sampled_from(KEYS), value, max_size=4)), max_size=4),
    value,
)
override = st.one_of(
    st.text(max_size=40),
    st.tuples(st.sampled_from(SECTIONS), st.sampled_from(KEYS + ["a.b"]), scalar).map(
        lambda t: f"{t[0]}.{t[1]}={t[2]}"),
    st.tuples(st.sampled_from(SECTIONS), st.sampled_from(KEYS), st.text(max_size=12)).map(
        lambda t: f"{t[0]}.{t[1]}={t[2]}"),
)


def _check_config(cfg: Config) -> None:
    assert isinstance(cfg, Config)
    d = cfg.detector
    assert isinstance(d.conf, float) and isinstance(d.imgsz, int) and not isinstance(d.imgsz, bool)
    assert (d.half is None or isinstance(d.half, bool)) and isinstance(cfg.output.video, bool) and isinstance(cfg.quiet, bool)
    assert d.model is None or isinstance(d.model, str)
    assert isinstance(cfg.tracker.name, str) and isinstance(cfg.tracker.params, dict)
    assert cfg.source.max_frames is None or isinstance(cfg.source.max_frames, int) and cfg.source.max_frames >= 1
    assert cfg.source.vid_stride >= 1 and d.batch >= 1 and d.imgsz > 0 and cfg.output.trails >= 0
    assert 0 <= d.conf <= 1 and 0 <= d.iou <= 1
    assert cfg.source.fps is None or cfg.source.fps > 0


@FUZZ
@given(st.lists(override, max_size=3))
def test_overrides_raise_only_user_error(items):
    try:
        for item in items:
            assert isinstance(parse_override(item), dict)
        cfg = load_config(overrides=items)
    except UserError as err:
        assert "\n" not in str(err)
        return
    _check_config(cfg)


@FUZZ
@given(st.one_of(config_data.map(lambda d: yaml.safe_dump(d, allow_unicode=True)), st.text(max_size=200),
                 st.binary(max_size=100)))
def test_config_files_raise_only_user_error(content):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cfg.yaml"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        try:
            cfg = load_config(str(path))
        except UserError as err:
            assert "\n" not in str(err)
            return
    _check_config(cfg)


@settings(max_examples=100, deadline=None)
@example("botsort", {"track_buffer": 1e308})     # was an OverflowError (issue 15): fails on old code
@example("bytetrack", {"track_buffer": "1e308"})  # the same value as --set or a YAML file gives it
@given(st.sampled_from(TRACKER_NAMES),
       st.dictionaries(st.sampled_from(["track_buffer", "match_thresh", "min_hits", "per_class", "nsa",
                                        "output_box", "nosuchkey", "det_thresh"]), scalar,
                       max_size=3))
def test_tracker_options_raise_only_user_error(name, params):
    """``--set tracker.KEY=VALUE`` reaches the tracker registry: bad values must be UserErrors too."""
    try:
        make_tracker(name, overrides=params)
    except UserError as err:
        assert "\n" not in str(err)


# every numeric option of every tracker, with any number: built and run on two frames, or one UserError
NUMERIC_TRACKER_OPTIONS = sorted(
    (name, f.name) for name in TRACKER_NAMES for f in dataclasses.fields(TRACKERS[name].config_class)
    if type(f.default) in (int, float))
any_number = st.one_of(st.integers(), st.floats(), st.integers().map(str), st.floats().map(repr),
                       st.sampled_from([1e308, "1e308", -1e308, 2**63, 1e9 + 1, "1e3"]))


@settings(max_examples=100, deadline=None)
@example(("botsort", "track_buffer"), 1e308)
@example(("sort", "report_lost_frames"), "1e308")
@example(("botsort", "gmc_downscale"), 10**9)      # downscales a frame to nothing
@given(st.sampled_from(NUMERIC_TRACKER_OPTIONS), any_number)
def test_any_number_for_any_tracker_option(option, number):
    name, key = option
    try:
        trk = make_tracker(name, overrides={key: number}, frame_rate=25.0)
    except UserError as err:
        assert "\n" not in str(err) and key in str(err)
        return
    image = np.zeros((48, 64, 3), np.uint8)
    dets = Detections([[4, 4, 20, 30], [30, 8, 50, 40]], [0.9, 0.4], [0, 0], np.eye(2, 8, dtype=np.float32))
    for _ in range(2):
        tracks = trk.update(dets, image)
        assert np.isfinite(tracks.xyxy).all()


# every numeric key of the run config, with any number: a value in its range, or one UserError
NUMERIC_CONFIG_KEYS = sorted(_RANGES)


@FUZZ
@example("detector.threads", 1e308)
@example("stream.read_timeout_s", "1e308")    # int(1e308 * 1000) ms for OpenCV overflowed
@given(st.sampled_from(NUMERIC_CONFIG_KEYS), any_number)
def test_any_number_for_any_config_key(key, number):
    section, name = key.split(".")
    try:
        cfg = load_config(overrides=[f"{key}={number}"])
    except UserError as err:
        assert "\n" not in str(err) and key in str(err)
        return
    value = getattr(getattr(cfg, section), name)
    low, high = _RANGES[key][:2]
    assert low <= value <= high and type(value) is type(getattr(getattr(Config(), section), name) or value)


def test_every_numeric_config_key_has_a_range():
    """A numeric key added later without a range would let 1e308 through again."""
    cfg = Config()
    sections = [f.name for f in dataclasses.fields(Config) if dataclasses.is_dataclass(getattr(cfg, f.name))]
    numeric = {f"{section}.{k}" for section in sections
               for k, hint in typing.get_type_hints(type(getattr(cfg, section))).items()
               if hint in (int, float, Optional[int], Optional[float])}
    assert "detector.imgsz" in numeric and "stream.read_timeout_s" in numeric
    assert numeric == set(_RANGES)


@pytest.mark.parametrize("value", [float("inf"), "1e400"])
def test_tracker_option_infinite_value_is_a_user_error(value):
    with pytest.raises(UserError, match="track_buffer"):
        make_tracker("bytetrack", overrides={"track_buffer": value})
