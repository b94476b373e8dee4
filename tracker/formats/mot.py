"""MOTChallenge files: the one place that reads and writes them.

Formats (comma separated, frames 1-based, boxes as top-left x, y, width, height):
    det.txt     : frame, -1, x, y, w, h, score[, ...]
    results/gt  : frame, id, x, y, w, h, score|conf, class|-1, vis|-1, -1
    seqinfo.ini : [Sequence] name, imDir, frameRate, seqLength, imWidth, imHeight, imExt

Readers validate and raise ``UserError`` with the file, line and reason, so a malformed file
ends in one clear line, never a NumPy traceback.

Example:
    >>> import io
    >>> dets = parse_det_text("1,-1,10,20,30,40,0.9\\n2,-1,0,0,5,5,0.5\\n", "det.txt")
    >>> sorted(dets), dets[1].xyxy.tolist()
    ([1, 2], [[10.0, 20.0, 40.0, 60.0]])
"""
from __future__ import annotations

import configparser
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Optional

import numpy as np

from ..boxes import tlwh_to_xyxy, xyxy_to_tlwh
from ..errors import UserError
from ..types import Detections, Tracks


def _fail(path, line_no: int, reason: str) -> UserError:
    where = f"{path}:{line_no}" if line_no else str(path)
    return UserError(f"malformed detection file {where}: {reason} "
                     "(expected MOTChallenge rows 'frame,-1,x,y,w,h,score[,...]')")


def parse_det_rows(text: str, path="<det>", min_cols: int = 7, max_frame: Optional[int] = None
                   ) -> np.ndarray:
    """Parse and validate det-file text into a float64 array (rows, cols >= min_cols).

    Accepts a UTF-8 byte-order mark, one header line before the first row (e.g.
    ``frame,id,x,y,w,h,score``: a first line that holds no number) and rows in any frame order
    (``rows_to_detections`` groups them by frame).
    Rejects: fewer than ``min_cols`` columns or rows of unequal length, non-numbers, NaN/inf,
    non-positive width/height, frame numbers < 1, not integers, or > ``max_frame``.
    ``min_cols`` below 7 is raised to 7: a det row always has frame, id, box and score.
    """
    min_cols = max(7, int(min_cols))
    rows = []
    line_nos = []
    ncols = None
    first_line = True
    for line_no, raw in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.replace(" ", ",").replace("\t", ",").split(",") if p.strip()]
        if first_line and _is_header(parts):
            first_line = False
            continue
        first_line = False
        if len(parts) < min_cols:
            raise _fail(path, line_no, f"{len(parts)} columns, need at least {min_cols}")
        if ncols is None:
            ncols = len(parts)
        elif len(parts) != ncols:
            raise _fail(path, line_no, f"{len(parts)} columns where earlier rows have {ncols}")
        try:
            vals = [float(p) for p in parts]
        except ValueError:
            raise _fail(path, line_no, "a value is not a number") from None
        if not all(math.isfinite(v) for v in vals):
            raise _fail(path, line_no, "NaN or infinite value")
        frame = vals[0]
        if frame != int(frame) or frame < 1:
            raise _fail(path, line_no, f"frame number {parts[0]} is not an integer >= 1")
        if max_frame is not None and frame > max_frame:
            raise _fail(path, line_no, f"frame {int(frame)} is beyond the source's {max_frame} frames")
        if vals[4] <= 0 or vals[5] <= 0:
            raise _fail(path, line_no, f"box width/height must be positive, got {parts[4]}x{parts[5]}")
        rows.append(vals)
        line_nos.append(line_no)
    if not rows:
        return np.zeros((0, min_cols), np.float64)
    arr = np.asarray(rows, np.float64)
    # boxes are float32 downstream: a value beyond float32's range, or a size that rounds to 0 there,
    # would become an inf or empty box
    with np.errstate(over="ignore", invalid="ignore"):
        xyxy = tlwh_to_xyxy(arr[:, 2:6]).astype(np.float32)
        score = arr[:, 6].astype(np.float32)
    bad = ~(np.isfinite(xyxy).all(axis=1) & np.isfinite(score) & (xyxy[:, 2] > xyxy[:, 0])
            & (xyxy[:, 3] > xyxy[:, 1]) & (np.abs(arr[:, 0]) < 2**62))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _fail(path, line_nos[i], "value out of range (box or score too large, or a size that "
                    "rounds to zero)")
    return arr


def _is_header(parts) -> bool:
    """A header line names the columns: none of its fields is a number."""
    for p in parts:
        try:
            float(p)
            return False
        except ValueError:
            pass
    return True


def rows_to_detections(rows: np.ndarray, feat_start: Optional[int] = None) -> Dict[int, Detections]:
    """Group det rows by frame into ``{frame (1-based): Detections}`` (class 0 = person).

    ``feat_start``: column where appearance features begin (e.g. 7 for the MOT17 .npy files);
    features are L2-normalised.
    """
    out: Dict[int, Detections] = {}
    if len(rows) == 0:
        return out
    frames = rows[:, 0].astype(np.int64)
    order = np.argsort(frames, kind="stable")
    rows, frames = rows[order], frames[order]
    starts = np.flatnonzero(np.r_[True, frames[1:] != frames[:-1]])
    ends = np.r_[starts[1:], len(frames)]
    for s, e in zip(starts, ends):
        r = rows[s:e]
        feat = None
        if feat_start is not None:
            feat = r[:, feat_start:].astype(np.float32)
            feat /= np.maximum(np.linalg.norm(feat, axis=1, keepdims=True), 1e-12)
        out[int(frames[s])] = Detections(tlwh_to_xyxy(r[:, 2:6]), r[:, 6], np.zeros(len(r), np.int64), feat)
    return out


def parse_det_text(text: str, path="<det>", max_frame: Optional[int] = None) -> Dict[int, Detections]:
    return rows_to_detections(parse_det_rows(text, path, max_frame=max_frame))


def read_det_file(path, max_frame: Optional[int] = None) -> Dict[int, Detections]:
    """Read a MOTChallenge det file into ``{frame (1-based): Detections}``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"detection file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig", errors="strict")  # -sig: a BOM is not data
    except (UnicodeDecodeError, OSError) as err:
        raise UserError(f"cannot read detection file {path}: {err.__class__.__name__}") from None
    return parse_det_text(text, path, max_frame=max_frame)


def read_feature_file(path) -> Dict[int, Detections]:
    """Read ``<seq>.npy`` rows ``frame,-1,x,y,w,h,score,f1..fD`` into Detections with ``feat``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"feature file not found: {path}")
    try:
        rows = np.load(path, allow_pickle=False)
    except Exception as err:  # numpy raises several types for bad files
        raise UserError(f"cannot read feature file {path}: {err}") from None
    if rows.ndim != 2 or rows.shape[1] < 8 or not np.isfinite(rows).all():
        raise UserError(f"feature file {path} must be a finite (N, 7+D) array, got shape {rows.shape}")
    return rows_to_detections(rows.astype(np.float64), feat_start=7)


def read_mot_results(path, max_frame: Optional[int] = None) -> np.ndarray:
    """Read a MOTChallenge results/gt file into a float64 (N, >=6) array (rows in file order).

    Like TrackEval: comma, space or tab separated, any number of columns >= 6 (shorter rows are
    padded with -1). A BOM and one header line are skipped. NaN/inf, non-integer or < 1 frame
    numbers and frames beyond ``max_frame`` are refused with the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"MOT file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig", errors="strict")
    except (UnicodeDecodeError, OSError) as err:
        raise UserError(f"cannot read MOT file {path}: {err.__class__.__name__}") from None
    rows, width, first_line = [], 0, True
    for line_no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p for p in line.replace(" ", ",").replace("\t", ",").split(",") if p.strip()]
        if first_line and _is_header(parts):
            first_line = False
            continue
        first_line = False
        where = f"malformed MOT file {path}:{line_no}:"
        if len(parts) < 6:
            raise UserError(f"{where} {len(parts)} columns, need at least 6 (frame,id,x,y,w,h,...)")
        try:
            vals = [float(p) for p in parts]
        except ValueError:
            raise UserError(f"{where} a value is not a number") from None
        if not all(math.isfinite(v) for v in vals):
            raise UserError(f"{where} NaN or infinite value")
        if vals[0] != int(vals[0]) or vals[0] < 1:
            raise UserError(f"{where} frame number {parts[0]} is not an integer >= 1")
        if max_frame is not None and vals[0] > max_frame:
            raise UserError(f"{where} frame {int(vals[0])} is beyond the sequence's {max_frame} frames")
        rows.append(vals)
        width = max(width, len(vals))
    if not rows:
        return np.zeros((0, 10), np.float64)
    arr = np.full((len(rows), max(width, 10)), -1.0)
    for i, vals in enumerate(rows):
        arr[i, :len(vals)] = vals
    return arr


def format_mot_rows(frame: int, tracks: Tracks) -> str:
    """MOTChallenge result lines for one frame (``frame`` is 1-based)."""
    tlwh = xyxy_to_tlwh(tracks.xyxy)
    return "".join(
        f"{frame},{int(tid)},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{s:.4f},-1,-1,-1\n"
        for tid, (x, y, w, h), s in zip(tracks.track_id, tlwh, tracks.score)
    )


def write_mot_results(path, per_frame: Iterable[tuple]) -> None:
    """Write ``(frame_1based, Tracks)`` pairs to a MOTChallenge results file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        for frame, tracks in per_frame:
            fh.write(format_mot_rows(frame, tracks))


@dataclass
class SeqInfo:
    name: str
    fps: float
    length: int
    width: int
    height: int
    im_dir: str = "img1"
    im_ext: str = ".jpg"


def read_seqinfo(seq_dir) -> SeqInfo:
    """Read ``<seq_dir>/seqinfo.ini``."""
    ini = Path(seq_dir) / "seqinfo.ini"
    cp = configparser.ConfigParser()
    try:
        cp.read(ini)
        s = cp["Sequence"]
        return SeqInfo(
            name=s.get("name", Path(seq_dir).name),
            fps=float(s.get("frameRate", 30)),
            length=int(s.get("seqLength", 0)),
            width=int(s.get("imWidth", 0)),
            height=int(s.get("imHeight", 0)),
            im_dir=s.get("imDir", "img1"),
            im_ext=s.get("imExt", ".jpg"),
        )
    except (KeyError, ValueError, configparser.Error) as err:
        raise UserError(f"malformed {ini}: {err}") from None


def is_mot_sequence(path) -> bool:
    return os.path.isfile(os.path.join(str(path), "seqinfo.ini"))


def write_mot_rows(path, rows: np.ndarray) -> None:
    """Write det/gt/result rows as given (frame and id columns as integers, the rest with 2-4 decimals)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = np.asarray(rows, np.float64).reshape(len(rows), -1)
    fmt = ["%d", "%d", "%.2f", "%.2f", "%.2f", "%.2f"] + ["%.4g"] * (rows.shape[1] - 6)
    np.savetxt(path, rows, fmt=fmt, delimiter=",")


def write_seqinfo(seq_dir, info: SeqInfo) -> None:
    """Write ``<seq_dir>/seqinfo.ini`` (the fields :func:`read_seqinfo` reads)."""
    Path(seq_dir).mkdir(parents=True, exist_ok=True)
    fps = f"{info.fps:g}"
    (Path(seq_dir) / "seqinfo.ini").write_text(
        f"[Sequence]\nname={info.name}\nimDir={info.im_dir}\nframeRate={fps}\nseqLength={info.length}\n"
        f"imWidth={info.width}\nimHeight={info.height}\nimExt={info.im_ext}\n")
