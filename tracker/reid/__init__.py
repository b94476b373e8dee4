"""Appearance re-identification: CNN embeddings of detection crops, for appearance-aware tracking.

    >>> from tracker.reid import load_embedder
    >>> emb = load_embedder("osnet_x0_25_msmt17")            # doctest: +SKIP
    >>> dets.feat = emb.embed(frame.image, dets.xyxy)        # doctest: +SKIP

Modules:
    base.py       the ``Embedder`` protocol + ``BaseEmbedder`` (cropping, batching, normalising)
    crops.py      one-pass crop + resize of a frame's boxes, network input normalisation
    osnet.py      OSNet x0.25..x1.0 in torch, loads torchreid checkpoints; ``TorchEmbedder``
    onnx.py       ``OnnxEmbedder`` (ONNX Runtime)
    backbone.py   ``TorchvisionEmbedder``: ResNet/MobileNet without classifier
    factory.py    ``load_embedder(spec, device, half)``: path or name -> embedder
    export.py     ``main_export(argv)``: ``track export-reid`` (torch -> ONNX)
    appearance.py ``occlusion_mask``/``clean_for_update``: which embeddings trackers should keep
"""
from .appearance import clean_for_update, occlusion_mask, overlap_fraction
from .base import BaseEmbedder, Embedder
from .factory import load_embedder, resolve_reid_weights

__all__ = ["BaseEmbedder", "Embedder", "clean_for_update", "load_embedder", "occlusion_mask",
           "overlap_fraction", "resolve_reid_weights"]
