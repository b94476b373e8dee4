"""What every source is: an iterable of Frames with a few facts about itself."""
from __future__ import annotations

from typing import Iterator, Optional, Protocol, runtime_checkable

from ..types import Frame


@runtime_checkable
class Source(Protocol):
    """A stream of frames.

    Attributes:
        name: display name, safe to log and to use in file names (credentials masked).
        source_id: short id used in ``Frame.source_id`` and per-stream output folders.
        fps: nominal frame rate (0.0 when unknown).
        size: (width, height) when known before reading, else None.
        is_live: True for cameras/streams (may drop frames to stay real-time), False for files.
        frame_count: number of frames that will be read when known (files), else None.
    """

    name: str
    source_id: str
    fps: float
    size: Optional[tuple]
    is_live: bool
    frame_count: Optional[int]

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...
