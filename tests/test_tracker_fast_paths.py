"""The trackers' fast paths (issue 9, speed) give exactly the numbers of the plain formulas they
replace: the Kalman block sums vs the matrix products, the in-place IoU vs the textbook one, and the
default tracker on a real sequence with both swapped back in."""
import numpy as np
import pytest

from tracker.trackers import make_tracker, matching
from tracker.trackers.kalman import BoxKalman

from helpers import MOT17_DEV


def reference_iou(a, b):
    """IoU as written before the speed-up (np.clip, np.where): the reference for iou_matrix."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    iw = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih

    def area(x):
        return np.clip(x[:, 2] - x[:, 0], 0, None) * np.clip(x[:, 3] - x[:, 1], 0, None)

    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _noise(values):
    n, k = values.shape
    out = np.zeros((n, k, k))
    out[:, np.arange(k), np.arange(k)] = values
    return out


def reference_predict(kf, mean, cov, std_vel=None):
    """x' = F x, P' = F P Fᵀ + Q with the matrices themselves (``std_vel``: per row, optional)."""
    if len(mean) == 0:
        return mean, cov
    w, h = mean[:, 2], mean[:, 3]
    wh = np.stack([w, h, w, h], axis=1)
    vel = kf.std_vel if std_vel is None else np.asarray(std_vel)[:, None]
    q = _noise(np.concatenate([kf.std_pos * wh, vel * wh], axis=1) ** 2)
    return mean @ kf.F.T, kf.F @ cov @ kf.F.T + q


def reference_project(kf, mean, cov, score=None):
    w, h = mean[:, 2], mean[:, 3]
    var = (kf.std_pos * np.stack([w, h, w, h], axis=1)) ** 2
    if kf.nsa and score is not None:
        var = var * np.clip(1.0 - np.asarray(score, np.float64), 0.05, 1.0)[:, None]
    return mean[:, :4], cov[:, :4, :4] + _noise(var)


def test_iou_matrix_equals_the_textbook_formula_bit_for_bit():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n, m = rng.integers(0, 25, 2)
        a = rng.uniform(0, 100, (n, 4))
        a[:, 2:] = a[:, :2] + rng.uniform(-5, 30, (n, 2))  # some boxes inverted: area 0
        b = rng.uniform(0, 100, (m, 4))
        b[:, 2:] = b[:, :2] + rng.uniform(-5, 30, (m, 2))
        if n and m:
            b[0] = a[0]  # identical boxes: IoU 1
        for dtype in (np.float64, np.float32):
            assert np.array_equal(matching.iou_matrix(a.astype(dtype), b.astype(dtype)),
                                  reference_iou(a.astype(dtype), b.astype(dtype)))


def test_kalman_fast_predict_and_update_equal_the_matrix_products():
    rng = np.random.default_rng(1)
    for nsa in (False, True):
        kf = BoxKalman(nsa=nsa)
        boxes = np.column_stack([rng.uniform(0, 1000, (30, 2)), rng.uniform(10, 200, (30, 2))])
        mean, cov = kf.initiate(boxes)
        mean[:, 4:] = rng.normal(0, 3, (30, 4))
        for _ in range(3):
            pred = kf.predict(mean, cov)
            ref = reference_predict(kf, mean, cov)
            assert np.array_equal(pred[0], ref[0]) and np.array_equal(pred[1], ref[1])
            per_row = rng.choice([0.002, kf.std_vel], 30)   # OC-SORT's calm_std_vel: one noise per track
            pred_rows, ref_rows = kf.predict(mean, cov, per_row), reference_predict(kf, mean, cov, per_row)
            assert np.array_equal(pred_rows[0], ref_rows[0]) and np.array_equal(pred_rows[1], ref_rows[1])
            score = rng.uniform(0.1, 1.0, 30)
            for got, want in zip(kf.project(*pred, score), reference_project(kf, *pred, score)):
                assert np.array_equal(got, want)
            mean, cov = kf.update(*pred, boxes + rng.normal(0, 4, boxes.shape), score)


@pytest.mark.skipif(not MOT17_DEV.is_dir(), reason=f"shared MOT17-dev data not found at {MOT17_DEV}")
@pytest.mark.parametrize("name", ["botsort", "ocsort"])
def test_trackers_give_the_same_tracks_with_the_reference_formulas(name, monkeypatch):
    """MOT17-02's public detections (600 frames): same ids, boxes and scores in every frame."""
    from tracker.formats.mot import read_det_file, read_seqinfo
    from tracker.types import Detections

    seq = MOT17_DEV / "MOT17-02-FRCNN"
    info, dets = read_seqinfo(seq), read_det_file(seq / "det" / "det.txt")

    def run():
        trk = make_tracker(name, frame_rate=info.fps)
        out = []
        for f in range(1, info.length + 1):
            t = trk.update(dets.get(f, Detections.empty()))
            out.append(np.column_stack([t.track_id, t.xyxy, t.score, t.det_index]))
        return np.concatenate(out)

    fast = run()
    monkeypatch.setattr(matching, "iou_matrix", reference_iou)
    monkeypatch.setattr(BoxKalman, "predict", reference_predict)
    monkeypatch.setattr(BoxKalman, "project", reference_project)
    slow = run()
    assert len(fast) > 5000 and np.array_equal(fast, slow)
