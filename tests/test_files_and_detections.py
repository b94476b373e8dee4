"""Wrong results with exit 0, and tiny frames (issue 15, items 7, 8, 10), through the real CLI.

- image folders and MOT ``img1/`` are read in natural order (1, 2, ..., 10), not text order;
- ``--classes`` is applied to a det file with a class column (and to one without: all persons);
  ``summary.json`` and ``config.yaml`` name the precomputed detector;
- 1x1 videos and images run with the default tracker (its camera-motion step skips tiny frames).
The refusals (misspelt class, a filter that keeps nothing, one det file for two sources) are in the
malformed-input corpus, ``tests/test_malformed_corpus.py``.
"""
from __future__ import annotations

import json

import cv2
import numpy as np

from helpers import (SAMPLE_DETS, SAMPLE_VIDEO, YOLO11N, assert_logs_agree, needs_shared, read_csv_rows,
                     run_track, video_info)

N_IMAGES = 12


def _numbered_images(folder, ext=".png"):
    """Images 1..12 named without zero padding; image k has brightness 20 * k."""
    folder.mkdir(parents=True)
    for k in range(1, N_IMAGES + 1):
        assert cv2.imwrite(str(folder / f"{k}{ext}"), np.full((48, 64, 3), 20 * k, np.uint8))
    return folder


def _frame_brightness(video):
    cap = cv2.VideoCapture(str(video))
    means = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        means.append(float(image.mean()))
    cap.release()
    return means


def _assert_natural_order(video):
    means = _frame_brightness(video)
    assert len(means) == N_IMAGES
    # text order would be 1, 10, 11, 12, 2, ...: frame 2 would be image 10 (brightness 200)
    assert np.allclose(means, [20 * k for k in range(1, N_IMAGES + 1)], atol=6), [round(m) for m in means]


def test_image_folder_is_read_in_natural_order(tmp_path):
    folder = _numbered_images(tmp_path / "frames")
    det = tmp_path / "det.txt"
    det.write_text("")   # no boxes: nothing drawn over the frames
    proc = run_track(folder, "--detections", det, "--out", tmp_path / "o")
    assert proc.returncode == 0, proc.stderr
    _assert_natural_order(tmp_path / "o" / "frames.mp4")


def test_mot_img1_folder_is_read_in_natural_order(tmp_path):
    seq = tmp_path / "SEQ-01"
    _numbered_images(seq / "img1", ".jpg")
    (seq / "seqinfo.ini").write_text(f"[Sequence]\nname=SEQ-01\nimDir=img1\nframeRate=10\nseqLength={N_IMAGES}\n"
                                     "imWidth=64\nimHeight=48\nimExt=.jpg\n")
    det = tmp_path / "det.txt"
    det.write_text("")   # no boxes: nothing drawn over the frames
    proc = run_track(seq, "--detections", det, "--out", tmp_path / "o")
    assert proc.returncode == 0, proc.stderr
    _assert_natural_order(tmp_path / "o" / "SEQ-01.mp4")


def _with_class_column(tmp_path):
    """The sample det file with a class column: every second row a car (2), the others persons."""
    rows = [line.split(",")[:7] for line in SAMPLE_DETS.read_text().splitlines() if line.strip()]
    det = tmp_path / "det_cls.txt"
    det.write_text("".join(",".join(r + [str(2 if i % 2 else 0)]) + "\n" for i, r in enumerate(rows)))
    return det


def test_classes_filter_a_det_file_with_a_class_column(tmp_path):
    det = _with_class_column(tmp_path)
    runs = {}
    for name, extra in (("all", []), ("car", ["--classes", "2"])):   # a COCO id: 2 = car
        proc = run_track(SAMPLE_VIDEO, "--detections", det, "--no-video", "--max-frames", 60, *extra,
                         "--out", tmp_path / name)
        assert proc.returncode == 0, proc.stderr
        runs[name] = read_csv_rows(tmp_path / name / "tracks.csv")
        assert_logs_agree(tmp_path / name)
    assert {r["class_name"] for r in runs["all"]} == {"person", "car"}
    assert runs["car"] and {(r["class_id"], r["class_name"]) for r in runs["car"]} == {("2", "car")}
    summary = json.loads((tmp_path / "car" / "summary.json").read_text())
    assert summary["detector"] == {"name": "precomputed", "detections": str(det), "class_column": True}


def test_classes_person_on_a_det_file_without_a_class_column_keeps_every_box(tmp_path):
    for name, extra in (("plain", []), ("person", ["--classes", "person"])):
        proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--no-video", "--max-frames", 40, *extra,
                         "--out", tmp_path / name)
        assert proc.returncode == 0, proc.stderr
    assert read_csv_rows(tmp_path / "plain" / "tracks.csv") == read_csv_rows(tmp_path / "person" / "tracks.csv")
    summary = json.loads((tmp_path / "person" / "summary.json").read_text())
    assert summary["detector"]["name"] == "precomputed" and summary["detector"]["class_column"] is False
    assert summary["options"]["detector"]["name"] == "precomputed"     # was "yolo"
    assert "name: precomputed" in (tmp_path / "person" / "config.yaml").read_text()


def test_one_det_file_per_source(tmp_path):
    """``--detections a.txt,b.txt``: each source is tracked on its own file (streams-first pairing
    included: the folder is given first here, the video second)."""
    folder = _numbered_images(tmp_path / "frames")
    folder_det = tmp_path / "frames_det.txt"
    folder_det.write_text("".join(f"{k},-1,5,5,20,20,0.9\n" for k in range(1, N_IMAGES + 1)))
    out = tmp_path / "o"
    proc = run_track(folder, SAMPLE_VIDEO, "--detections", f"{folder_det},{SAMPLE_DETS}", "--no-video",
                     "--max-frames", 30, "--out", out)
    assert proc.returncode == 0, proc.stderr
    frames_rows = read_csv_rows(out / "frames" / "tracks.csv")
    assert {(r["x1"], r["y1"], r["x2"], r["y2"]) for r in frames_rows} == {("5.00", "5.00", "25.00", "25.00")}
    video_rows = read_csv_rows(out / "crossing" / "tracks.csv")
    assert len({r["track_id"] for r in video_rows}) >= 3
    summary = json.loads((out / "summary.json").read_text())["sources"]
    assert summary["frames"]["detector"]["detections"] == str(folder_det)
    assert summary["crossing"]["detector"]["detections"] == str(SAMPLE_DETS)


def _one_pixel_frames(n=6):
    return [np.full((1, 1, 3), 30 * k, np.uint8) for k in range(n)]


def test_one_pixel_video_with_the_default_tracker(tmp_path):
    video = tmp_path / "dot.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (1, 1))
    assert writer.isOpened()
    for image in _one_pixel_frames():
        writer.write(image)
    writer.release()
    det = tmp_path / "det.txt"
    det.write_text("".join(f"{k},-1,0,0,1,1,0.9\n" for k in range(1, 7)))
    out = tmp_path / "o"
    proc = run_track(video, "--detections", det, "--out", out)     # default tracker: botsort with GMC
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    rows = assert_logs_agree(out)
    assert len(rows) >= 4 and {r["track_id"] for r in rows} == {"1"}
    assert json.loads((out / "summary.json").read_text())["frames"] == 6


@needs_shared
def test_one_pixel_images_with_the_default_detector_and_tracker(tmp_path):
    folder = tmp_path / "dots"
    folder.mkdir()
    for k, image in enumerate(_one_pixel_frames()):
        cv2.imwrite(str(folder / f"{k}.png"), image)
    out = tmp_path / "o"
    proc = run_track(folder, "--model", YOLO11N, "--out", out)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert json.loads((out / "summary.json").read_text())["frames"] == 6
    assert video_info(next(out.glob("dots.*")))[0] == 6
