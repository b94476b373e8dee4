"""The appearance-embedding protocol and the shared batching logic of every embedder.

An embedder turns the boxes of a frame into unit-length appearance vectors, one per box, so that
the cosine similarity of two vectors says how alike the two people look:

    >>> emb = load_embedder("osnet_x0_25_msmt17")           # doctest: +SKIP
    >>> feat = emb.embed(frame.image, dets.xyxy)            # doctest: +SKIP
    >>> feat.shape, float((feat[0] * feat[0]).sum())        # doctest: +SKIP
    ((N, 512), 1.0)

Concrete embedders (OSNet in torch, OSNet in ONNX Runtime, a torchvision backbone) subclass
``BaseEmbedder`` and only implement ``_forward``: a float32 (B, 3, H, W) batch in, (B, D) out.
Cropping, chunking into ``max_batch`` pieces, invalid boxes and normalisation live here, once.
"""
from __future__ import annotations

from typing import List, Protocol, Sequence, Tuple, runtime_checkable

import numpy as np

from .crops import REID_INPUT_HW, crop_boxes, l2_normalise, to_network_input


@runtime_checkable
class Embedder(Protocol):
    """What the pipeline and the trackers rely on."""

    #: embedding length D
    dim: int
    #: short human-readable description, e.g. "osnet_x0_25 (onnxruntime, cpu)"
    name: str

    def embed(self, image_bgr: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
        """(N, D) float32 unit-norm embeddings of the N boxes of one BGR frame.

        Boxes that cover no pixel of the frame get an all-zero row (cosine similarity 0 to all).
        """
        ...

    def embed_batch(self, images: Sequence[np.ndarray], boxes: Sequence[np.ndarray]
                    ) -> List[np.ndarray]:
        """``embed`` for several frames, run as one network batch; one (N_i, D) array per frame."""
        ...


class BaseEmbedder:
    """Crops, batches and normalises; subclasses provide ``_forward`` and set ``dim``/``name``.

    Args:
        input_hw: network input size (height, width); person ReID uses 256x128.
        max_batch: largest batch handed to the network at once (bounds memory on crowded frames).
    """

    dim: int = 0
    name: str = "embedder"

    def __init__(self, input_hw: Tuple[int, int] = REID_INPUT_HW, max_batch: int = 64) -> None:
        self.input_hw = tuple(input_hw)
        self.max_batch = max(1, int(max_batch))

    # -- subclasses implement this ------------------------------------------------------------
    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """(B, 3, H, W) float32 normalised RGB -> (B, D) raw (not yet normalised) features."""
        raise NotImplementedError

    # -- shared logic -----------------------------------------------------------------------
    def embed_crops(self, crops_bgr: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 BGR crops already at ``input_hw`` -> (N, D) unit-norm float32.

        Useful when crops come from elsewhere (training data, the ONNX/torch agreement test).
        """
        if len(crops_bgr) == 0:
            return np.zeros((0, self.dim), np.float32)
        out = []
        for start in range(0, len(crops_bgr), self.max_batch):
            batch = to_network_input(crops_bgr[start:start + self.max_batch])
            out.append(np.asarray(self._forward(batch), np.float32))
        return l2_normalise(np.concatenate(out))

    def embed(self, image_bgr: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
        return self.embed_batch([image_bgr], [xyxy])[0]

    def embed_batch(self, images: Sequence[np.ndarray], boxes: Sequence[np.ndarray]
                    ) -> List[np.ndarray]:
        if len(images) != len(boxes):
            raise ValueError(f"embed_batch got {len(images)} images but {len(boxes)} box arrays")
        crops, valid, counts = [], [], []
        for image, xyxy in zip(images, boxes):
            c, v = crop_boxes(image, xyxy, self.input_hw)
            crops.append(c[v])  # only boxes that show pixels go through the network
            valid.append(v)
            counts.append(len(v))
        feats = self.embed_crops(np.concatenate(crops)) if sum(map(len, crops)) else None
        results, used = [], 0
        for v, n in zip(valid, counts):
            out = np.zeros((n, self.dim), np.float32)
            k = int(v.sum())
            if k:
                out[v] = feats[used:used + k]
                used += k
            results.append(out)
        return results

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} dim={self.dim}>"
