"""ByteTrack (Zhang et al. 2022): associate every detection box, the weak ones in a second stage.

Stages (per frame, after the Kalman prediction):
  1. confident detections (score >= ``track_high_thresh``) vs confirmed tracks (tracked and lost);
  2. weak detections (``det_thresh`` <= score < high) vs the still unmatched *tracked* tracks —
     a weak box next to a track is usually the same object partly occluded, not a new one;
  3. the remaining confident detections vs tentative tracks (confirming them);
  4. confident detections left over start new tentative tracks.

Switchable extras on top of the original (all off in ``bytetrack.yaml``; BoT-SORT's default turns on
``last_box_recovery``; the rest measured no gain on MOT17, see docs/benchmarks.md):
  - ``last_box_recovery``: OC-SORT's OCR — lost tracks still unmatched after stage 1 get a second
    chance with their last *observed* box (an object that stopped while hidden is not where the
    velocity carried its prediction);
  - ``lost_after_tracked``: stage 1 in two steps, visible tracks first, so a lost track cannot take
    a box that a visible one explains;
  - ``lost_iou_buffer``: C-BIoU — lost tracks' boxes are grown by this fraction per lost frame
    (capped at ``max_iou_buffer``) so an object that moved while hidden still overlaps its track;
  - ``second_stage_buffer``: a fixed buffer for stage 2 (weak boxes are often shifted/shrunk);
  - ``height_iou``: multiply IoU by the overlap of vertical extents (Hybrid-SORT HMIoU);
  - ``init_iou_max``: track-aware initialisation — no new track from a box that overlaps a live
    track by more than this IoU (duplicates of a tracked object are not new objects);
  - ``fuse_score``: similarity times detection score (on in ByteTrack's defaults);
  - ``motion_from_matches``: camera motion without images — the scale + translation that takes the
    predictions of visible tracks onto their stage-1 matches is fitted robustly
    (:mod:`~tracker.trackers.match_motion`) and applied to every track, lost ones included; the
    confirmed tracks left unmatched then retry stage 1 where they are now. No significant motion
    changes nothing. With ``camera_velocity`` the camera's last motion (times how much of it has
    persisted frame to frame) is applied before matching and the fit is of the whole motion, so the Kalman velocities stay the objects' own (otherwise
    they absorb a smooth pan, and a lost track coasts on the pan speed it had when it was lost);
    after two significant frames in a row the camera counts as moving for ``camera_memory``
    frames, and its motion is then fitted every frame rather than tested.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..boxes import xyxy_to_xywh
from ..types import Detections
from .match_motion import BoxMotion, compose, fit_box_motion, invert, is_identity, warp_xywh
from .matching import box_iou, expand_boxes, gate_classes, height_iou, iou_cost, linear_assignment
from .sort import SortConfig, SortTracker, corners_from_centre
from .track import LOST, TENTATIVE, TRACKED

_NO_PAIRS = np.zeros((0, 2), np.int64)


def _pairs(rows: np.ndarray, cols: np.ndarray, matches: np.ndarray) -> np.ndarray:
    """``[track row, det row]`` pairs from a solver's (K, 2) positions into ``rows`` and ``cols``."""
    if len(matches) == 0:
        return _NO_PAIRS
    out = np.empty((len(matches), 2), np.int64)
    out[:, 0] = rows[matches[:, 0]]
    out[:, 1] = cols[matches[:, 1]]
    return out


@dataclass
class ByteTrackConfig(SortConfig):
    det_thresh: float = field(default=0.1, metadata={"search": (0.05, 0.4)})  # weak boxes from here up go to stage 2; below it they are ignored
    track_high_thresh: float = field(default=0.25, metadata={"search": (0.15, 0.7)})  # first-stage (confident) detections
    new_track_thresh: float = field(default=0.25, metadata={"search": (0.15, 0.8)})  # a detection must score this much to start a track
    match_thresh: float = field(default=0.8, metadata={"search": (0.6, 0.95)})  # stage 1: largest 1-IoU cost accepted
    second_match_thresh: float = field(default=0.5, metadata={"search": (0.3, 0.8)})  # stage 2: largest 1-IoU cost accepted
    unconfirmed_match_thresh: float = field(default=0.7, metadata={"search": (0.5, 0.9)})  # stage 3: largest 1-IoU cost accepted
    min_hits: int = field(default=2, metadata={"search": (1, 4)})  # a new track must be matched in the next frame to be confirmed
    track_buffer: int = field(default=30, metadata={"search": (10, 120)})  # frames (at 30 fps) a lost track is kept
    fuse_score: bool = True  # similarity *= detection score in stage 1 and 3
    lost_iou_buffer: float = 0.0  # C-BIoU: lost boxes grow by this fraction per lost frame
    max_iou_buffer: float = 0.0  # cap of the lost-box growth
    second_stage_buffer: float = 0.0  # fixed box growth in stage 2
    height_iou: bool = False  # HMIoU: IoU x vertical-overlap in stage 1
    init_iou_max: float = 1.0  # track-aware init: skip new tracks overlapping a live track more
    lost_after_tracked: bool = False  # stage 1 in two steps: visible tracks pick first, then lost ones
    lost_match_thresh: float = 0.8  # largest 1-IoU cost for lost tracks when lost_after_tracked
    last_box_recovery: bool = False  # OC-SORT OCR: lost tracks left unmatched retry with their last seen box
    last_box_match_thresh: float = 0.5  # largest 1-IoU cost for that second chance
    motion_from_matches: bool = False  # camera motion fitted from confident matches, applied to all tracks
    motion_min_matches: int = 4  # fewer agreeing matches than this: no motion estimate (unreliable)
    camera_velocity: bool = False  # motion_from_matches: expect the camera's last motion (as far as it persists) before matching; track velocities stay the objects' own
    camera_memory: int = 90  # camera_velocity: frames (at 30 fps) the camera counts as moving after two frames in a row with a significant motion; meanwhile every frame's fitted motion is applied untested


class ByteTracker(SortTracker):
    """ByteTrack's two-stage association on the shared SORT life cycle."""

    config_class = ByteTrackConfig
    cfg: ByteTrackConfig
    PROBE_BUFFER = 0.5  # the motion probe grows boxes by this fraction so a jerk of ~half a box still overlaps
    PROBE_MIN_IOU = 0.3  # ... and pairs boxes overlapping at least this much (grown)
    CAMERA_FORGET = 0.9  # camera_velocity: weight per frame of the past in the camera's persistence (~10 frames)

    def reset(self) -> None:
        super().reset()
        # motion_from_matches: the whole camera motion of the last frame (2x3 affine, previous frame's
        # pixels -> this frame's) and the part of this frame's motion applied before matching
        self.expected_motion = np.eye(2, 3)
        self.camera_velocity_now = False
        self._forget_camera_motion()

    def notice_gap(self) -> None:
        super().notice_gap()
        self._forget_camera_motion()   # the frames either side of an outage are unrelated views

    def _forget_camera_motion(self) -> None:
        self.camera_step = np.eye(2, 3)
        self.camera_moving_until = 0  # camera_velocity: last frame the camera counts as moving
        self.last_camera_motion = -1  # ... and the last frame with a significant motion
        self.last_fitted_step = None  # ... the last frame's fitted motion while moving
        self.camera_persistence = np.array([1.0, 1.0])  # sums of (motion . last motion, last motion . last motion)

    def _predict(self, image) -> None:
        super()._predict(image)
        # with ``camera_velocity`` the camera motion assumed before this frame's matches are seen is
        # the last frame's (a camera moves smoothly). Moving every track by it, rather than letting
        # each track's Kalman velocity absorb the pan, keeps those velocities the objects' own: a
        # lost track then follows the camera instead of its velocity at the moment it was lost, and
        # a new track is not a pan's worth behind in its first frames
        self.camera_velocity_now = (self.cfg.motion_from_matches and self.cfg.camera_velocity
                                    and not self._pixel_gmc(image))
        self.expected_motion = self.camera_step if self.camera_velocity_now else np.eye(2, 3)
        self._move_tracks(self.expected_motion)

    def _pixel_gmc(self, image) -> bool:
        """Whether this frame's camera motion is measured from pixels (BoT-SORT with an image): the
        matches then only fit what it missed."""
        return False

    def _move_tracks(self, warp: np.ndarray) -> None:
        """Apply a camera motion (scale + translation) to every track, lost ones included."""
        if len(self.tracks) == 0 or is_identity(warp):
            return
        t = self.tracks
        s, shift = warp[0, 0], warp[:, 2]
        t.mean *= s  # a zoom scales positions, sizes and their velocities alike ...
        t.mean[:, :2] += shift  # ... and the camera's translation moves the centres
        t.cov *= s * s
        t.obs_xywh = warp_xywh(t.obs_xywh, warp)  # last-box recovery looks where it is now
        self._camera_moved(warp)

    def _camera_moved(self, warp: np.ndarray) -> None:
        """The camera moved every track by ``warp`` (2x3, not the identity), already applied to their
        states and last boxes (here, or by BoT-SORT's pixel GMC): a subclass moves whatever else it
        keeps in image coordinates (OC-SORT: its memory of past observations)."""

    def _associate(self, dets: Detections) -> tuple[np.ndarray, np.ndarray]:
        cfg, t = self.cfg, self.tracks
        # (np.nonzero(...)[0] rather than np.flatnonzero: the same indices, half the cost on 1-D masks)
        high = np.nonzero(dets.score >= cfg.track_high_thresh)[0]
        low = np.nonzero(dets.score < cfg.track_high_thresh)[0]
        confirmed = np.nonzero(t.state != TENTATIVE)[0]
        tentative = np.nonzero(t.state == TENTATIVE)[0]

        # stage 1: confident boxes vs confirmed tracks (tracked + lost)
        if cfg.lost_after_tracked:  # a lost track may not take a box a visible track explains
            visible, lost = confirmed[t.state[confirmed] == TRACKED], confirmed[t.state[confirmed] == LOST]
            cost = self._first_stage_cost(visible, dets, high)
            m1, um_tracks, um_high = linear_assignment(cost, cfg.match_thresh)
            matches = [_pairs(visible, high, m1)]
            unmatched_visible = visible[um_tracks]
            cost = self._first_stage_cost(lost, dets, high[um_high])
            m1b, _, um_b = linear_assignment(cost, cfg.lost_match_thresh)
            matches.append(_pairs(lost, high[um_high], m1b))
            um_high = um_high[um_b]
        else:
            cost = self._first_stage_cost(confirmed, dets, high)
            m1, um_tracks, um_high = linear_assignment(cost, cfg.match_thresh)
            matches = [_pairs(confirmed, high, m1)]
            unmatched_visible = confirmed[um_tracks]

        # stage 1b: camera motion fitted from the confident matches of visible tracks moves every
        # track; the confirmed tracks still unmatched then get a second chance where they are now
        if cfg.motion_from_matches:
            self.motion = self._motion_from_matches(matches[0], dets, unmatched_visible, high[um_high])
            if len(unmatched_visible) and len(um_high) and not self.motion.is_identity:
                cost = self._first_stage_cost(unmatched_visible, dets, high[um_high])
                m1b, um_b_tracks, um_b = linear_assignment(cost, cfg.match_thresh)
                matches.append(_pairs(unmatched_visible, high[um_high], m1b))
                unmatched_visible, um_high = unmatched_visible[um_b_tracks], um_high[um_b]

        # a stage with no tracks or no boxes is skipped: nothing to match (two thirds of the stages on MOT17)
        # stage 1c (OCR): lost tracks left over vs confident boxes left over, by last observed box
        if cfg.last_box_recovery:
            lost = unmatched_visible[t.state[unmatched_visible] == LOST]
            left = high[um_high]
            if len(lost) and len(left):
                cost = iou_cost(corners_from_centre(t.obs_xywh[lost]), dets.xyxy[left])
                if cfg.per_class:
                    cost = gate_classes(cost, t.cls[lost], dets.cls[left])
                m1c, _, um_c = linear_assignment(cost, cfg.last_box_match_thresh)
                matches.append(_pairs(lost, left, m1c))
                um_high = um_high[um_c]

        # stage 2: weak boxes vs tracks that were visible last frame
        rows = unmatched_visible[t.state[unmatched_visible] == TRACKED]
        if len(rows) and len(low):
            cost = self._box_cost(rows, dets, low, buffer=cfg.second_stage_buffer, hmiou=False, fuse=False)
            m2, _, _ = linear_assignment(cost, cfg.second_match_thresh)
            matches.append(_pairs(rows, low, m2))

        # stage 3: remaining confident boxes vs tentative tracks
        candidates = high[um_high]
        if len(tentative) and len(candidates):
            cost = self._box_cost(tentative, dets, candidates, buffer=0.0, hmiou=False, fuse=cfg.fuse_score)
            m3, _, um_left = linear_assignment(cost, cfg.unconfirmed_match_thresh)
            matches.append(_pairs(tentative, candidates, m3))
            candidates = candidates[um_left]

        if cfg.init_iou_max < 1.0 and len(candidates):
            candidates = self._not_duplicates(candidates, dets, matches)
        return np.concatenate(matches), candidates

    def _motion_from_matches(self, pairs: np.ndarray, dets: Detections, unmatched_rows: np.ndarray,
                             unmatched_dets: np.ndarray) -> BoxMotion:
        """Fit this frame's camera motion from stage-1 ``pairs`` ``[track row, det row]`` of visible
        tracks (lost ones are where the motion is unknown) and apply it to every track; returns the
        fit, its ``warp`` being the move applied to the tracks now (identity: none).

        The fit is of the whole motion since the last frame (predictions without the expected camera
        motion), so the simplest-model tests decide "the camera moved", not "it moved differently
        than expected"; the tracks then move by what the expectation got wrong. Unreliable: the
        expectation stands.

        A jerk of more than about half a box leaves few visible tracks matched; then the unmatched
        ones are paired with the unmatched boxes by mutual best overlap of grown boxes (a probe).
        """
        t, need = self.tracks, self.cfg.motion_min_matches
        pairs = pairs[t.state[pairs[:, 0]] == TRACKED]
        rows, cols = pairs[:, 0], pairs[:, 1]
        stray = unmatched_rows[t.state[unmatched_rows] == TRACKED]
        if len(stray) >= max(need, len(rows)) and len(unmatched_dets) >= need:
            grown = box_iou(expand_boxes(self.track_xyxy(stray), self.PROBE_BUFFER),
                            expand_boxes(dets.xyxy[unmatched_dets], self.PROBE_BUFFER))
            best = grown.argmax(axis=1)
            mutual = grown.argmax(axis=0)[best] == np.arange(len(stray))
            mutual &= grown[np.arange(len(stray)), best] >= self.PROBE_MIN_IOU
            rows = np.concatenate([rows, stray[mutual]])
            cols = np.concatenate([cols, unmatched_dets[best[mutual]]])
        expected = self.expected_motion
        no_camera = invert(expected)
        pred = t.mean[rows, :4]
        motion = fit_box_motion(warp_xywh(pred, no_camera), xyxy_to_xywh(dets.xyxy[cols]), need)
        this_frame = motion.warp if motion.reliable else expected  # the camera's motion since the last frame
        if self.camera_velocity_now:
            # one frame's matches rarely prove a smooth pan of a few pixels; once the camera has been
            # seen moving, its motion is fitted every frame instead of tested (tested, an unproven
            # frame would leave the pan to the tracks' velocities, and lost tracks behind). Moving:
            # significant in two frames in a row (a detector's coherent error or a crowd stepping
            # together rarely lasts two frames; a pan or a shake does)
            if motion.reliable and not motion.is_identity:
                if self.last_camera_motion == self.frame_id - 1 or self.frame_id <= self.camera_moving_until:
                    self.camera_moving_until = self.frame_id + max(1, round(self.cfg.camera_memory * self.frame_rate / 30))
                self.last_camera_motion = self.frame_id
            moving = self.frame_id <= self.camera_moving_until
            if moving and motion.reliable:
                this_frame = motion.fitted
                self._learn_camera_persistence(this_frame, pred[:, :2].mean(0))
            # the next frame is expected to move like this one as far as the camera's motion has
            # persisted from frame to frame (a pan: fully; a jerky hand at a low frame rate: hardly);
            # a still camera is expected to stay still (exactly as without camera_velocity)
            persist = self.camera_persistence[0] / max(self.camera_persistence[1], 1e-9)
            persist = min(max(float(persist), 0.0), 1.0)
            self.camera_step = np.eye(2, 3) + persist * (this_frame - np.eye(2, 3)) if moving else np.eye(2, 3)
            self.last_fitted_step = this_frame if moving and motion.reliable else None
        correction = compose(this_frame, no_camera)
        if float(np.abs(correction - np.eye(2, 3)).max()) <= 1e-9:   # (np.allclose, 5x cheaper)
            correction = np.eye(2, 3)
        self._move_tracks(correction)
        return BoxMotion(correction, motion.reliable, motion.inliers, motion.fitted)

    def _learn_camera_persistence(self, step: np.ndarray, point: np.ndarray) -> None:
        """Update the least-squares AR(1) coefficient of the camera's frame-to-frame motion (how much
        of one frame's motion the next repeats), measured by the displacement of ``point`` (where the
        tracks are), forgetting old frames at ``CAMERA_FORGET`` per frame."""
        if self.last_fitted_step is None:
            return
        move = step[:, :2] @ point + step[:, 2] - point
        before = self.last_fitted_step[:, :2] @ point + self.last_fitted_step[:, 2] - point
        self.camera_persistence = self.CAMERA_FORGET * self.camera_persistence + [move @ before, before @ before]

    def _first_stage_cost(self, rows: np.ndarray, dets: Detections, det_rows: np.ndarray) -> np.ndarray:
        """Stage-1 cost of track ``rows`` vs detections ``det_rows`` (BoT-SORT adds appearance)."""
        cfg = self.cfg
        buffer = 0.0
        if cfg.lost_iou_buffer > 0:
            lost_for = self.frame_id - 1 - self.tracks.last_frame[rows]
            buffer = np.minimum(cfg.lost_iou_buffer * lost_for, cfg.max_iou_buffer)
        return self._box_cost(rows, dets, det_rows, buffer=buffer, hmiou=cfg.height_iou,
                              fuse=cfg.fuse_score)

    def _box_cost(self, rows: np.ndarray, dets: Detections, det_rows: np.ndarray, buffer, hmiou: bool,
                  fuse: bool) -> np.ndarray:
        """1 - IoU between (optionally buffered) predicted boxes of track ``rows`` and detections
        ``det_rows``."""
        if len(rows) == 0 or len(det_rows) == 0:
            return np.zeros((len(rows), len(det_rows)))
        track_box = self.track_xyxy(rows)
        det_box = dets.xyxy[det_rows]
        if np.any(buffer > 0) if isinstance(buffer, np.ndarray) else buffer > 0:
            track_box = expand_boxes(track_box, buffer)
            det_box = expand_boxes(det_box, np.max(buffer) if np.ndim(buffer) == 0 else 0.0)
        sim = box_iou(track_box, det_box)
        if hmiou:
            sim = sim * height_iou(self.track_xyxy(rows), dets.xyxy[det_rows])
        if fuse:
            sim = sim * dets.score[None, det_rows]
        cost = 1.0 - sim
        if self.cfg.per_class:
            cost = gate_classes(cost, self.tracks.cls[rows], dets.cls[det_rows])
        return cost

    def _not_duplicates(self, candidates: np.ndarray, dets: Detections, matches: list) -> np.ndarray:
        """Drop candidate boxes that overlap a box matched this frame by more than ``init_iou_max``."""
        matched = np.concatenate(matches)[:, 1]
        if len(matched) == 0:
            return candidates
        overlap = box_iou(dets.xyxy[candidates], dets.xyxy[matched]).max(axis=1)
        return candidates[overlap <= self.cfg.init_iou_max]
