"""Camera-motion compensation recovers a known image shift and moves Kalman states with it."""
import cv2
import numpy as np
import pytest

from tracker.errors import UserError
from tracker.trackers.gmc import CameraMotion, warp_states


def textured(h=240, w=320, seed=0, blur=4):
    """Smoothed noise: corners for optical flow/ORB, smooth enough for ECC's gradient descent."""
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.integers(0, 255, (h, w)).astype(np.uint8), (0, 0), blur)
    img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX)
    return np.dstack([img] * 3)


@pytest.mark.parametrize("method", ["sparseOptFlow", "orb", "ecc"])
def test_recovers_translation(method):
    base = textured(480, 640)
    gmc = CameraMotion(method, downscale=2)
    first, second = base[40:280, 40:360], base[40 + 6:280 + 6, 40 - 10:360 - 10]  # camera moves
    assert np.allclose(gmc.apply(first), np.eye(2, 3))
    warp = gmc.apply(second)
    # content moved +10 px in x and -6 px in y
    assert warp[0, 2] == pytest.approx(10, abs=2.5) and warp[1, 2] == pytest.approx(-6, abs=2.5)
    assert np.allclose(warp[:, :2], np.eye(2), atol=0.05)


def test_none_and_bad_method():
    assert np.allclose(CameraMotion("none").apply(textured()), np.eye(2, 3))
    with pytest.raises(UserError, match="gmc_method"):
        CameraMotion("magic")


def test_warp_states_moves_centres_and_velocities():
    mean = np.array([[100.0, 50.0, 20.0, 40.0, 1.0, 0.0, 0.0, 0.0]])
    cov = np.eye(8)[None].repeat(1, axis=0)
    warp = np.array([[1.0, 0.0, 5.0], [0.0, 1.0, -3.0]])
    m, c = warp_states(mean, cov, warp)
    assert m[0, :2].tolist() == [105.0, 47.0] and m[0, 4] == 1.0 and np.allclose(c, cov)
