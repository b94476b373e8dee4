"""track(source, **options): every kind of source, ultralytics keyword names, your own detector."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from helpers import MOT17_MINI, SAMPLE_DETS, SAMPLE_VIDEO, YOLO11N, needs_shared, read_csv_rows
from tracker import Detections, FrameResult, UserError, track
from tracker.api import source_specs
from tracker.config import load_config
from tracker.sources.frames import FrameSource

SEQ = MOT17_MINI / "MOT17-09-FRCNN"


def video_frames(n: int) -> list:
    cap = cv2.VideoCapture(str(SAMPLE_VIDEO))
    frames = [cap.read()[1] for _ in range(n)]
    cap.release()
    return frames


class BoxDetector:
    """The detector protocol at its smallest: a fixed box that moves right 2 px per frame."""

    names = {0: "square"}

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, frames):
        self.calls += 1
        return [np.array([[10 + 2 * f.index, 10, 60 + 2 * f.index, 90, 0.9, 0]]) for f in frames]


def ids_per_frame(results) -> list:
    return [r.tracks.track_id.tolist() for r in results]


def test_path_object_and_string_give_the_same_tracks():
    by_str = list(track(str(SAMPLE_VIDEO), detections=str(SAMPLE_DETS), max_frames=20))
    by_path = list(track(Path(SAMPLE_VIDEO), detections=Path(SAMPLE_DETS), max_frames=20))
    assert len(by_path) == 20 and ids_per_frame(by_path) == ids_per_frame(by_str)
    assert sum(len(r.tracks) for r in by_path) > 0


def test_numpy_image_stack_list_and_generator():
    frames = video_frames(6)
    one = list(track(frames[0], detector=BoxDetector()))
    assert len(one) == 1 and one[0].frame.image.shape == frames[0].shape
    stacked = list(track(np.stack(frames), detector=BoxDetector()))
    listed = list(track(frames, detector=BoxDetector()))
    gen = list(track((f for f in frames), detector=BoxDetector(), fps=25))
    assert [r.frame_index for r in gen] == list(range(6))
    assert gen[-1].time_s == pytest.approx(5 / 25)
    assert listed[-1].time_s == pytest.approx(5 / 30)      # no fps: 30, like an image folder
    assert ids_per_frame(stacked) == ids_per_frame(listed) == ids_per_frame(gen)
    assert ids_per_frame(gen)[-1] == [1]                    # one object, one id throughout
    assert np.array_equal(gen[3].frame.image, frames[3])


def test_generator_is_read_lazily_and_closed_on_break():
    produced, closed = [], []

    def camera():
        try:
            for i in range(1000):
                produced.append(i)
                yield np.full((48, 64, 3), i % 255, np.uint8)
        finally:
            closed.append(True)

    results = track(camera(), detector=BoxDetector(), fps=10)
    for result in results:
        if result.frame_index == 4:
            break
    results.close()
    assert closed == [True]
    assert len(produced) < 100           # bounded queues: the reader stays a few frames ahead


def test_list_of_image_paths_and_a_single_image_path():
    images = sorted((SEQ / "img1").glob("*.jpg"))
    results = list(track([str(p) for p in images], detections=str(SEQ / "det" / "det.txt")))
    assert len(results) == len(images)
    assert results[0].frame.image.shape == cv2.imread(str(images[0])).shape
    single = list(track(images[0], detector=BoxDetector()))
    assert len(single) == 1


def test_max_frames_vid_stride_and_webcam_index():
    results = list(track(video_frames(10), detector=BoxDetector(), max_frames=3, vid_stride=2))
    assert [r.frame_index for r in results] == [0, 2, 4]
    cfg = load_config()
    assert source_specs(0, cfg) == ["0"]                    # a webcam index: opened as a live stream
    assert source_specs([str(SAMPLE_VIDEO), str(SAMPLE_VIDEO)], cfg) == [str(SAMPLE_VIDEO)] * 2
    assert isinstance(source_specs(video_frames(1)[0], cfg)[0], FrameSource)


def test_a_stream_url(tmp_path):
    from rtsp_server import free_port
    from test_stream_http import MjpegServer

    server = MjpegServer(free_port()).start()
    try:
        results = list(track(f"http://127.0.0.1:{server.port}/video.mjpg", detector=BoxDetector(),
                             max_frames=5))
    finally:
        server.stop()
    assert len(results) == 5 and all(r.frame.image.shape == (120, 160, 3) for r in results)


def test_unknown_keyword_is_a_type_error_naming_valid_ones():
    with pytest.raises(TypeError) as err:
        track(str(SAMPLE_VIDEO), confidence=0.4)
    message = str(err.value)
    assert "'confidence'" in message
    for name in ("conf", "iou", "imgsz", "classes", "device", "half", "tracker", "max_frames", "vid_stride", "save"):
        assert name in message
    with pytest.raises(TypeError):
        track(object())
    with pytest.raises(UserError, match="shape"):
        track(np.zeros((2, 2, 2, 2, 3), np.uint8))


def test_bad_frames_are_user_errors():
    with pytest.raises(UserError, match="grayscale"):
        list(track([np.zeros((40, 40), np.uint8)], detector=BoxDetector()))
    with pytest.raises(UserError, match="frame 1 is a int"):
        list(track([np.zeros((40, 40, 3), np.uint8), 3], detector=BoxDetector()))
    with pytest.raises(UserError, match="cannot read image"):
        list(track([np.zeros((40, 40, 3), np.uint8), "missing.jpg"], detector=BoxDetector()))
    with pytest.raises(UserError, match="one size"):
        list(track([np.zeros((40, 40, 3), np.uint8), np.zeros((50, 40, 3), np.uint8)], detector=BoxDetector()))


def test_save_defaults_off_and_writes_when_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    list(track(video_frames(3), detector=BoxDetector()))
    assert not (tmp_path / "runs").exists()
    list(track(video_frames(3), detector=BoxDetector(), save=True, project="p", name="n"))
    rows = read_csv_rows(tmp_path / "p" / "n" / "tracks.csv")
    assert {r["class_name"] for r in rows} == {"square"} and (tmp_path / "p" / "n" / "summary.json").is_file()


def test_stream_false_returns_a_list():
    results = track(video_frames(3), detector=BoxDetector(), stream=False)
    assert isinstance(results, list) and len(results) == 3 and isinstance(results[0], FrameResult)


def test_detector_variants_and_batching():
    det = BoxDetector()
    results = list(track(video_frames(8), detector=det, batch=4))
    assert len(results) == 8 and det.calls == 2                     # 4 frames per detect() call

    def as_function(frames):                                        # a plain function works too
        return [Detections(np.array([[5, 5, 40, 40]]), np.array([0.8]), np.array([3])) for _ in frames]

    results = list(track(video_frames(3), detector=as_function))
    assert results[-1].tracks.cls.tolist() == [3]

    def wrong_count(frames):
        return []

    with pytest.raises(ValueError, match="one per frame"):
        list(track(video_frames(2), detector=wrong_count))


@needs_shared
def test_ultralytics_keywords_with_yolo():
    """conf/classes/imgsz/max_frames/device as in model.track, and an ultralytics model object."""
    from ultralytics import YOLO

    strict = list(track(SEQ, model=str(YOLO11N), conf=0.5, classes=[0], imgsz=[640, 640], max_frames=2,
                        device="cpu", tracker="bytetrack"))
    assert len(strict) == 2 and sum(len(r.detections) for r in strict) > 0
    assert all((r.detections.score >= 0.5).all() and (r.detections.cls == 0).all() for r in strict)
    loose = list(track(SEQ, model=YOLO(str(YOLO11N)), conf=0.1, classes="person", max_frames=2, device="cpu",
                       tracker="bytetrack"))
    scores = np.concatenate([r.detections.score for r in loose])
    assert (scores < 0.5).any() and scores.min() >= 0.1
    assert all((r.detections.cls == 0).all() for r in loose) and loose[0].names[0] == "person"


@needs_shared
def test_cli_python_entry_takes_a_detector(tmp_path):
    from tracker.cli import main

    det = BoxDetector()
    code = main([str(SAMPLE_VIDEO), "--max-frames", "5", "--out", str(tmp_path / "o"), "--no-video"], detector=det)
    assert code == 0 and det.calls == 5
    rows = read_csv_rows(tmp_path / "o" / "tracks.csv")
    assert {r["class_name"] for r in rows} == {"square"} and {r["track_id"] for r in rows} == {"1"}
