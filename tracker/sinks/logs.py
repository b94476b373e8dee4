"""Per-frame track logs: ``tracks.csv`` and MOTChallenge ``tracks.txt``.

Both are written a whole frame at a time, straight to the OS when the frame completes, so a run
that is killed leaves files that parse up to the last finished frame (no torn line); a write that
fails part-way (disk full) is cut back to the last whole frame. Rows of the two
files are in the same order, one per track per frame.
"""
from __future__ import annotations

import errno
import io
import os
from pathlib import Path
from typing import Mapping

from ..formats.mot import format_mot_rows
from ..types import Frame, Tracks

# ``detected``: 1 when the track was matched to a detection in this frame, 0 when the box is the
# tracker's prediction for a track lost a few frames (count detected rows for per-frame counts).
# New columns go at the end: readers look columns up by name, older ones by position.
CSV_HEADER = "frame,time_s,track_id,class_id,class_name,x1,y1,x2,y2,score,detected\n"

# Sinks stop (ENOSPC) while this much space is still free, so the video trailer and summary.json
# can still be written and every file stays valid.
MIN_FREE_BYTES = 64 * 1024


def check_free_space(fd: int, path, reserve: int = MIN_FREE_BYTES) -> None:
    """Raise ``OSError(ENOSPC)`` when the file system holding ``fd`` has less than ``reserve`` bytes free."""
    try:
        st = os.fstatvfs(fd)
    except OSError:
        return   # cannot tell: let the write itself report a full disk
    free = st.f_bavail * st.f_frsize
    if free < reserve:
        raise OSError(errno.ENOSPC, f"disk almost full ({free // 1024} KiB left), stopped before it fills",
                      str(path))


def _csv_field(text: str) -> str:
    """Quote a class name when CSV needs it (a bare ``\r`` is a line break to CSV readers too)."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


class _LineFile:
    """A text file written in whole frames: one ``write`` system call per frame, no user-space buffer.

    A frame's rows reach the OS in one ``os.write`` (so a ``kill -9`` cannot cut a line in half).
    If a write fails part-way (disk full), the file is cut back to the end of the last whole frame
    before the error is raised, so what is on disk always parses. A file whose folder was removed
    mid-run (its link count drops to 0) raises ``OSError(ENOENT)`` on the next frame instead of
    writing on into a deleted file.
    """

    def __init__(self, path: Path, header: str = "") -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self._size = 0   # bytes of whole frames on disk
        self.closed = False
        if header:
            self.write_block(header)

    def _error(self, err: OSError) -> OSError:
        return OSError(err.errno, err.strerror or str(err), str(self.path))

    def write_block(self, text: str) -> None:
        if self.closed:
            raise ValueError(f"{self.path} is closed")
        try:
            if os.fstat(self._fd).st_nlink == 0:
                raise OSError(errno.ENOENT, "output file was deleted (was the output folder removed?)")
        except OSError as err:
            raise self._error(err) from None
        if not text:
            return
        check_free_space(self._fd, self.path, MIN_FREE_BYTES + len(text))
        data = text.encode("utf-8")
        view = memoryview(data)
        done = 0
        try:
            while done < len(data):
                done += os.write(self._fd, view[done:])
        except OSError as err:
            try:   # never leave a torn line: back to the last whole frame
                os.ftruncate(self._fd, self._size)
            except OSError:
                pass
            raise self._error(err) from None
        self._size += len(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self._fd)


class CsvSink:
    """``frame,time_s,track_id,class_id,class_name,x1,y1,x2,y2,score,detected`` (frame is 1-based)."""

    def __init__(self, path, names: Mapping[int, str]) -> None:
        self.names = names
        self._file = _LineFile(path, CSV_HEADER)
        self.path = self._file.path

    def write(self, frame: Frame, tracks: Tracks) -> None:
        buf = io.StringIO()
        n = frame.index + 1
        for (x1, y1, x2, y2), tid, cls, score, det in zip(tracks.xyxy, tracks.track_id, tracks.cls, tracks.score,
                                                          tracks.det_index):
            name = _csv_field(self.names.get(int(cls), str(int(cls))))
            buf.write(f"{n},{frame.time_s:.3f},{int(tid)},{int(cls)},{name},"
                      f"{x1:.2f},{y1:.2f},{x2:.2f},{y2:.2f},{score:.4f},{int(det >= 0)}\n")
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
