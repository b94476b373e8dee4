"""Camera motion from the tracker's own matches (tracker/trackers/match_motion.py, ByteTrack's
``motion_from_matches``): recovers a known pan/zoom, is exactly zero on a static scene, robust to
wrong matches, and leaves tracking unchanged where nothing moves."""
import numpy as np
import pytest

from tracker.trackers import make_tracker
from tracker.trackers.match_motion import fit_box_motion, warp_xywh
from tracker.types import Detections


def people(n=25, seed=0):
    rng = np.random.default_rng(seed)
    h = rng.uniform(60, 200, n)
    return np.column_stack([rng.uniform(50, 1870, n), rng.uniform(200, 900, n), 0.4 * h, h])


@pytest.mark.parametrize("scale,tx,ty", [(1.0, 25.0, -8.0), (1.05, 0.0, 0.0), (0.93, -40.0, 12.0)])
def test_recovers_known_pan_zoom_within_2_percent(scale, tx, ty):
    rng = np.random.default_rng(1)
    pred = people()
    warp = np.array([[scale, 0, tx], [0, scale, ty]])
    det = warp_xywh(pred, warp)
    det[:, :2] += rng.normal(0, 0.02, (len(det), 2)) * det[:, 3:4]  # 2% detector noise
    det[:, 2:] *= np.exp(rng.normal(0, 0.02, (len(det), 2)))
    det[:4, :2] += 300  # four wrong matches
    fit = fit_box_motion(pred, det)
    assert fit.reliable and fit.inliers >= 20
    assert fit.warp[0, 0] == pytest.approx(fit.warp[1, 1])
    assert abs(fit.warp[0, 0] - scale) <= 0.02 * scale
    # translation: the motion of a typical box centre within 2% of the true shift (or 1 px if none)
    centre = pred[:, :2].mean(0)
    true_shift = warp[:, :2] @ centre + warp[:, 2] - centre
    got_shift = fit.warp[:, :2] @ centre + fit.warp[:, 2] - centre
    assert np.linalg.norm(got_shift - true_shift) <= max(0.02 * np.linalg.norm(true_shift), 1.0)


def test_static_scene_is_exactly_no_motion():
    rng = np.random.default_rng(2)
    pred = people()
    assert fit_box_motion(pred, pred.copy()).is_identity
    noisy = pred.copy()
    noisy[:, :2] += rng.normal(0, 0.03, (len(pred), 2)) * pred[:, 3:4]  # detector noise, no camera
    fit = fit_box_motion(pred, noisy)
    assert fit.reliable and fit.is_identity


def test_too_few_or_disagreeing_matches_are_unreliable():
    pred = people(3)
    assert not fit_box_motion(pred, pred + [10, 0, 0, 0]).reliable
    rng = np.random.default_rng(3)
    pred = people(10)
    scrambled = pred[rng.permutation(10)]
    fit = fit_box_motion(pred, scrambled)
    assert not fit.reliable and fit.is_identity


def scene(frames, shift_per_frame=(0.0, 0.0), jerk_at=None, jerk=(0.0, 0.0), hide=()):
    """12 people standing on a grid, seen by a camera panning ``shift_per_frame`` px/frame, with a
    sudden ``jerk`` at frame ``jerk_at``; people in ``hide`` are missed from frame 8 to 12."""
    base = np.array([[100 + 150 * (k % 6), 200 + 300 * (k // 6), 50, 120] for k in range(12)], float)
    out, offset = [], np.zeros(2)
    for f in range(1, frames + 1):
        offset = offset + shift_per_frame + (jerk if f == jerk_at else 0)
        xywh = base.copy()
        xywh[:, :2] += offset
        keep = np.array([not (k in hide and 8 <= f <= 12) for k in range(12)])
        xyxy = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], 1)[keep]
        out.append(Detections(xyxy, np.full(len(xyxy), 0.9), np.zeros(len(xyxy), np.int64)))
    return out


def run(frames, **overrides):
    trk = make_tracker("bytetrack", overrides=overrides)
    return [trk.update(d) for d in frames], trk


def test_no_motion_changes_nothing():
    frames = scene(30, hide=(3, 4))
    off, _ = run(frames, motion_from_matches=False)
    on, trk = run(frames, motion_from_matches=True)
    for a, b in zip(off, on):
        assert np.array_equal(a.track_id, b.track_id) and np.array_equal(a.xyxy, b.xyxy)
    assert trk.motion.reliable and trk.motion.is_identity


def test_camera_jerk_keeps_identities_of_hidden_people():
    """A 40 px jerk while two people are hidden: without the estimate their tracks are left behind
    and they come back with new ids; with it they keep their ids."""
    frames = scene(25, jerk_at=10, jerk=(40.0, 0.0), hide=(3, 4))
    ids = {}
    for flag in (False, True):
        out, _ = run(frames, motion_from_matches=flag, track_buffer=30)
        ids[flag] = len(set(np.concatenate([t.track_id for t in out]).tolist()))
    assert ids[True] == 12 and ids[False] > 12


def test_report_lost_gate_hidden_reports_only_occluded_tracks():
    """Two people lost at frame 8: one walks behind a visible person, one vanishes in the open. With
    ``report_lost_gate: hidden`` only the first is reported at its predicted box."""
    def frame(f):
        boxes = [[100 + 5 * f, 100, 150 + 5 * f, 220]]  # A walks right (visible throughout)
        if f < 8:
            boxes.append([60 + 12 * f, 105, 110 + 12 * f, 225])  # B, catching up: behind A at frame 8
            boxes.append([600, 300, 650, 420])  # C, in the open
        xyxy = np.array(boxes, float)
        return Detections(xyxy, np.full(len(xyxy), 0.9), np.zeros(len(xyxy), np.int64))

    for gate, expect in (("always", 3), ("hidden", 2)):
        trk = make_tracker("bytetrack", overrides={"report_lost_frames": 15, "report_lost_gate": gate})
        for f in range(1, 8):
            trk.update(frame(f))
        out = trk.update(frame(8))
        assert len(out) == expect, gate
        if gate == "hidden":
            assert (out.det_index == -1).sum() == 1 and out.xyxy[out.det_index == -1][0, 0] < 400


def test_unknown_report_lost_gate_is_a_user_error():
    from tracker.errors import UserError
    with pytest.raises(UserError):
        make_tracker("botsort", overrides={"report_lost_gate": "sometimes"})


def panning_scene(frames, hide=(3, 4), hidden=(10, 30), seed=0):
    """12 people standing on a grid, seen by a camera whose pan slows down and reverses every 20
    frames (3 px/frame at most, a sinusoid like tools/make_variants.py's ``pan``: too little for
    one frame's matches to prove under 2% box noise); people in ``hide`` are missed from
    ``hidden[0]`` to ``hidden[1]``."""
    rng = np.random.default_rng(seed)
    base = np.array([[300 + 150 * (k % 6), 300 + 300 * (k // 6), 50, 120] for k in range(12)], float)
    offsets = 3 * 20 / np.pi * np.sin(np.pi * np.arange(frames) / 20)
    out = []
    for f in range(1, frames + 1):
        xywh = base.copy()
        xywh[:, 0] += offsets[f - 1]
        xywh[:, :2] += rng.normal(0, 0.02, (12, 2)) * xywh[:, 3:4]
        keep = np.array([not (k in hide and hidden[0] <= f <= hidden[1]) for k in range(12)])
        xyxy = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], 1)[keep]
        out.append(Detections(xyxy, np.full(len(xyxy), 0.9), np.zeros(len(xyxy), np.int64)))
    return out


def test_camera_velocity_lost_tracks_follow_a_changing_pan():
    """While two people are hidden the pan slows down and reverses. Without ``camera_velocity`` their
    tracks coast on the velocity they had when lost (the pan's, absorbed by the Kalman filter) and
    come back with new ids; with it the tracks keep the objects' own velocity (zero), follow the
    camera's estimated motion and keep their ids."""
    frames = panning_scene(45)
    ids = {}
    for flag in (False, True):
        out, trk = run(frames, motion_from_matches=True, camera_velocity=flag, track_buffer=30)
        ids[flag] = len(set(np.concatenate([t.track_id for t in out]).tolist()))
        if flag:  # the tracks' velocities are the objects' own (standing people), not the pan
            assert np.abs(trk.tracks.mean[:, 4]).max() < 1.0
    assert ids[True] == 12 and ids[False] > 12


def test_camera_velocity_changes_nothing_on_a_static_scene():
    frames = scene(30, hide=(3, 4))
    off, _ = run(frames, motion_from_matches=True)
    on, trk = run(frames, motion_from_matches=True, camera_velocity=True)
    for a, b in zip(off, on):
        assert np.array_equal(a.track_id, b.track_id) and np.array_equal(a.xyxy, b.xyxy)
    assert trk.camera_moving_until == 0


def test_camera_velocity_leaves_pixel_gmc_alone():
    """With an image BoT-SORT measures the camera from pixels; the matches then only fit what pixel
    GMC missed, and no motion is carried over from the last frame (it would be counted twice)."""
    frames = panning_scene(12)
    trk = make_tracker("botsort", overrides={"camera_velocity": True, "gmc_method": "sparseOptFlow"})
    image = np.zeros((1080, 1920, 3), np.uint8)
    for d in frames:
        trk.update(d, image)
        assert np.array_equal(trk.expected_motion, np.eye(2, 3))
    trk = make_tracker("botsort", overrides={"camera_velocity": True})
    for d in frames:
        trk.update(d)
    assert not np.array_equal(trk.expected_motion, np.eye(2, 3))  # no image: the pan is carried over


def test_camera_velocity_expects_a_pan_to_persist_but_not_a_jerky_hand():
    """A steady pan is expected to go on at full speed; a hand-held camera whose every frame jumps
    somewhere new (a low frame rate) is expected to go nowhere in particular."""
    rng = np.random.default_rng(4)
    base = np.array([[300 + 150 * (k % 6), 300 + 300 * (k // 6), 50, 120] for k in range(12)], float)

    def frames(offsets):
        out = []
        for off in offsets:
            xywh = base.copy()
            xywh[:, :2] += off
            xyxy = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], 1)
            out.append(Detections(xyxy, np.full(12, 0.9), np.zeros(12, np.int64)))
        return out

    pan = np.cumsum(np.tile([[6.0, 0.0]], (30, 1)), axis=0)
    jerky = rng.normal(0, 15, (30, 2))  # a new random position every frame
    _, steady = run(frames(pan), motion_from_matches=True, camera_velocity=True)
    _, shaky = run(frames(jerky), motion_from_matches=True, camera_velocity=True)
    assert steady.camera_step[0, 2] == pytest.approx(6.0, abs=0.3)
    last_jump = jerky[-1] - jerky[-2]
    assert shaky.frame_id <= shaky.camera_moving_until  # the shaking camera does count as moving ...
    assert np.linalg.norm(shaky.camera_step[:, 2]) < 0.5 * np.linalg.norm(last_jump)  # ... but not as a pan


def test_report_lost_inside_keeps_half_visible_boxes_only():
    """A person walking out of the view on the right (the rightmost box ever seen) is missed from
    frame 21: with ``report_lost_inside`` the prediction is reported while at least half of it is
    inside the area detections have covered, then no more."""
    def frame(f):
        boxes = [[100 + 10 * min(f, 20), 300, 150 + 10 * min(f, 20), 420]] if f <= 20 else []
        boxes += [[100 + 60 * k, 100, 150 + 60 * k, 220] for k in range(3)]  # people standing, further left
        xyxy = np.array(boxes, float)
        return Detections(xyxy, np.full(len(xyxy), 0.9), np.zeros(len(xyxy), np.int64))

    trk = make_tracker("bytetrack", overrides={"report_lost_frames": 15, "report_lost_inside": True})
    reported = []
    for f in range(1, 27):
        out = trk.update(frame(f))
        reported.append(int((out.det_index == -1).sum()))
    lost = reported[20:]  # frames 21..26: the walker is 1..6 frames past its last box (10 px/frame, 50 px wide)
    assert lost[0] == 1 and lost[1] == 1  # 80%, 60% inside
    assert lost[3:] == [0, 0, 0]  # 30% or less inside
