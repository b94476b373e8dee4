"""Per-frame track logs: ``tracks.csv`` and MOTChallenge ``tracks.txt``.

Both are written a whole frame at a time and flushed when the frame completes, so a run that is
killed leaves files that parse up to the last finished frame (no torn line). Rows of the two
files are in the same order, one per track per frame.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Mapping

from ..eval.mot_io import format_mot_rows
from ..types import Frame, Tracks

CSV_HEADER = "frame,time_s,track_id,class_id,class_name,x1,y1,x2,y2,score\n"


def _csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


class _LineFile:
    """A text file written in whole frames: one ``write`` call then ``flush`` per frame."""

    def __init__(self, path: Path, header: str = "") -> None:
        self.path = Path(path)
        self._fh = open(self.path, "w", encoding="utf-8", newline="")
        if header:
            self._fh.write(header)
            self._fh.flush()

    def write_block(self, text: str) -> None:
        if text:
            self._fh.write(text)
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            try:
                self._fh.flush()
            finally:
                self._fh.close()


class CsvSink:
    """``frame,time_s,track_id,class_id,class_name,x1,y1,x2,y2,score`` (frame is 1-based)."""

    def __init__(self, path, names: Mapping[int, str]) -> None:
        self.names = names
        self._file = _LineFile(path, CSV_HEADER)
        self.path = self._file.path

    def write(self, frame: Frame, tracks: Tracks) -> None:
        buf = io.StringIO()
        n = frame.index + 1
        for (x1, y1, x2, y2), tid, cls, score in zip(tracks.xyxy, tracks.track_id, tracks.cls, tracks.score):
            name = _csv_field(self.names.get(int(cls), str(int(cls))))
            buf.write(f"{n},{frame.time_s:.3f},{int(tid)},{int(cls)},{name},"
                      f"{x1:.2f},{y1:.2f},{x2:.2f},{y2:.2f},{score:.4f}\n")
        self._file.write_block(buf.getvalue())

    def close(self) -> None:
        self._file.close()


class MotSink:
    """MOTChallenge results ``frame,id,x,y,w,h,score,-1,-1,-1`` (frame is 1-based)."""

    def __init__(self, path) -> None:
        self._file = _LineFile(path)
        self.path = self._file.path

    def write(self, frame: Frame, tracks: Tracks) -> None:
        self._file.write_block(format_mot_rows(frame.index + 1, tracks))

    def close(self) -> None:
        self._file.close()
