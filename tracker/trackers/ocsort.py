"""OC-SORT (Cao et al. 2023), as a composition of this project's pieces: ByteTrack's stages plus the
three observation-centric ideas.

- **OCM**, observation-centric momentum (here): in stage 1, a pair whose direction (from the
  track's last observation to the detection) agrees with the track's recent direction of motion
  (from its observation ``delta_t`` frames back to its last one; observations, not the Kalman
  velocity, which drifts while a track is unseen) is preferred, by ``inertia`` x agreement x score.
  It only reorders pairs the IoU gate already allows.
- **ORU**, observation-centric re-update (``oru``, in the shared life cycle ``sort.py``): a track
  found again after a gap re-runs its filter along virtual observations between the two real ones.
- **OCR**, observation-centric recovery (``last_box_recovery``, in ``bytetrack.py``): lost tracks left
  unmatched retry with their last observed box.
- BYTE (``use_byte``, on by default; off in the original OC-SORT): weak boxes get stage 2.
- camera motion from the matches (``motion_from_matches``, on by default, as BoT-SORT's; not in the
  original OC-SORT): what it moves, OC-SORT's memory of past observations moves with it.
- innovation-adaptive velocity noise (``calm_std_vel``, off by default; not in the original): a track
  whose recent normalized innovations are small gets a smaller Kalman velocity noise.

Every key is in ``configs/trackers/ocsort.yaml``.

    >>> from tracker.trackers import make_tracker
    >>> trk = make_tracker("ocsort", overrides={"inertia": 0.3})
    >>> len(trk.update(np.array([[0, 0, 10, 20, 0.9, 0]])))
    1
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..boxes import xyxy_to_xywh
from ..types import Detections
from .bytetrack import ByteTrackConfig, ByteTracker
from .gmc import warp_states
from .match_motion import warp_xywh
from .track import TrackTable


@dataclass
class OcSortConfig(ByteTrackConfig):
    # this project's life-cycle defaults (as BoT-SORT's); inertia chosen on MOT17-02/04, confirmed on
    # MOT17-05/09 (docs/benchmarks.md): 0.2, OC-SORT's own value, cost 0.7 HOTA here
    track_buffer: int = field(default=60, metadata={"search": (10, 150)})  # frames (at 30 fps) a lost track is kept: 2 s of occlusion
    report_lost_frames: int = field(default=15, metadata={"search": (0, 30)})  # also report lost tracks (predicted box) this many frames (at 30 fps)
    oru: bool = True  # ORU: re-update along virtual observations after a gap
    last_box_recovery: bool = True  # OCR: lost tracks left unmatched retry with their last observed box
    delta_t: int = field(default=3, metadata={"search": (1, 6)})  # OCM: direction of motion from the observation this many frames back
    inertia: float = field(default=0.1, metadata={"search": (0.0, 0.4)})  # OCM: weight of direction agreement in the stage-1 cost
    use_byte: bool = True  # stage 2 for weak boxes (det_thresh <= score < track_high_thresh)
    # camera motion from the matches, as BoT-SORT; at least 6 agreeing matches: with 4 or 5, a few
    # people walking together in a sparse scene (MOT17-05 at 7 fps) pass for a camera move
    motion_from_matches: bool = True  # camera motion fitted from confident matches, applied to all tracks
    motion_min_matches: int = 6  # fewer agreeing matches than this: no motion estimate (unreliable)
    # off = std_vel as SORT uses it, per frame at any frame rate. On, std_vel is the value at 30 fps and
    # grows as 30/fps: frames further apart see a larger change of the per-frame velocity
    std_vel_fps_scaled: bool = False  # std_vel given at 30 fps, scaled by 30/fps
    # innovation-adaptive velocity noise: a track whose recent innovations are small (its own
    # normalized innovation squared, averaged over ~10 matches, below calm_nis) moves at constant
    # velocity as far as the filter can tell, so a smaller velocity noise follows the detector's jitter
    # less and bridges detection gaps better; tracks with large innovations (low frame rates, a moving
    # camera, jittery boxes) keep std_vel. Off: 0.002 passes split A (+0.92) but not split B (misses
    # -0.72) nor a second draw of the variants (zoom, shake -1.26; docs/benchmarks.md, issue 14e)
    calm_std_vel: float = 0.0  # velocity noise of calm tracks (fraction of box size, at 30 fps); 0: off
    calm_nis: float = 1.5  # a track is calm while its mean normalized innovation squared is below this


class ObservationHistory(TrackTable):
    """The track table plus each track's last ``depth`` observations ``(frame, cx, cy, w, h)`` (NaN
    where it has fewer) and its running mean normalized innovation squared ``nis`` (``calm_std_vel``),
    kept row-aligned through ``append`` and ``keep``."""

    def __init__(self, depth: int, nis_start: float = 0.0) -> None:
        self.depth = max(2, int(depth))
        self.nis_start = nis_start
        self._base_only = False
        super().__init__()
        self.hist = np.full((0, self.depth, 5), np.nan)
        self.nis = np.zeros(0)

    def _columns(self) -> list[str]:
        cols = super()._columns()
        return cols if self._base_only else cols + ["hist", "nis"]

    def append(self, *args, **kwargs) -> None:
        n_before = len(self)
        self._base_only = True   # the base table builds its own columns; ``hist`` is added below
        try:
            super().append(*args, **kwargs)
        finally:
            self._base_only = False
        n = len(self) - n_before
        if n:
            new = np.full((n, self.depth, 5), np.nan)
            new[:, -1, 0] = self.last_frame[n_before:]
            new[:, -1, 1:] = self.obs_xywh[n_before:]
            self.hist = np.concatenate([self.hist, new])
            self.nis = np.concatenate([self.nis, np.full(n, self.nis_start)])

    def record(self, rows: np.ndarray) -> None:
        """Push the current observation (``obs_xywh``, ``last_frame``) of ``rows`` into their history."""
        if len(rows) == 0:
            return
        self.hist[rows, :-1] = self.hist[rows, 1:]
        self.hist[rows, -1, 0] = self.last_frame[rows]
        self.hist[rows, -1, 1:] = self.obs_xywh[rows]

    def direction(self, rows: np.ndarray, delta_t: int) -> tuple[np.ndarray, np.ndarray]:
        """Unit direction of motion (R, 2) from the oldest observation within ``delta_t`` frames of
        the last one to the last one, and whether there was such an observation (R,)."""
        hist = self.hist[rows]
        last = hist[:, -1]
        earlier = hist[:, :-1]
        ok = np.isfinite(earlier[:, :, 0]) & (earlier[:, :, 0] >= last[:, None, 0] - delta_t)
        valid = ok.any(axis=1)
        first = np.argmax(ok, axis=1)   # the oldest qualifying one (history is oldest first)
        prev = earlier[np.arange(len(rows)), first]
        step = np.where(valid[:, None], last[:, 1:3] - prev[:, 1:3], 0.0)
        norm = np.linalg.norm(step, axis=1, keepdims=True)
        # under a millipixel is no direction (rounding left by camera-motion warps of a still track)
        return step / np.maximum(norm, 1e-6), valid & (norm[:, 0] > 1e-3)


class OcSortTracker(ByteTracker):
    """ByteTrack stages + OCM in stage 1 + ORU + OCR."""

    config_class = OcSortConfig
    cfg: OcSortConfig

    def __init__(self, config: Optional[OcSortConfig] = None, frame_rate: float = 30.0) -> None:
        config = config or self.config_class()
        if not config.use_byte:   # no second stage: weak boxes are ignored altogether
            config = dataclasses.replace(config, det_thresh=max(config.det_thresh, config.track_high_thresh))
        super().__init__(config, frame_rate)
        if self.cfg.std_vel_fps_scaled:  # the filter SORT set up, with std_vel at this frame rate
            self.kf.std_vel = self.cfg.std_vel * 30.0 / self.frame_rate
        # calm_std_vel is the 30 fps value: frames further apart see a larger change of the per-frame
        # velocity (MOT17-09-fps3 at 10 fps lost 1.3 HOTA unscaled); never noisier than std_vel itself
        self.calm_std_vel = min(self.cfg.calm_std_vel * 30.0 / self.frame_rate, self.kf.std_vel)

    NIS_MEMORY = 0.9  # calm_std_vel: weight of the past in a track's running mean innovation (~10 matches)

    def reset(self) -> None:
        super().reset()
        # a new track is not calm until its innovations have shown it (it starts at the threshold)
        self.tracks = ObservationHistory(self.cfg.delta_t + 1, nis_start=self.cfg.calm_nis)

    def _velocity_noise(self) -> Optional[np.ndarray]:
        if self.cfg.calm_std_vel <= 0:
            return None
        return np.where(self.tracks.nis < self.cfg.calm_nis, self.calm_std_vel, self.kf.std_vel)

    def _update_matched(self, matches: np.ndarray, dets: Detections, keep: np.ndarray) -> None:
        if self.cfg.calm_std_vel > 0 and len(matches):
            self._measure_innovations(matches, dets)
        super()._update_matched(matches, dets, keep)
        if len(matches):
            self.tracks.record(matches[:, 0])

    def _measure_innovations(self, matches: np.ndarray, dets: Detections) -> None:
        """Fold each matched track's normalized innovation squared into its running mean; only
        tracks seen in the last frame (after a gap the prediction is long, not wrong)."""
        t = self.tracks
        rows, det_rows = matches[:, 0], matches[:, 1]
        next_frame = t.last_frame[rows] == self.frame_id - 1
        rows, det_rows = rows[next_frame], det_rows[next_frame]
        if len(rows) == 0:
            return
        xywh = xyxy_to_xywh(dets.xyxy[det_rows]).astype(np.float64)
        nis = self.kf.innovation_distance(t.mean[rows], t.cov[rows], xywh, dets.score[det_rows])
        t.nis[rows] = self.NIS_MEMORY * t.nis[rows] + (1 - self.NIS_MEMORY) * nis

    def _camera_moved(self, warp: np.ndarray) -> None:
        """The camera moved every track (``warp``, 2x3; any motion: fitted from the matches, expected
        with camera_velocity, or Deep OC-SORT's pixel GMC): move what OC-SORT remembers of their past
        too, so it is in this frame's coordinates like the prediction and the last box.

        - the observation history, so OCM's directions (last observation -> detection) compare
          positions in one frame;
        - the filter state saved at the last observation, from which ORU re-runs the filter after a
          gap: left where it was, ORU would start from the old place and walk along virtual
          observations that start at the new one, and the re-run velocity would carry the whole
          camera motion of the gap (moving it: mean HOTA with ``motion_from_matches`` 51.79 -> 52.09 over
          MOT17-dev and its variants, docs/benchmarks.md).
        """
        t = self.tracks
        if len(t) == 0:
            return
        t.hist[:, :, 1:] = warp_xywh(t.hist[:, :, 1:].reshape(-1, 4), warp).reshape(len(t), -1, 4)
        t.obs_mean, t.obs_cov = warp_states(t.obs_mean, t.obs_cov, warp)

    def _first_stage_cost(self, rows: np.ndarray, dets: Detections, det_rows: np.ndarray) -> np.ndarray:
        cost = super()._first_stage_cost(rows, dets, det_rows)
        if self.cfg.inertia <= 0 or cost.size == 0:
            return cost
        return self._with_momentum(cost, rows, dets, det_rows)

    def _with_momentum(self, cost: np.ndarray, rows: np.ndarray, dets: Detections, det_rows: np.ndarray
                       ) -> np.ndarray:
        """OCM: lower the cost of pairs moving the way the track moved, raise it for the opposite
        way; pairs outside the gate stay outside, pairs inside stay inside."""
        t = self.tracks
        track_dir, valid = t.direction(rows, self.cfg.delta_t)
        last_centre = t.hist[rows, -1, 1:3]
        det_centre = (dets.xyxy[det_rows, :2] + dets.xyxy[det_rows, 2:]) / 2
        step = det_centre[None] - last_centre[:, None]
        det_dir = step / np.maximum(np.linalg.norm(step, axis=2, keepdims=True), 1e-6)
        cos = np.clip((track_dir[:, None] * det_dir).sum(axis=2), -1.0, 1.0)
        agreement = (np.pi / 2 - np.abs(np.arccos(cos))) / np.pi     # +0.5 same way, -0.5 opposite
        bonus = self.cfg.inertia * agreement * valid[:, None] * dets.score[det_rows][None]
        inside = cost <= self.cfg.match_thresh
        return np.where(inside, np.clip(cost - bonus, 0.0, self.cfg.match_thresh), cost)
