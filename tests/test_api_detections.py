"""Tracker.update with every kind of detections, the adapters, Tracks.detected / to_supervision,
the 'detected' column of tracks.csv, draw_tracks, and ultralytics tracker YAMLs."""
from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from helpers import MOT17_MINI, SAMPLE_DETS, SAMPLE_VIDEO, YOLO11N, needs_shared, read_csv_rows, run_track
from tracker import Detections, Tracks, draw_tracks, id_color, make_tracker, track
from tracker.sinks.draw import PALETTE, place_labels

SEQ = MOT17_MINI / "MOT17-09-FRCNN"
ULTRALYTICS_TRACKERS = Path(__import__("ultralytics").__file__).parent / "cfg" / "trackers"

ROWS6 = np.array([[10, 20, 50, 120, 0.9, 0], [200, 40, 260, 160, 0.8, 2], [400, 60, 430, 90, 0.3, 1]],
                 np.float32)


def moving(rows: np.ndarray, frame: int) -> np.ndarray:
    out = rows.copy()
    out[:, [0, 2]] += 3 * frame
    return out


def run_frames(make_input, n=5) -> list:
    trk = make_tracker("bytetrack")
    return [trk.update(make_input(moving(ROWS6, f))) for f in range(n)]


def same_tracks(a: list, b: list) -> bool:
    return all(np.array_equal(x.track_id, y.track_id) and np.allclose(x.xyxy, y.xyxy) and
               np.array_equal(x.cls, y.cls) for x, y in zip(a, b))


def test_numpy_arrays_of_5_6_7_columns_and_tensors():
    import torch

    ours = run_frames(lambda r: Detections(r[:, :4], r[:, 4], r[:, 5]))
    assert len(ours[-1]) == 3
    assert same_tracks(run_frames(lambda r: r), ours)                                  # N x 6
    seven = lambda r: np.concatenate([r[:, :4], np.full((len(r), 1), 99.0), r[:, 4:]], axis=1)
    assert same_tracks(run_frames(seven), ours)                                        # x1..y2,id,score,cls
    assert same_tracks(run_frames(lambda r: torch.from_numpy(r)), ours)                # a tensor
    five = run_frames(lambda r: r[:, :5])                                              # no class column
    assert [t.cls.tolist() for t in five][-1] == [0, 0, 0]
    assert np.array_equal(five[-1].track_id, ours[-1].track_id)
    assert len(make_tracker("sort").update(np.zeros((0, 6)))) == 0
    with pytest.raises(ValueError, match="N x 5"):
        make_tracker("sort").update(np.zeros((3, 4)))
    with pytest.raises(TypeError, match="cannot use"):
        make_tracker("sort").update("boxes")


def test_supervision_detections_in_and_out():
    import supervision as sv

    to_sv = lambda r: sv.Detections(xyxy=r[:, :4], confidence=r[:, 4], class_id=r[:, 5].astype(int))
    via_sv = run_frames(to_sv)
    assert same_tracks(via_sv, run_frames(lambda r: r))
    back = via_sv[-1].to_supervision()
    assert isinstance(back, sv.Detections)
    assert back.tracker_id.tolist() == via_sv[-1].track_id.tolist()
    assert np.allclose(back.xyxy, via_sv[-1].xyxy) and back.data["detected"].all()
    no_conf = Detections.from_supervision(sv.Detections(xyxy=ROWS6[:, :4]))
    assert no_conf.score.tolist() == [1.0, 1.0, 1.0] and no_conf.cls.tolist() == [0, 0, 0]
    # supervision's annotators draw our tracks
    image = np.zeros((200, 500, 3), np.uint8)
    assert sv.BoxAnnotator().annotate(image.copy(), back).any()


@needs_shared
def test_ultralytics_results_and_boxes():
    from ultralytics import YOLO

    model = YOLO(str(YOLO11N))
    images = sorted((SEQ / "img1").glob("*.jpg"))[:3]
    results = [model.predict(cv2.imread(str(p)), conf=0.25, verbose=False, device="cpu") for p in images]
    dets = Detections.from_ultralytics(results[0])        # a list of one Results
    boxes = results[0][0].boxes
    assert len(dets) == len(boxes) > 0
    assert np.allclose(dets.xyxy, boxes.xyxy.numpy()) and np.array_equal(dets.cls, boxes.cls.numpy().astype(int))
    a, b, c = make_tracker("botsort"), make_tracker("botsort"), make_tracker("botsort")
    for r in results:
        t_results = a.update(r[0])                        # Results
        t_boxes = b.update(r[0].boxes)                    # Boxes
        t_ours = c.update(Detections.from_ultralytics(r[0]))
    assert len(t_ours) > 0
    assert np.array_equal(t_results.track_id, t_ours.track_id) and np.array_equal(t_boxes.track_id, t_ours.track_id)
    import supervision as sv                               # and ultralytics -> supervision -> us
    via_sv = Detections.from_supervision(sv.Detections.from_ultralytics(results[0][0]))
    assert np.allclose(via_sv.xyxy, dets.xyxy) and np.allclose(via_sv.score, dets.score)


def test_tracks_say_detected_or_predicted_and_the_csv_column(tmp_path):
    trk = make_tracker("botsort", frame_rate=30)       # reports lost tracks for report_lost_frames
    for f in range(4):
        tracks = trk.update(moving(ROWS6[:2], f))
    assert tracks.detected.tolist() == [True, True]
    tracks = trk.update(moving(ROWS6[:1], 4))         # the second object is hidden this frame
    assert sorted(zip(tracks.track_id.tolist(), tracks.detected.tolist())) == [(1, True), (2, False)]
    out = tmp_path / "o"
    again = list(track(str(SAMPLE_VIDEO), detections=str(SAMPLE_DETS), tracker="botsort", out=str(out),
                       save_video=False, max_frames=120))
    rows = read_csv_rows(out / "tracks.csv")
    assert list(rows[0])[-1] == "detected" and list(rows[0])[:10] == [
        "frame", "time_s", "track_id", "class_id", "class_name", "x1", "y1", "x2", "y2", "score"]
    flags = {r["detected"] for r in rows}
    assert flags == {"0", "1"}, "the sample has occlusions: both kinds of rows"
    # the API and the CSV agree frame by frame on how many boxes were detected
    per_frame = {}
    for r in rows:
        per_frame[int(r["frame"])] = per_frame.get(int(r["frame"]), 0) + int(r["detected"])
    assert all(per_frame.get(res.frame_index + 1, 0) == int(res.tracks.detected.sum()) for res in again)


def test_draw_tracks_alone_labels_inside_and_apart():
    image = np.full((240, 320, 3), 90, np.uint8)
    # a crowd: 12 overlapping boxes, some at the frame edges
    xyxy = np.array([[i * 22 - 5, 100 + (i % 3) * 6, i * 22 + 30, 200 + (i % 2) * 50] for i in range(12)], float)
    xyxy[0, 1] = -4
    tracks = Tracks(xyxy, np.arange(1, 13), np.full(12, 0.87), np.zeros(12), np.r_[np.arange(11), -1])
    out = draw_tracks(image, tracks)
    assert out is not image and (image == 90).all() and (out != 90).any()
    from tracker.detectors.classes import COCO80_NAMES
    sizes = [(60, 14)] * 12
    rects = place_labels(tracks.xyxy.astype(int), sizes, 320, 240)
    assert all(0 <= x1 and 0 <= y1 and x2 <= 320 and y2 <= 240 for x1, y1, x2, y2 in rects)
    overlaps = sum(max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
                   for i, a in enumerate(rects) for b in rects[i + 1:])
    assert overlaps == 0
    assert COCO80_NAMES[0] == "person"


def test_nearby_ids_get_clearly_different_colours():
    def lab(bgr):
        return cv2.cvtColor(np.uint8([[bgr]]), cv2.COLOR_BGR2LAB)[0, 0].astype(float) * [100 / 255, 1, 1]

    gaps = [np.linalg.norm(lab(id_color(i)) - lab(id_color(i + d))) for i in range(1, 200) for d in (1, 2, 3)]
    assert min(gaps) > 40          # CIE76 distance: 40+ is "a different colour" at a glance
    assert len(set(PALETTE)) == len(PALETTE) == 20


def test_frame_result_plot_on_a_crowded_mot17_frame(tmp_path):
    seq = MOT17_MINI / "MOT17-04-FRCNN"
    results = list(track(seq, detections=str(seq / "det" / "det.txt")))
    last = results[-1]
    assert len(last.tracks) > 15
    annotated = last.plot()
    assert annotated.shape == last.frame.image.shape and not np.array_equal(annotated, last.frame.image)
    assert cv2.imwrite(str(tmp_path / "crowd.png"), annotated)


@pytest.mark.parametrize("name", ["botsort", "bytetrack", "ocsort", "deepocsort"])
def test_ultralytics_tracker_yamls_load_and_run(name, tmp_path, caplog):
    path = ULTRALYTICS_TRACKERS / f"{name}.yaml"
    with caplog.at_level(logging.WARNING, logger="tracker"):
        trk = make_tracker(path)
    assert type(trk).__name__ == {"botsort": "BotSortTracker", "bytetrack": "ByteTracker",
                                  "ocsort": "OcSortTracker", "deepocsort": "DeepOcSortTracker"}[name]
    assert trk.cfg.det_thresh == pytest.approx(0.1 if name in ("botsort", "bytetrack") else trk.cfg.track_high_thresh)
    notes = [r.getMessage() for r in caplog.records if "ultralytics" in r.getMessage()]
    assert len(notes) == 1
    if name == "botsort":
        assert "ignored" in notes[0] and "proximity_thresh" in notes[0] and "with_reid" in notes[0]
    if name in ("botsort", "bytetrack"):         # through the CLI as well, on a real sequence
        proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--tracker", path, "--out", tmp_path / "o",
                         "--no-video", "--max-frames", 40)
        assert proc.returncode == 0, proc.stderr
        assert len([l for l in proc.stderr.splitlines() if "is an ultralytics" in l]) == 1, proc.stderr
        assert len(read_csv_rows(tmp_path / "o" / "tracks.csv")) > 0


def test_new_trackers_run():
    a = np.array([[0, 100, 20, 140, 0.9, 0]], np.float32)
    for name in ("ocsort", "deepocsort", "strongsort"):
        trk = make_tracker(name)
        for f in range(6):
            dets = a.copy()
            dets[:, [0, 2]] += 5 * f
            tracks = trk.update(dets, np.zeros((200, 200, 3), np.uint8))
        assert tracks.track_id.tolist() == [1], name


def test_observation_centric_momentum_prefers_the_way_the_track_moved():
    trk = make_tracker("ocsort", overrides={"inertia": 0.2})
    for f in range(5):                                   # moving right, 6 px per frame
        trk.update(np.array([[100 + 6 * f, 100, 140 + 6 * f, 180, 0.9, 0]]))
    last = trk.tracks.obs_xywh[0]
    ahead = [last[0] + 4 - 20, 80, last[0] + 4 + 20, 160]       # a little right of the last observation
    behind = [last[0] - 4 - 20, 80, last[0] - 4 + 20, 160]      # as far, to the left
    far = [600, 80, 640, 160]
    dets = Detections(np.array([ahead, behind, far]), np.full(3, 0.9), np.zeros(3))
    cost = trk._with_momentum(np.array([[0.5, 0.5, 0.95]]), np.array([0]), dets, np.arange(3))
    assert cost[0, 0] < 0.5 < cost[0, 1]                  # same IoU cost: the forward box wins
    assert cost[0, 2] == 0.95                             # outside the gate stays outside
    assert make_tracker("ocsort", overrides={"inertia": 0.0})._first_stage_cost(
        np.zeros(0, int), dets, np.arange(3)).shape == (0, 3)


def test_camera_motion_from_matches_moves_the_observation_history():
    """A whole-scene pan is camera motion: with ``motion_from_matches`` OC-SORT's past observations
    move with it, so OCM sees people standing still; without it, they seem to walk right."""
    boxes = np.array([[x, 100, x + 40, 200] for x in range(0, 800, 80)], np.float64)
    directions = {}
    for on in (True, False):
        trk = make_tracker("ocsort", overrides={"motion_from_matches": on})
        for f in range(12):                                  # the camera pans left: 6 px per frame
            trk.update(np.c_[boxes + [6 * f, 0, 6 * f, 0], np.full(len(boxes), 0.9), np.zeros(len(boxes))])
        directions[on] = trk.tracks.direction(np.arange(len(boxes)), trk.cfg.delta_t)
    _, moving = directions[True]
    assert not moving.any()                                  # every one stands still
    unit, moving = directions[False]
    assert moving.all() and np.allclose(unit, [1.0, 0.0])


def test_camera_motion_from_matches_moves_the_state_oru_restarts_from():
    """The camera jerks 40 px while one person is hidden: the lost track is moved with the scene, and
    so is the filter state saved at its last observation, from which ORU re-runs the filter when the
    person is found again. Standing still, the person must come back with no velocity; re-run from
    where the state was before the jerk, ORU would give them the jerk as a walk."""
    boxes = np.array([[x, 100 + 150 * (x % 160 == 0), x + 40, 200 + 150 * (x % 160 == 0)]
                      for x in range(0, 800, 80)], np.float64)
    trk = make_tracker("ocsort", overrides={"motion_from_matches": True})
    for f in range(1, 17):
        shifted = boxes + ([40, 0, 40, 0] if f >= 10 else 0)      # the jerk at frame 10
        keep = np.arange(len(boxes)) != 3 if 7 <= f <= 12 else np.ones(len(boxes), bool)  # person 3 hidden
        trk.update(np.c_[shifted[keep], np.full(keep.sum(), 0.9), np.zeros(keep.sum())])
    t = trk.tracks
    assert len(set(t.track_id[t.track_id > 0].tolist())) == len(boxes)   # person 3 kept their id
    row = int(np.argmin(np.abs(t.obs_xywh[:, 0] - (3 * 80 + 20 + 40))))
    assert t.last_frame[row] == 16
    assert np.abs(t.mean[row, 4:6]).max() < 1.0                          # px/frame: standing still


def test_deepocsort_pixel_camera_motion_moves_the_observation_memory():
    """With images, BoT-SORT's pixel camera motion moves Deep OC-SORT's tracks and last boxes; the
    observation history and ORU's saved state must move the same way (a lost track shows it)."""
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (400, 640), dtype=np.uint8), (5, 5), 0)
    boxes = np.array([[60 + 90 * k, 150, 100 + 90 * k, 250] for k in range(6)], np.float64)
    trk = make_tracker("deepocsort", overrides={"motion_from_matches": False})
    for f in range(8):
        pan = 12 * max(0, f - 4)                               # the camera pans from frame 5 on
        image = cv2.cvtColor(np.roll(texture, pan, axis=1), cv2.COLOR_GRAY2BGR)
        keep = np.arange(6) != 2 if f >= 5 else np.ones(6, bool)   # person 2 is lost while it pans
        dets = boxes[keep] + [pan, 0, pan, 0]
        trk.update(np.c_[dets, np.full(len(dets), 0.9), np.zeros(len(dets))], image)
    t = trk.tracks
    lost = int(np.argmin(np.abs(t.obs_xywh[:, 0] - (boxes[2, 0] + 20 + 36))))
    assert t.last_frame[lost] < trk.frame_id                               # it is the lost one
    assert t.obs_xywh[lost, 0] == pytest.approx(boxes[2, 0] + 20 + 36, abs=2)  # moved with the pan
    assert np.allclose(t.hist[lost, -1, 1:], t.obs_xywh[lost], atol=1e-6)
    assert np.allclose(t.obs_mean[lost, :4], t.obs_xywh[lost], atol=2)
