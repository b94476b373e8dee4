"""Frames the caller already has: a numpy image, a list of images or image paths, any iterable or
generator of images (``tracker.track`` builds this source for everything that is not a path or URL).

Images are BGR ``uint8`` (H, W, 3), as OpenCV and ultralytics use them; grayscale and 16-bit images
are refused with a clear message, BGRA loses its alpha. A generator is read lazily, one frame at a
time, so an endless one works like a live source without dropping frames.

Example:
    >>> import numpy as np
    >>> src = FrameSource([np.zeros((4, 6, 3), np.uint8)] * 3, fps=10)
    >>> [(f.index, f.time_s) for f in src]
    [(0, 0.0), (1, 0.1), (2, 0.2)]
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator, Optional

import cv2
import numpy as np

from ..errors import UserError
from ..types import Frame
from .file import check_bgr8


class FrameSource:
    """Frames from memory or from a list of image files, in the order given; never drops any.

    Args:
        frames: numpy images and/or image paths (str or Path), any iterable.
        fps: frame rate for timestamps (``index / fps``); 30 when not given.
        name: display name (output file names).
        max_frames, vid_stride: as for files.
    """

    is_live = False

    def __init__(self, frames: Iterable, fps: Optional[float] = None, name: str = "frames",
                 source_id: str = "0", max_frames: Optional[int] = None, vid_stride: int = 1) -> None:
        self._frames = frames
        self.fps = float(fps) if fps else 30.0
        self.name = name
        self.source_id = source_id
        self.size = None
        self.max_frames = max_frames
        self.vid_stride = max(1, int(vid_stride))
        try:
            n = -(-len(frames) // self.vid_stride)   # type: ignore[arg-type]
        except TypeError:     # a generator: length unknown
            n = None
        self.frame_count = min(n, max_frames) if (n is not None and max_frames) else (n or max_frames)

    @staticmethod
    def _image(item, position: int) -> np.ndarray:
        if isinstance(item, (str, Path)):
            image = cv2.imread(str(item), cv2.IMREAD_UNCHANGED)
            if image is None:
                raise UserError(f"cannot read image {item}: missing or not an image")
            return check_bgr8(image, str(item))
        if hasattr(item, "detach"):   # a torch tensor (H, W, 3) on any device
            item = item.detach().cpu().numpy()
        if not isinstance(item, np.ndarray):
            raise UserError(f"frame {position} is a {type(item).__name__}: pass numpy images (H, W, 3) or "
                            "image paths")
        if item.ndim != 3 and item.ndim != 2:
            raise UserError(f"frame {position} has shape {item.shape}: expected an image (H, W, 3)")
        return check_bgr8(np.ascontiguousarray(item), f"frame {position}")

    def __iter__(self) -> Iterator[Frame]:
        yielded = 0
        first_size = None
        for index, item in enumerate(self._frames):
            if self.max_frames is not None and yielded >= self.max_frames:
                break
            if index % self.vid_stride:
                continue
            image = self._image(item, index)
            if first_size is None:
                first_size = image.shape[:2]
                self.size = (image.shape[1], image.shape[0])
            elif image.shape[:2] != first_size:
                raise UserError(f"frame {index} is {image.shape[1]}x{image.shape[0]}, the first was "
                                f"{first_size[1]}x{first_size[0]}: all frames of a source must have one size")
            yield Frame(index, index / self.fps, image, self.source_id)
            yielded += 1

    def close(self) -> None:
        close = getattr(self._frames, "close", None)   # a generator: let it run its finally blocks
        if callable(close):
            close()
