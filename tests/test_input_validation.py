"""Input validation and robustness (issue 6) beyond the CLI corpus of tests/test_malformed_corpus.py.

Bad files end in one clear line and exit code 2; what a detector produces is cleaned before it can
hurt the tracker (NaN dropped and counted, boxes clipped); huge frames (10,000 boxes) complete.
"""
from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from helpers import (SAMPLE_DETS, SAMPLE_VIDEO, assert_logs_agree, assert_one_line_error, read_csv_rows,
                     run_track, video_info)
from tracker.config import load_config
from tracker.errors import UserError
from tracker.formats.mot import parse_det_rows, parse_det_text
from tracker.pipeline import Pipeline, clean_detections
from tracker.sinks import CsvSink, MotSink
from tracker.sources.file import VideoFileSource, open_file_source
from tracker.trackers import DEFAULT_TRACKER, TRACKER_NAMES, make_tracker
from tracker.types import Detections

ROW = "1,-1,10,20,30,40,0.9"


# -- det files (parser level; the CLI path of each reason is in test_malformed_corpus.py) -----------------------
@pytest.mark.parametrize("text,line,fragment", [
    (f"{ROW}\n{ROW},1,1\n", 2, "columns"),                         # more columns than earlier rows
    (f"{ROW}\n\n# note\n1,-1,10,20,30\n", 4, "columns"),          # line numbers count blank/comment lines
    ("nan,-1,10,20,30,40,0.9\n", 1, "nan"),
    ("1,-1,10,20,30,40,nan\n", 1, "nan"),                          # NaN score
    ("1,-1,-inf,20,30,40,0.9\n", 1, "infinite"),
    ("1,-1,10,20,30,1e999,0.9\n", 1, "infinite"),                  # overflows to inf
    ("1,-1,10,20,30,-40,0.9\n", 1, "positive"),                    # negative height
    ("1,-1,10,20,30,0,0.9\n", 1, "positive"),                      # zero height
    ("0,-1,10,20,30,40,0.9\n", 1, ">= 1"),                         # frames are 1-based
    ("-3,-1,10,20,30,40,0.9\n", 1, ">= 1"),
    ("1,-1,1e39,20,30,40,0.9\n", 1, "out of range"),               # beyond float32: would be an inf box
    ("1,-1,1e30,20,1,40,0.9\n", 1, "out of range"),                # width lost to float32 rounding
])
def test_det_rows_rejected_with_file_and_line(text, line, fragment):
    with pytest.raises(UserError) as err:
        parse_det_rows(text, "det.txt")
    msg = str(err.value)
    assert f"det.txt:{line}:" in msg and fragment in msg.lower(), msg
    assert "\n" not in msg


def test_det_frames_beyond_the_source():
    text = "1,-1,10,20,30,40,0.9\n10,-1,10,20,30,40,0.9\n"
    assert sorted(parse_det_text(text, "det.txt", max_frame=10)) == [1, 10]    # the last frame is fine
    with pytest.raises(UserError, match=r"det.txt:2: frame 10 is beyond the source's 9 frames"):
        parse_det_text(text, "det.txt", max_frame=9)


def test_det_file_variants_that_are_valid():
    text = "# frame,id,x,y,w,h,score\r\n\r\n1 -1 10 20 30 40 0.9\r\n1\t-1\t0\t0\t5\t5\t0.1\r\n3,-1,1,1,5,5,1,-1,-1,-1\r\n"
    with pytest.raises(UserError, match="columns"):      # 7 then 10 columns: rows of unequal length
        parse_det_text(text, "det.txt")
    dets = parse_det_text(text.replace(",-1,-1,-1", ""), "det.txt")
    assert sorted(dets) == [1, 3] and len(dets[1]) == 2
    assert dets[1].xyxy.tolist() == [[10, 20, 40, 60], [0, 0, 5, 5]]


def test_det_frames_beyond_an_image_folder_via_cli(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i:04d}.png"), np.full((48, 64, 3), 40 * i, np.uint8))
    det = tmp_path / "det.txt"
    det.write_text("1,-1,1,1,10,10,0.9\n4,-1,1,1,10,10,0.9\n")
    assert_one_line_error(run_track(folder, "--detections", det, "--out", tmp_path / "o"), "det.txt:2", "beyond")


# -- configs ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("yaml_text,key", [
    ("output:\n  nosuch: 1\n", "output.nosuch"),
    ("outputs:\n  video: false\n", "outputs"),
    ("detector:\n  conf: high\n", "detector.conf"),
    ("detector:\n  batch: true\n", "detector.batch"),                # a bool is not an int
    ("source:\n  max_frames: 1.5\n", "source.max_frames"),
    ("output:\n  video: [1]\n", "output.video"),
    ("stream:\n  read_timeout_s: soon\n", "stream.read_timeout_s"),
    ("quiet: 3\n", "quiet"),
    ("detector: 5\n", "detector"),
])
def test_config_file_errors_name_the_key(tmp_path, yaml_text, key):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml_text)
    with pytest.raises(UserError) as err:
        load_config(str(cfg))
    assert f"'{key}'" in str(err.value), str(err.value)


@pytest.mark.parametrize("item,key", [
    ("detector.imgsz=big", "detector.imgsz"),
    ("output.video=maybe", "output.video"),
    ("source.vid_stride=2.5", "source.vid_stride"),
    ("reid.half=1", "reid.half"),
    ("nosuch.key=1", "nosuch"),
    ("detector.conf.deep=1", "detector.conf"),
])
def test_set_override_errors_name_the_key(item, key):
    with pytest.raises(UserError) as err:
        load_config(overrides=[item])
    assert key in str(err.value), str(err.value)


@pytest.mark.parametrize("item,key", [
    ("source.vid_stride=0", "source.vid_stride"),
    ("source.max_frames=-3", "source.max_frames"),     # would silently drop the last 3 images
    ("source.fps=-5", "source.fps"),
    ("detector.conf=1.5", "detector.conf"),
    ("detector.conf=.nan", "detector.conf"),
    ("detector.iou=-0.1", "detector.iou"),
    ("detector.imgsz=0", "detector.imgsz"),
    ("detector.batch=0", "detector.batch"),
    ("stream.read_timeout_s=0", "stream.read_timeout_s"),
    ("stream.reconnect_max=-1", "stream.reconnect_max"),
    ("output.trails=-4", "output.trails"),
])
def test_out_of_range_values_name_the_key(item, key):
    with pytest.raises(UserError, match=f"config key '{key}' must be"):
        load_config(overrides=[item])


def test_config_values_are_coerced_to_their_type():
    cfg = load_config(overrides=["detector.conf=1", "detector.imgsz=1280.0", "detector.classes=[person, car]"])
    assert cfg.detector.conf == 1.0 and isinstance(cfg.detector.conf, float)
    assert cfg.detector.imgsz == 1280 and isinstance(cfg.detector.imgsz, int)
    assert cfg.detector.classes == "person,car"


# (the CLI paths of these, and of tracker options, are cases of tests/test_malformed_corpus.py)


# -- videos -----------------------------------------------------------------------------------------------
def _mjpeg_with_size_change(path, sizes=((160, 120),) * 10 + ((200, 150),) * 10):
    """A real video file whose resolution changes mid-stream: concatenated JPEG frames (raw MJPEG)."""
    rng = np.random.default_rng(1)
    with open(path, "wb") as fh:
        for w, h in sizes:
            ok, jpg = cv2.imencode(".jpg", rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
            fh.write(jpg.tobytes())
    return path


def test_video_whose_resolution_changes_mid_stream(tmp_path):
    """OpenCV's FFmpeg reader scales every frame of a stream to the stream's first size, so the change
    never reaches the pipeline: the run completes, every output frame has one size, no frame is lost."""
    video = _mjpeg_with_size_change(tmp_path / "mixed.mjpeg")
    det = tmp_path / "det.txt"
    det.write_text("1,-1,10,10,40,40,0.9\n15,-1,150,100,40,40,0.9\n")
    out = tmp_path / "o"
    proc = run_track(video, "--detections", det, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert (video_info(out / "mixed.mp4")) == (20, 160, 120)
    rows = assert_logs_agree(out)
    assert all(float(r["x2"]) <= 160 and float(r["y2"]) <= 120 for r in rows)


class _ResizingCapture:
    """Stands in for cv2.VideoCapture where a backend hands out frames of a new size mid-stream
    (OpenCV's own FFmpeg reader never does: see the test above)."""

    def __init__(self, sizes):
        self.sizes = list(sizes)

    def read(self):
        if not self.sizes:
            return False, None
        w, h = self.sizes.pop(0)
        return True, np.zeros((h, w, 3), np.uint8)

    def grab(self):
        return bool(self.sizes)

    def release(self):
        pass


def test_video_source_refuses_frames_of_a_new_size(tmp_path):
    src = VideoFileSource(str(_mjpeg_with_size_change(tmp_path / "v.mjpeg")))
    src.cap = _ResizingCapture([(160, 120)] * 3 + [(200, 150)])
    frames = []
    with pytest.raises(UserError, match=r"changes resolution at frame 4 \(160x120 → 200x150\)"):
        for f in src:
            frames.append(f.index)
    assert frames == [0, 1, 2]


@pytest.mark.parametrize("fourcc,ext,fragment", [("mp4v", ".mp4", "video"), ("MJPG", ".avi", "zero-frame")])
def test_zero_frame_video(tmp_path, fourcc, ext, fragment):
    video = tmp_path / f"zero{ext}"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*fourcc), 25, (64, 48))
    assert writer.isOpened()
    writer.release()                 # a valid container with no frame in it
    assert video.stat().st_size > 0
    proc = run_track(video, "--detections", SAMPLE_DETS, "--out", tmp_path / "o")
    assert_one_line_error(proc, fragment)


# -- image folders ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,fragment", [
    ("gray", "grayscale"),
    ("gray16", "uint16"),
    ("bgr16", "uint16"),
    ("mixed", "all frames must share one size"),
    ("gray_later", "grayscale"),     # only the 3rd image is grayscale: found mid-run
])
def test_image_folder_policies(tmp_path, kind, fragment):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(4):
        image = np.full((48, 64, 3), 30 * i, np.uint8)
        if kind == "gray" or (kind == "gray_later" and i == 2):
            image = image[:, :, 0]
        elif kind == "gray16":
            image = np.full((48, 64), 1000 * i, np.uint16)
        elif kind == "bgr16":
            image = np.full((48, 64, 3), 1000 * i, np.uint16)
        elif kind == "mixed" and i == 3:
            image = np.full((60, 80, 3), 7, np.uint8)
        assert cv2.imwrite(str(folder / f"{i:04d}.png"), image)
    det = tmp_path / "det.txt"
    det.write_text("1,-1,1,1,10,10,0.9\n")
    out = tmp_path / "o"
    proc = run_track(folder, "--detections", det, "--out", out)
    assert_one_line_error(proc, fragment)
    if kind in ("mixed", "gray_later"):   # refused mid-run: the frames before it are finished and valid
        good = 3 if kind == "mixed" else 2
        rows = read_csv_rows(out / "tracks.csv")
        assert all(int(r["frame"]) <= good for r in rows)
        assert video_info(out / "frames.mp4") == (good, 64, 48), "the video is finalised"


def test_image_folder_with_alpha_is_converted(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i:04d}.png"), np.full((48, 64, 4), 60 * i, np.uint8))
    det = tmp_path / "det.txt"
    det.write_text("1,-1,1,1,10,10,0.9\n")
    proc = run_track(folder, "--detections", det, "--out", tmp_path / "o")
    assert proc.returncode == 0, proc.stderr
    assert video_info(tmp_path / "o" / "frames.mp4") == (3, 64, 48)


# -- detector output: NaN, boxes outside the frame, 10,000 boxes ---------------------------------------------
class ScriptedDetector:
    """A detector whose output per frame is given by a function: stands in for a model that misbehaves."""

    names = {0: "person", 1: "car"}

    def __init__(self, make):
        self.make = make

    def detect(self, frames):
        return [self.make(f) for f in frames]


class WatchedTracker:
    """The real tracker, plus a check after every update that its Kalman state stayed finite."""

    def __init__(self, name=DEFAULT_TRACKER):
        self.inner = make_tracker(name, frame_rate=25.0)
        self.max_dets = 0

    def update(self, dets, image=None):
        assert np.isfinite(dets.xyxy).all() and np.isfinite(dets.score).all(), "NaN reached the tracker"
        self.max_dets = max(self.max_dets, len(dets))
        tracks = self.inner.update(dets, image)
        table = self.inner.tracks
        assert np.isfinite(table.mean).all() and np.isfinite(table.cov).all(), "NaN in the Kalman filter"
        return tracks


def _bad_boxes(frame):
    """Per frame: 3 good boxes (one partly outside), and 4 that must be dropped."""
    k = frame.index
    good = [[100 + 2 * k, 100, 160 + 2 * k, 220], [300, 50 + k, 360, 170 + k], [-30, 200, 40, 330]]
    bad = [[np.nan, 10, 50, 50], [20, 20, 60, 60],           # NaN box, NaN score
           [700, 400, 800, 500], [50, 50, 50, 90]]           # fully outside, zero width
    score = [0.9, 0.8, 0.85, 0.9, np.nan, 0.9, 0.9]
    return Detections(np.asarray(good + bad, np.float32), score, [0, 1, 0, 0, 0, 0, 0])


def test_nan_boxes_are_dropped_counted_and_never_reach_the_kalman_filter(tmp_path):
    source = open_file_source(str(SAMPLE_VIDEO), max_frames=30)   # 640x360
    trackers = []

    def tracker_for(src):
        trackers.append(WatchedTracker())
        return trackers[-1]

    sinks = lambda src: [CsvSink(tmp_path / "tracks.csv", ScriptedDetector.names), MotSink(tmp_path / "tracks.txt")]
    pipe = Pipeline([source], ScriptedDetector(_bad_boxes), tracker_for, sinks_factory=sinks)
    results = list(pipe)
    assert len(results) == 30
    assert pipe.stats["detections_dropped"] == 4 * 30
    for r in results:
        d = r.detections
        assert len(d) == 3 and np.isfinite(d.xyxy).all()
        # clipped to the 640x360 frame
        assert (d.xyxy[:, [0, 2]] >= 0).all() and (d.xyxy[:, [0, 2]] <= 640).all()
        assert (d.xyxy[:, [1, 3]] >= 0).all() and (d.xyxy[:, [1, 3]] <= 360).all()
        assert d.xyxy[2].tolist() == [0, 200, 40, 330]
        assert np.isfinite(r.tracks.xyxy).all()
    assert len(results[-1].tracks) == 3, "the three good objects are tracked"
    assert_logs_agree(tmp_path)
    assert "nan" not in (tmp_path / "tracks.csv").read_text().lower()


def test_clean_detections_drops_nan_embeddings_and_counts():
    feat = np.eye(4, 8, dtype=np.float32)
    feat[1, 3] = np.nan
    dets = Detections([[0, 0, 10, 10], [5, 5, 20, 20], [1, 1, 2, 2], [-5, -5, -1, -1]], [0.9] * 4, [0] * 4, feat)
    clean, dropped = clean_detections(dets, 100, 100)
    assert dropped == 2 and len(clean) == 2          # NaN embedding; box fully outside the image
    assert clean.feat.shape == (2, 8) and np.isfinite(clean.feat).all()


def test_inf_box_from_a_model_is_dropped_not_clipped():
    """Clipping must not turn an inf coordinate into a plausible box along the frame edge."""
    dets = Detections([[10, 10, np.inf, 50], [-np.inf, 0, 20, 20], [0, 0, 10, 10]], [0.9] * 3, [0] * 3)
    clean, dropped = clean_detections(dets, 640, 360)
    assert dropped == 2 and clean.xyxy.tolist() == [[0, 0, 10, 10]]


def _many_boxes(n, seed, w=640, h=360):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, [w - 20, h - 20], size=(n, 2))
    wh = rng.uniform(2, 20, size=(n, 2))
    return Detections(np.hstack([xy, xy + wh]).astype(np.float32), rng.uniform(0.05, 1, n), rng.integers(0, 3, n))


def _run_frames(name, frames):
    trk = make_tracker(name, frame_rate=25.0)
    t0 = time.perf_counter()
    for dets in frames:
        tracks = trk.update(dets, None)
        assert len(np.unique(tracks.track_id)) == len(tracks)
        assert np.isfinite(tracks.xyxy).all()
    return time.perf_counter() - t0


@pytest.mark.parametrize("name", TRACKER_NAMES)
def test_ten_thousand_detections_in_one_frame(name):
    """A frame with 10,000 boxes (a crowd, or a broken model) mid-sequence completes; ids stay unique."""
    small = [_many_boxes(12, s) for s in range(3)]
    assert _run_frames(name, small + [_many_boxes(10_000, 1)] + small) < 30


def test_ten_thousand_detections_in_the_first_frame():
    """10,000 new tracks at once (all confirmed on the first frame), then ordinary frames."""
    assert _run_frames(DEFAULT_TRACKER, [_many_boxes(10_000, 0)] + [_many_boxes(12, s) for s in range(3)]) < 30


def test_ten_thousand_detections_through_the_pipeline(tmp_path):
    from tracker.sinks import BackgroundSink, VideoSink

    source = open_file_source(str(SAMPLE_VIDEO), max_frames=6)
    detector = ScriptedDetector(lambda f: _many_boxes(10_000 if f.index == 2 else 15, f.index))
    trackers = []

    def tracker_for(src):
        trackers.append(WatchedTracker())
        return trackers[-1]

    def sinks(src):
        return [CsvSink(tmp_path / "tracks.csv", ScriptedDetector.names), MotSink(tmp_path / "tracks.txt"),
                BackgroundSink(VideoSink(tmp_path / "out.mp4", 25, ScriptedDetector.names))]

    results = list(Pipeline([source], detector, tracker_for, sinks_factory=sinks))
    assert len(results) == 6 and trackers[0].max_dets == 10_000
    assert_logs_agree(tmp_path)
    assert video_info(tmp_path / "out.mp4") == (6, 640, 360)
