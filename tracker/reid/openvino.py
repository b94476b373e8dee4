"""Embedders run by OpenVINO on the CPU: the same ``.onnx`` files ``onnx.py`` runs, read directly
(OpenVINO needs no conversion step for ONNX).

Whether it pays over ONNX Runtime is measured in docs/benchmarks.md (``tools/bench_reid.py``);
``load_embedder(spec, runtime="openvino")`` picks it. FP32 is forced, like for the detector: on
CPUs with bf16 units OpenVINO would otherwise compute in bf16 and move the embeddings.

Example:
    >>> emb = OpenVinoEmbedder("../shared/models/osnet_x0_25_msmt17.onnx")   # doctest: +SKIP
    >>> emb.embed(frame_bgr, boxes).shape                                    # doctest: +SKIP
    (N, 512)
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import UserError
from ..runtimes import cpu_threads
from .base import BaseEmbedder


class OpenVinoEmbedder(BaseEmbedder):
    """OpenVINO CPU inference over an embedding model (``.onnx`` or OpenVINO ``.xml``).

    Args:
        path: the model file; one float32 (N, 3, H, W) input, (N, D) output; N may be dynamic.
        threads: CPU threads; default every core this process may use.
    """

    def __init__(self, path, threads: Optional[int] = None, max_batch: int = 64) -> None:
        import openvino as ov

        path = Path(path)
        core = ov.Core()
        try:
            model = core.read_model(str(path))
            shape = model.input(0).get_partial_shape()
            if shape.rank.get_length() != 4:
                raise UserError(f"ReID model {path} must have one (N, 3, H, W) input")
            height = shape[2].get_length() if shape[2].is_static else 256
            width = shape[3].get_length() if shape[3].is_static else 128
            self.fixed_batch = shape[0].get_length() if shape[0].is_static else None
            self.compiled = core.compile_model(model, "CPU", {
                "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": ov.Type.f32,
                "INFERENCE_NUM_THREADS": cpu_threads(threads)})
        except UserError:
            raise
        except Exception as err:   # OpenVINO raises RuntimeError with long messages
            raise UserError(f"cannot load ReID model {path} with OpenVINO: {str(err).splitlines()[0]}") from None
        self.request = self.compiled.create_infer_request()
        super().__init__((height, width), max_batch if self.fixed_batch is None else self.fixed_batch)
        self.dim = int(self._forward(np.zeros((1, 3, height, width), np.float32)).shape[1])
        self.name = f"{path.stem} (openvino, cpu)"

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        n = len(batch)
        if self.fixed_batch is not None and n != self.fixed_batch:
            pad = np.zeros((self.fixed_batch - n, *batch.shape[1:]), np.float32)
            batch = np.concatenate([batch, pad])
        out = self.request.infer({0: np.ascontiguousarray(batch, np.float32)})
        return np.asarray(out[self.compiled.output(0)], np.float32).reshape(len(batch), -1)[:n].copy()
