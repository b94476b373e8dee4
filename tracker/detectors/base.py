"""What every detector is: frames in, one Detections per frame out."""
from __future__ import annotations

from typing import Dict, List, Protocol, Sequence, runtime_checkable

from ..types import Detections, Frame


@runtime_checkable
class Detector(Protocol):
    """Detects objects in a batch of frames.

    Attributes:
        names: class id → class name for the ids this detector emits.
    """

    names: Dict[int, str]

    def detect(self, frames: Sequence[Frame]) -> List[Detections]:
        """One ``Detections`` per frame, in order, boxes in the frame's pixel coordinates."""
        ...
