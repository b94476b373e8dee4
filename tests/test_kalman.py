"""Kalman filter: hand-computed predict/update values, and the batched form equals filterpy's."""
import numpy as np
import pytest

from tracker.trackers.kalman import BoxKalman, make_filterpy_template


def test_initiate_predict_update_match_hand_computed_values():
    kf = BoxKalman(std_pos=1 / 20, std_vel=1 / 160)
    mean, cov = kf.initiate(np.array([[100.0, 200.0, 40.0, 80.0]]))
    assert mean[0].tolist() == [100, 200, 40, 80, 0, 0, 0, 0]
    # initial std: 2 * 1/20 * size for the box, 10 * 1/160 * size for the velocities
    assert np.allclose(np.diag(cov[0]), [16, 64, 16, 64, 6.25, 25, 6.25, 25])

    mean, cov = kf.predict(mean, cov)
    assert np.allclose(mean[0], [100, 200, 40, 80, 0, 0, 0, 0])  # zero velocity: stays put
    # P' = F P F^T + Q:  var(x) = 16 + 6.25 + (40/20)^2 ; cov(x, vx) = 6.25 ; var(vx) = 6.25 + (40/160)^2
    assert cov[0, 0, 0] == pytest.approx(26.25)
    assert cov[0, 0, 4] == pytest.approx(6.25)
    assert cov[0, 4, 4] == pytest.approx(6.3125)

    mean, cov = kf.update(mean, cov, np.array([[110.0, 200.0, 40.0, 80.0]]))
    # S = 26.25 + R(= (40/20)^2 = 4) = 30.25 ; K_x = 26.25 / 30.25 ; K_vx = 6.25 / 30.25
    assert mean[0, 0] == pytest.approx(100 + 10 * 26.25 / 30.25)
    assert mean[0, 4] == pytest.approx(10 * 6.25 / 30.25)
    assert mean[0, 1] == pytest.approx(200) and mean[0, 5] == pytest.approx(0)
    assert cov[0, 0, 0] == pytest.approx(26.25 - 26.25**2 / 30.25)


def test_batched_filter_equals_filterpy_per_track():
    rng = np.random.default_rng(0)
    kf = BoxKalman(nsa=True)
    boxes = np.column_stack([rng.uniform(0, 500, (5, 2)), rng.uniform(10, 100, (5, 2))])
    mean, cov = kf.initiate(boxes)
    mean[:, 4:] = rng.normal(0, 2, (5, 4))
    z = boxes + rng.normal(0, 3, boxes.shape)
    score = rng.uniform(0.2, 1.0, 5)
    m_pred, c_pred = kf.predict(mean, cov)
    m_new, c_new = kf.update(m_pred, c_pred, z, score)
    for i in range(5):
        ref = make_filterpy_template()
        ref.x, ref.P = mean[i].copy(), cov[i].copy()
        ref.Q = kf.process_noise(mean[i:i + 1])[0]
        ref.predict()
        assert np.allclose(ref.x, m_pred[i]) and np.allclose(ref.P, c_pred[i])
        ref.R = kf.measurement_noise(ref.x[None], score[i:i + 1])[0]
        ref.update(z[i])
        assert np.allclose(ref.x, m_new[i], atol=1e-8)
        assert np.allclose(ref.P, c_new[i], atol=1e-6)


def test_nsa_trusts_confident_detections_more():
    kf_plain, kf_nsa = BoxKalman(), BoxKalman(nsa=True)
    mean, cov = kf_plain.initiate(np.array([[0.0, 0.0, 50.0, 100.0]]))
    z = np.array([[10.0, 0.0, 50.0, 100.0]])
    weak = kf_nsa.update(mean, cov, z, np.array([0.1]))[0][0, 0]
    strong = kf_nsa.update(mean, cov, z, np.array([0.9]))[0][0, 0]
    plain = kf_plain.update(mean, cov, z, np.array([0.9]))[0][0, 0]
    assert weak < strong and plain < strong


def test_gating_distance_is_mahalanobis():
    kf = BoxKalman()
    mean, cov = kf.initiate(np.array([[0.0, 0.0, 20.0, 40.0]]))
    z = np.array([[0.0, 0.0, 20.0, 40.0], [30.0, 0.0, 20.0, 40.0]])
    d = kf.gating_distance(mean, cov, z)
    s = cov[0, :4, :4] + kf.measurement_noise(mean)[0]
    assert d[0, 0] == pytest.approx(0)
    assert d[0, 1] == pytest.approx(30**2 / s[0, 0])


def test_per_row_velocity_noise_equals_a_filter_with_that_noise():
    # predict(..., std_vel=rows): each row predicted as a filter built with its own std_vel would
    low, high = BoxKalman(std_vel=0.002), BoxKalman(std_vel=0.00625)
    mean, cov = high.initiate(np.array([[0.0, 0.0, 20.0, 40.0], [50.0, 10.0, 30.0, 60.0]]))
    mean[:, 4:6] = [[1.0, -2.0], [0.5, 0.0]]
    per_row = high.predict(mean, cov, std_vel=np.array([0.002, 0.00625]))
    for row, kf in ((0, low), (1, high)):
        alone = kf.predict(mean[row:row + 1], cov[row:row + 1])
        np.testing.assert_allclose(per_row[0][row], alone[0][0])
        np.testing.assert_allclose(per_row[1][row], alone[1][0])


def test_innovation_distance_is_each_rows_own_mahalanobis_distance():
    kf = BoxKalman()
    mean, cov = kf.initiate(np.array([[0.0, 0.0, 20.0, 40.0], [100.0, 0.0, 20.0, 40.0]]))
    z = np.array([[30.0, 0.0, 20.0, 44.0], [100.0, 8.0, 20.0, 40.0]])
    full = kf.gating_distance(mean, cov, z)
    np.testing.assert_allclose(kf.innovation_distance(mean, cov, z), np.diag(full))
    s = cov[:, :4, :4] + kf.measurement_noise(mean)   # diagonal: each value's own share adds up
    np.testing.assert_allclose(kf.innovation_distance(mean, cov, z),
                               [30**2 / s[0, 0, 0] + 4**2 / s[0, 3, 3], 8**2 / s[1, 1, 1]])
