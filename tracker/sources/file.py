"""File sources: a video file, a folder of images, a MOTChallenge sequence.

Each is an iterable of ``Frame`` that never drops frames. Problems a user can cause (missing
file, undecodable video, empty folder, frames whose size changes) raise ``UserError``.

Example:
    >>> src = open_file_source("../shared/videos/cars.mp4", max_frames=10)   # doctest: +SKIP
    >>> [f.index for f in src]                                              # doctest: +SKIP
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterator, List, Optional

import cv2
import numpy as np

from ..errors import UserError
from ..formats.mot import is_mot_sequence, read_seqinfo
from ..types import Frame

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def check_bgr8(image: np.ndarray, where: str) -> np.ndarray:
    """Accept only 8-bit 3-channel (BGR) images, so every stage sees the same kind of pixels.

    Grayscale, 16-bit and alpha images are refused with a clear message rather than silently
    converted: a 16-bit thermal or depth frame scaled to 8 bits is rarely what the user meant.
    """
    if image.dtype != np.uint8:
        raise UserError(f"{where} is a {image.dtype} image: only 8-bit colour images are supported; "
                        "convert it to 8-bit BGR/RGB first")
    if image.ndim == 2 or image.shape[2] == 1:
        raise UserError(f"{where} is a grayscale image: only 3-channel colour images are supported; "
                        "convert it to BGR/RGB first")
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


class VideoFileSource:
    """Frames of a video file decoded with OpenCV; timestamps are ``index / fps``."""

    is_live = False

    def __init__(self, path: str, source_id: str = "0", max_frames: Optional[int] = None,
                 vid_stride: int = 1) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise UserError(f"source not found: {path}")
        if not self.path.is_file():
            raise UserError(f"source is not a file: {path}")
        if self.path.stat().st_size == 0:
            raise UserError(f"cannot read video {path}: the file is empty (0 bytes)")
        self.cap = cv2.VideoCapture(str(self.path))
        if not self.cap.isOpened():
            raise UserError(f"cannot open video {path}: not a video OpenCV can decode (corrupt or unsupported)")
        self.name = self.path.stem
        self.source_id = source_id
        fps = self.cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and np.isfinite(fps) and 0 < fps < 1000 else 30.0
        w, h = int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.size = (w, h) if w > 0 and h > 0 else None
        count = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.vid_stride = max(1, int(vid_stride))
        self.max_frames = max_frames
        n = -(-count // self.vid_stride) if count > 0 else None
        self.frame_count = min(n, max_frames) if (n is not None and max_frames) else (n or max_frames)

    def __iter__(self) -> Iterator[Frame]:
        index, yielded = 0, 0
        first_size = None
        try:
            while self.max_frames is None or yielded < self.max_frames:
                ok, image = self.cap.read()
                if not ok or image is None:
                    break
                if first_size is None:
                    first_size = image.shape[:2]
                elif image.shape[:2] != first_size:
                    raise UserError(
                        f"video {self.path} changes resolution at frame {index + 1} "
                        f"({first_size[1]}x{first_size[0]} → {image.shape[1]}x{image.shape[0]}); "
                        "re-encode it to one size first")
                yield Frame(index, index / self.fps, check_bgr8(image, str(self.path)), self.source_id)
                yielded += 1
                for _ in range(self.vid_stride - 1):     # grab() skips without decoding to pixels
                    index += 1
                    if not self.cap.grab():
                        return
                index += 1
            if yielded == 0:
                raise UserError(f"cannot read video {self.path}: no frame could be decoded "
                                "(corrupt, truncated or zero-frame file)")
        finally:
            self.close()

    def close(self) -> None:
        self.cap.release()


def natural_key(name: str) -> tuple:
    """Sort key that orders numbers in names by value: ``2.jpg`` before ``10.jpg``.

    >>> sorted(["10.jpg", "2.jpg", "1.jpg", "frame_011.png"], key=natural_key)
    ['1.jpg', '2.jpg', '10.jpg', 'frame_011.png']
    """
    # re.split with a group alternates text, number, text, ...: same-position parts compare alike
    parts = re.split(r"(\d+)", name.lower())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), name


def _list_images(folder: Path) -> List[Path]:
    """The images of ``folder`` in natural order (``1, 2, ..., 10``), as frame dumps number them."""
    images = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS and p.is_file()]
    return sorted(images, key=lambda p: natural_key(p.name))


class ImageFolderSource:
    """Images of a folder in natural name order (a MOTChallenge ``img1/`` or any frame dump:
    ``1.jpg, 2.jpg, ..., 10.jpg``, not ``1, 10, 11, 2``).

    Frame indexes count images (0-based), so frame ``k`` in outputs is the ``k``-th image (1-based).
    """

    is_live = False

    def __init__(self, folder: str, source_id: str = "0", fps: float = 30.0, name: Optional[str] = None,
                 max_frames: Optional[int] = None, vid_stride: int = 1) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise UserError(f"source not found: {folder}")
        self.images = _list_images(self.folder)
        if not self.images:
            raise UserError(f"no images ({', '.join(IMAGE_EXTS)}) in folder {folder}")
        self.vid_stride = max(1, int(vid_stride))
        self.indexes = list(range(0, len(self.images), self.vid_stride))[:max_frames]
        self.name = name or self.folder.name
        self.source_id = source_id
        self.fps = float(fps)
        self.frame_count = len(self.indexes)
        first = self._read(self.images[0])
        self.size = (first.shape[1], first.shape[0])

    def _read(self, path: Path) -> np.ndarray:
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise UserError(f"cannot read image {path}: corrupt or not an image")
        return check_bgr8(image, str(path))

    def __iter__(self) -> Iterator[Frame]:
        for index in self.indexes:
            image = self._read(self.images[index])
            if (image.shape[1], image.shape[0]) != self.size:
                raise UserError(
                    f"image {self.images[index].name} is {image.shape[1]}x{image.shape[0]} but earlier "
                    f"images in {self.folder} are {self.size[0]}x{self.size[1]}: all frames must share one size")
            yield Frame(index, index / self.fps, image, self.source_id)

    def close(self) -> None:
        pass


def open_mot_sequence(seq_dir: str, source_id: str = "0", max_frames: Optional[int] = None,
                      vid_stride: int = 1) -> ImageFolderSource:
    """A MOTChallenge sequence folder: ``seqinfo.ini`` gives fps and name, ``img1/`` the frames."""
    info = read_seqinfo(seq_dir)
    img_dir = Path(seq_dir) / info.im_dir
    if not img_dir.is_dir():
        raise UserError(f"MOT sequence {seq_dir} has no image folder '{info.im_dir}' "
                        "(use --detections with track eval for detections-only data)")
    return ImageFolderSource(str(img_dir), source_id, fps=info.fps, name=info.name,
                             max_frames=max_frames, vid_stride=vid_stride)


def open_file_source(path: str, source_id: str = "0", max_frames: Optional[int] = None,
                     vid_stride: int = 1, fps: Optional[float] = None):
    """Pick the file source for ``path``: MOT sequence folder, image folder or video file."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"source not found: {path}")
    if p.is_dir():
        if is_mot_sequence(p):
            return open_mot_sequence(path, source_id, max_frames, vid_stride)
        return ImageFolderSource(path, source_id, fps=fps or 30.0, max_frames=max_frames,
                                 vid_stride=vid_stride)
    if p.suffix.lower() in IMAGE_EXTS:
        raise UserError(f"{path} is a single image: pass the folder that holds the frames")
    if not os.access(p, os.R_OK):
        raise UserError(f"cannot read {path}: permission denied")
    return VideoFileSource(path, source_id, max_frames=max_frames, vid_stride=vid_stride)
