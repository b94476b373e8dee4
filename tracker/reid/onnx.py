"""Embedders exported to ONNX, run with ONNX Runtime (usually the fastest choice on CPU).

The model must take one float32 input ``(N, 3, H, W)`` (RGB, ImageNet-normalised; ``H, W`` are read
from the model, 256x128 when dynamic) and return ``(N, D)`` features, like
``../shared/models/osnet_x0_25_msmt17.onnx`` or a file written by ``track export-reid``.

Example:
    >>> emb = OnnxEmbedder("../shared/models/osnet_x0_25_msmt17.onnx")   # doctest: +SKIP
    >>> emb.embed(frame_bgr, boxes).shape                                # doctest: +SKIP
    (N, 512)
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..errors import UserError
from .base import BaseEmbedder


def _providers(device: str) -> list:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device.startswith("cuda"):
        if "CUDAExecutionProvider" not in available:
            # the GPU was asked for the whole run (detector too); ReID can still run, on the CPU
            print("warning: onnxruntime has no CUDA provider, ReID runs on the CPU (install "
                  f"onnxruntime-gpu, or pass the .pth weights to use the GPU)", file=sys.stderr)
            return ["CPUExecutionProvider"]
        index = device.split(":")[1] if ":" in device else "0"
        return [("CUDAExecutionProvider", {"device_id": int(index)}), "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


class OnnxEmbedder(BaseEmbedder):
    """ONNX Runtime session over an embedding model.

    Args:
        path: the ``.onnx`` file.
        device: "cpu" or "cuda[:i]" (needs onnxruntime-gpu).
        threads: intra-op threads; default: ``OMP_NUM_THREADS`` if set, else ONNX Runtime's choice.
    """

    def __init__(self, path, device: str = "cpu", threads: Optional[int] = None,
                 max_batch: int = 64) -> None:
        import onnxruntime as ort

        path = Path(path)
        opts = ort.SessionOptions()
        threads = threads or int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
        if threads:
            opts.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), sess_options=opts,
                                                providers=_providers(device))
        except UserError:
            raise
        except Exception as err:  # onnxruntime raises its own exception types
            raise UserError(f"cannot load ReID model {path}: {str(err).splitlines()[0]}") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise UserError(f"ReID model {path} must have one (N, 3, H, W) input")
        shape: Sequence = inputs[0].shape
        height = shape[2] if isinstance(shape[2], int) else 256
        width = shape[3] if isinstance(shape[3], int) else 128
        self.input_name = inputs[0].name
        self.fixed_batch = shape[0] if isinstance(shape[0], int) else None
        super().__init__((height, width), max_batch if self.fixed_batch is None else self.fixed_batch)
        out_shape = self.session.get_outputs()[0].shape
        if isinstance(out_shape[-1], int):
            self.dim = int(out_shape[-1])
        else:  # dynamic feature size: ask the model once
            self.dim = int(self._forward(np.zeros((1, 3, height, width), np.float32)).shape[1])
        self.name = f"{path.stem} (onnxruntime, {device})"

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        n = len(batch)
        if self.fixed_batch is not None and n != self.fixed_batch:
            # a model exported with a fixed batch: pad the last chunk (BaseEmbedder chunks to it)
            pad = np.zeros((self.fixed_batch - n, *batch.shape[1:]), np.float32)
            batch = np.concatenate([batch, pad])
        out = self.session.run(None, {self.input_name: batch})[0]
        return np.asarray(out, np.float32).reshape(len(batch), -1)[:n]
