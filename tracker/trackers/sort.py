"""SORT (Bewley et al. 2016): Kalman prediction + IoU + Hungarian — and the life cycle all trackers share.

:class:`SortTracker` owns everything common to the tracker family: the Kalman filter, the track table,
the frame loop (predict -> associate -> update matched -> age unmatched -> start new -> report), id
allocation and memory caps. Subclasses replace only :meth:`SortTracker._associate` (and, for BoT-SORT,
the prediction step with camera-motion compensation).

Options shared by the whole family (``SortConfig``), each a switch in the trackers' YAML files:
``nsa`` (confidence-scaled Kalman noise), ``oru`` (OC-SORT re-update after a gap),
``report_lost_frames`` (report a just-lost track at its predicted box for a few frames: the object is
usually still there, occluded) with ``report_lost_gate`` (only when that box is trustworthy: the
frame's camera-motion estimate is reliable and/or the box is hidden behind a visible track), ``per_class`` (class-gated association), ``max_lost_tracks`` (memory
cap on endless streams).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..boxes import inside_fraction, xyxy_to_xywh
from ..errors import UserError
from ..types import Detections, Tracks
from .appearance import clean_for_update
from .kalman import BoxKalman
from .match_motion import BoxMotion
from .matching import gate_classes, iou_cost, linear_assignment
from .track import LOST, TENTATIVE, TRACKED, TrackTable


@dataclass
class SortConfig:
    """Parameters shared by every tracker (documented in ``configs/trackers/*.yaml``)."""

    det_thresh: float = field(default=0.3, metadata={"search": (0.1, 0.6)})  # detections scoring below this are ignored
    match_thresh: float = field(default=0.7, metadata={"search": (0.5, 0.9)})  # largest 1-IoU cost accepted for a match (IoU >= 0.3)
    new_track_thresh: float = field(default=0.3, metadata={"search": (0.1, 0.7)})  # a detection must score this much to start a track
    min_hits: int = field(default=3, metadata={"search": (1, 5)})  # matches in a row before a new track is confirmed and reported
    track_buffer: int = field(default=30, metadata={"search": (10, 120)})  # frames (at 30 fps; scaled with the frame rate) a lost track is kept
    per_class: bool = False  # only match tracks and detections of the same class
    nsa: bool = False  # NSA Kalman: measurement noise scaled by (1 - score)
    oru: bool = False  # OC-SORT observation-centric re-update when a lost track is found again
    std_pos: float = 0.05  # Kalman position noise, fraction of box size
    std_vel: float = 0.00625  # Kalman velocity noise, fraction of box size
    output_box: str = "kalman"  # report the filtered box ("kalman") or the matched detection's ("detection")
    max_lost_tracks: int = 1000  # memory cap: oldest lost tracks are dropped beyond this
    lost_velocity_decay: float = 1.0  # a lost track's speed is multiplied by this every frame
    report_lost_frames: int = 0  # also report lost tracks (predicted box) this many frames (at 30 fps)
    report_lost_gate: str = "always"  # ... when: always | motion | hidden | motion_or_hidden | motion_and_hidden
    hidden_overlap: float = 0.5  # "hidden": this much of the lost box is covered by a visible track's box
    report_lost_inside: bool = False  # ... and only while at least half the box is inside the area detections have covered


LOST_REPORT_GATES = ("always", "motion", "hidden", "motion_or_hidden", "motion_and_hidden")


def corners_from_centre(xywh: np.ndarray) -> np.ndarray:
    """``boxes.xywh_to_xyxy`` without its input checks: called several times per frame on the hot path."""
    half = xywh[:, 2:] / 2
    return np.concatenate([xywh[:, :2] - half, xywh[:, :2] + half], axis=1)


class SortTracker:
    """SORT: one IoU association of all confirmed and tentative tracks with all confident detections.

    Args:
        config: the tracker's parameters.
        frame_rate: the source's frames per second (scales ``track_buffer``).
    """

    config_class = SortConfig

    def __init__(self, config: Optional[SortConfig] = None, frame_rate: float = 30.0) -> None:
        self.cfg = config or self.config_class()
        if self.cfg.output_box not in ("kalman", "detection"):
            raise UserError(f"output_box must be 'kalman' or 'detection', got {self.cfg.output_box!r}")
        if self.cfg.report_lost_gate not in LOST_REPORT_GATES:
            raise UserError(f"report_lost_gate must be one of {', '.join(LOST_REPORT_GATES)}, "
                            f"got {self.cfg.report_lost_gate!r}")
        self.frame_rate = float(frame_rate) if frame_rate and frame_rate > 0 else 30.0
        # the buffer is given in frames at 30 fps so one config fits every frame rate
        self.max_lost = max(1, int(round(self.cfg.track_buffer * self.frame_rate / 30.0)))
        self.report_lost = int(round(self.cfg.report_lost_frames * self.frame_rate / 30.0))
        self.kf = BoxKalman(self.cfg.std_pos, self.cfg.std_vel, nsa=self.cfg.nsa)
        self.reset()

    def reset(self) -> None:
        """Forget every track; ids start again at 1 (use for a new video)."""
        self.tracks = TrackTable()
        self.frame_id = 0
        self.next_id = 1
        # this frame's camera motion fitted from matches (ByteTrack family's motion_from_matches);
        # "unreliable" when not estimated
        self.motion = BoxMotion()
        # the area detections have covered so far (x1, y1, x2, y2): the image, as far as the tracker knows
        self.seen_area = np.array([np.inf, np.inf, -np.inf, -np.inf])

    def embedding_min_score(self) -> Optional[float]:
        """Lowest detection score whose appearance embedding this tracker can use; None when it
        uses no embeddings at all. The pipeline embeds only those detections (ReID is the most
        expensive per-box step)."""
        return None

    def notice_gap(self) -> None:
        """The next frame does not follow the last one (a stream outage): forget frame-to-frame
        state. Tracks are kept; SORT itself has no such state, BoT-SORT's camera motion does."""

    # -- the frame loop ----------------------------------------------------------------------------
    def update(self, dets: Detections, image: Optional[np.ndarray] = None) -> Tracks:
        """Track one frame: returns the confirmed tracks matched to a detection in this frame (plus,
        with ``report_lost_frames``, recently lost ones at their predicted box, ``det_index`` -1).

        ``dets`` may also be an N x 5/6/7 array, ultralytics ``Results``/``Boxes`` or supervision
        ``Detections`` (see ``Detections.coerce``)."""
        dets = Detections.coerce(dets)
        self.frame_id += 1
        tracks = self.tracks
        keep = np.nonzero(dets.score >= self.cfg.det_thresh)[0]
        if len(keep) < len(dets):  # (no copy when every box is kept; the tracker never writes to dets)
            dets = dets[keep]  # positions in ``keep`` map back to the caller's detection indices

        if len(dets) and self.cfg.report_lost_inside:
            self.seen_area = np.concatenate([np.minimum(self.seen_area[:2], dets.xyxy[:, :2].min(0)),
                                             np.maximum(self.seen_area[2:], dets.xyxy[:, 2:].max(0))])
        self._predict(image)
        tracks.det_index[:] = -1
        matches, new_candidates = self._associate(dets)
        self._update_matched(matches, dets, keep)
        self._start_tracks(dets, new_candidates, keep)
        self._age_unmatched()
        return self._report(dets)

    def _predict(self, image: Optional[np.ndarray]) -> None:
        t = self.tracks
        if len(t) == 0:
            return
        # like ByteTrack: a track we cannot see should not keep growing or shrinking
        unseen = t.state == LOST
        t.mean[unseen, 7] = 0.0
        if self.cfg.lost_velocity_decay != 1.0:  # unseen objects tend to slow down or stop
            t.mean[unseen, 4:6] *= self.cfg.lost_velocity_decay
        t.mean, t.cov = self.kf.predict(t.mean, t.cov, self._velocity_noise())

    def _velocity_noise(self) -> Optional[np.ndarray]:
        """Each track's Kalman velocity noise for this prediction, (N,); None: the filter's ``std_vel``
        for all (OC-SORT's ``calm_std_vel`` chooses one per track)."""
        return None

    def _associate(self, dets: Detections) -> tuple[np.ndarray, np.ndarray]:
        """Return matches ``(K, 2)`` of ``[track row, det row]`` and det rows that may start tracks."""
        cost = self._iou_cost(np.arange(len(self.tracks)), dets)
        matches, _, unmatched_dets = linear_assignment(cost, self.cfg.match_thresh)
        return matches, unmatched_dets

    # -- shared building blocks --------------------------------------------------------------------
    def track_xyxy(self, rows: np.ndarray) -> np.ndarray:
        """Predicted boxes (xyxy) of track rows."""
        return corners_from_centre(self.tracks.mean[rows, :4])

    def _iou_cost(self, rows: np.ndarray, dets: Detections) -> np.ndarray:
        cost = iou_cost(self.track_xyxy(rows), dets.xyxy)
        if self.cfg.per_class:
            cost = gate_classes(cost, self.tracks.cls[rows], dets.cls)
        return cost

    def _update_matched(self, matches: np.ndarray, dets: Detections, keep: np.ndarray) -> None:
        if len(matches) == 0:
            return
        t = self.tracks
        rows, det_rows = matches[:, 0], matches[:, 1]
        xywh = xyxy_to_xywh(dets.xyxy[det_rows]).astype(np.float64)
        score = dets.score[det_rows]
        if self.cfg.oru:
            self._observation_centric_reupdate(rows, xywh, score)
        mean, cov = self.kf.update(t.mean[rows], t.cov[rows], xywh, score)
        feat, feat_ok = None, None
        if dets.feat is not None:
            feat = dets.feat[det_rows]
            feat_ok = self._clean_views(dets)[det_rows]
        # feat_momentum exists for trackers that smooth embeddings (BoT-SORT); others keep the default
        t.record_match(rows, mean, cov, xywh, score, dets.cls[det_rows], keep[det_rows], self.frame_id,
                       feat, getattr(self.cfg, "feat_momentum", 0.9), feat_ok)
        # lost tracks found again are TRACKED at once; tentative ones after min_hits matches
        confirm = rows[(t.state[rows] == LOST) | (t.hits[rows] >= self.cfg.min_hits)]
        self.next_id = t.confirm(confirm, self.next_id)

    def _clean_views(self, dets: Detections) -> np.ndarray:
        """(N,) bool: detections whose embedding may update a track's appearance memory.

        A weak or partly covered box's crop shows the background or the person in front; learning
        from it would drift the track's appearance towards someone else's.
        """
        return clean_for_update(dets.xyxy, dets.score,
                                occlusion_thresh=getattr(self.cfg, "appearance_max_overlap", 1.0),
                                min_score=getattr(self.cfg, "appearance_min_score", 0.0))

    def _observation_centric_reupdate(self, rows: np.ndarray, xywh: np.ndarray, score: np.ndarray
                                      ) -> None:
        """OC-SORT's ORU: after a gap, re-run the filter from the last observation along a straight
        line of virtual observations to the new one, so the velocity reflects the real motion instead
        of the drift accumulated while the track was unseen. Changes ``mean``/``cov`` of ``rows``."""
        t = self.tracks
        gap = self.frame_id - t.last_frame[rows]
        redo = np.flatnonzero(gap > 1)
        if len(redo) == 0:
            return
        r, steps = rows[redo], gap[redo]
        mean, cov = t.obs_mean[r].copy(), t.obs_cov[r].copy()
        start, end = t.obs_xywh[r], xywh[redo]
        for k in range(1, int(steps.max())):  # virtual observations for the frames in between
            active = np.flatnonzero(k < steps)
            m, c = self.kf.predict(mean[active], cov[active])
            frac = (k / steps[active])[:, None]
            virtual = start[active] + frac * (end[active] - start[active])
            mean[active], cov[active] = self.kf.update(m, c, virtual, score[redo][active])
        # predict once more to the current frame; the real update follows in the caller
        t.mean[r], t.cov[r] = self.kf.predict(mean, cov)

    def _start_tracks(self, dets: Detections, det_rows: np.ndarray, keep: np.ndarray) -> None:
        det_rows = det_rows[dets.score[det_rows] >= self.cfg.new_track_thresh]
        if len(det_rows) == 0:
            return
        xywh = xyxy_to_xywh(dets.xyxy[det_rows]).astype(np.float64)
        mean, cov = self.kf.initiate(xywh)
        # on the first frame the objects are already there: confirm at once (as ByteTrack does)
        first = self.frame_id == 1 or self.cfg.min_hits <= 1
        state = np.full(len(det_rows), TRACKED if first else TENTATIVE, np.int8)
        t = self.tracks
        n_old = len(t)
        feat = None if dets.feat is None else dets.feat[det_rows]
        t.append(mean, cov, xywh, dets.score[det_rows], dets.cls[det_rows], keep[det_rows],
                 self.frame_id, state, feat, getattr(self.cfg, "gallery_budget", 0))
        if first:
            self.next_id = t.confirm(np.arange(n_old, len(t)), self.next_id)

    def _age_unmatched(self) -> None:
        """Tracks not matched this frame: tentative ones die, tracked ones become lost, old lost die."""
        t = self.tracks
        unmatched = t.last_frame != self.frame_id
        t.state[unmatched & (t.state == TRACKED)] = LOST
        dead = unmatched & (t.state == TENTATIVE)
        is_lost = t.state == LOST
        dead |= is_lost & (self.frame_id - t.last_frame > self.max_lost)
        is_lost &= ~dead
        if np.count_nonzero(is_lost) > self.cfg.max_lost_tracks:  # memory cap on endless streams
            lost = np.nonzero(is_lost)[0]
            oldest = lost[np.argsort(t.last_frame[lost], kind="stable")]
            dead[oldest[: len(lost) - self.cfg.max_lost_tracks]] = True
        if dead.any():
            t.keep(~dead)

    def _lost_trustworthy(self, lost: np.ndarray, visible: np.ndarray) -> np.ndarray:
        """(len(lost),) bool: lost tracks whose predicted box may be reported (``report_lost_gate``).

        A predicted box is worth reporting when it is where the object is: the camera motion is
        known (a reliable estimate this frame) and/or the object is hidden behind a visible track
        (the usual reason for a miss) rather than gone or missed in the open.
        """
        gate = self.cfg.report_lost_gate
        ok = np.ones(len(lost), bool)
        if self.cfg.report_lost_inside and len(lost):  # an object leaving the view is gone, not hidden
            # at least half of the box inside: a person at the border, half in view, is still there
            ok = inside_fraction(self.track_xyxy(lost), self.seen_area) >= 0.5
        if gate == "always" or len(lost) == 0:
            return ok
        motion = np.full(len(lost), self.motion.reliable)
        if gate == "motion":
            return ok & motion
        hidden = np.zeros(len(lost), bool)
        if len(visible):
            a, b = self.track_xyxy(lost), self.track_xyxy(visible)
            iw = np.maximum(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0)
            ih = np.maximum(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0)
            area = np.maximum((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]), 1e-9)
            hidden = (iw * ih).max(axis=1) / area >= self.cfg.hidden_overlap
        if gate == "hidden":
            return ok & hidden
        return ok & ((motion | hidden) if gate == "motion_or_hidden" else (motion & hidden))

    def _report(self, dets: Detections) -> Tracks:
        t = self.tracks
        rows = np.flatnonzero((t.state == TRACKED) & (t.last_frame == self.frame_id))
        if self.report_lost > 0:  # short occlusions: the predicted box is a better guess than nothing
            lost = np.flatnonzero((t.state == LOST) & (self.frame_id - t.last_frame <= self.report_lost))
            rows = np.concatenate([rows, lost[self._lost_trustworthy(lost, rows)]])
        xyxy = corners_from_centre(t.mean[rows, :4])
        if self.cfg.output_box == "detection":
            seen = t.last_frame[rows] == self.frame_id
            xyxy[seen] = corners_from_centre(t.obs_xywh[rows[seen]])
        return Tracks(xyxy, t.track_id[rows], t.score[rows], t.cls[rows], t.det_index[rows])
