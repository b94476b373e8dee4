"""``track export-reid``: export a torch ReID embedder to ONNX and check that both agree.

The exported model takes ``images`` (N, 3, 256, 128) float32 RGB, ImageNet-normalised, with a
dynamic batch, and returns ``output`` (N, D) features: the same contract as
``../shared/models/osnet_x0_25_msmt17.onnx``, so ``--reid model.onnx`` loads it.

Example:
    track export-reid ../shared/models/osnet_x0_25_msmt17.pth --out osnet.onnx
    python -m tracker.reid.export runs/reid/finetuned.pth          # writes finetuned.onnx
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from ..errors import UserError
from .factory import TORCH_SUFFIXES, load_torch_checkpoint, resolve_reid_weights
from .torch_embedder import TorchEmbedder


def export_onnx(embedder: TorchEmbedder, out: Path, opset: int = 17, batch: int = 0) -> Path:
    """Write ``embedder.model`` as ONNX to ``out``; ``batch`` 0 means a dynamic batch dimension."""
    try:
        import onnx  # noqa: F401  (torch's exporter needs it; fail with a clear line instead)
    except ImportError:
        raise UserError("ONNX export needs the 'onnx' package: pip install onnx") from None
    model = embedder.model.float().cpu().eval()
    example = torch.zeros((batch or 2, 3, *embedder.input_hw))
    dynamic = None if batch else {"images": {0: "N"}, "output": {0: "N"}}
    out.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # the TorchScript exporter is deprecated in favour of dynamo, which needs onnxscript
        # and is slower; this model is a plain conv net that the classic exporter handles
        warnings.simplefilter("ignore")
        torch.onnx.export(model, example, str(out), input_names=["images"], output_names=["output"],
                          dynamic_axes=dynamic, opset_version=opset, dynamo=False)
    return out


def agreement(embedder_a, embedder_b, n: int = 8, seed: int = 0) -> float:
    """Smallest cosine similarity between two embedders' outputs on ``n`` random crops."""
    rng = np.random.default_rng(seed)
    crops = rng.integers(0, 256, (n, *embedder_a.input_hw, 3), dtype=np.uint8)
    a, b = embedder_a.embed_crops(crops), embedder_b.embed_crops(crops)
    return float((a * b).sum(axis=1).min())


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="track export-reid",
                                description="Export a torch ReID model (.pth/.pt) to ONNX.")
    p.add_argument("weights", help="torch ReID weights: path or name in TRACKER_WEIGHTS_DIR")
    p.add_argument("--out", type=Path, default=None,
                   help="output .onnx path (default: <weights stem>.onnx in the current folder)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.add_argument("--batch", type=int, default=0,
                   help="fixed batch size; 0 (default) exports a dynamic batch")
    p.add_argument("--no-check", action="store_true",
                   help="skip running the exported model against torch")
    return p.parse_args(argv)


def main_export(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``track export-reid``; returns the exit code (2 with one line on bad input)."""
    args = parse_args(argv)
    try:
        path = resolve_reid_weights(args.weights, device="cuda")  # prefers .pth/.pt for a bare name
        if path is None or path.suffix.lower() not in TORCH_SUFFIXES:
            raise UserError(f"torch ReID weights '{args.weights}' not found (need a .pth/.pt file)")
        embedder = load_torch_checkpoint(path)
        out = args.out or Path(path.stem + ".onnx")
        export_onnx(embedder, out, args.opset, args.batch)
        msg = f"exported {path} -> {out} (input images N x 3 x {embedder.input_hw[0]} x " \
              f"{embedder.input_hw[1]}, output N x {embedder.dim})"
        if not args.no_check:
            from .onnx import OnnxEmbedder

            msg += f"; torch/ONNX cosine agreement {agreement(embedder, OnnxEmbedder(out)):.6f}"
        print(msg)
        return 0
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return UserError.exit_code


if __name__ == "__main__":
    sys.exit(main_export())
