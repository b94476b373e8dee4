"""Appearance re-identification: CNN embeddings of detection crops, for appearance-aware tracking.

    >>> from tracker.reid import load_embedder
    >>> emb = load_embedder("osnet_x0_25_msmt17")            # doctest: +SKIP
    >>> dets.feat = emb.embed(frame.image, dets.xyxy)        # doctest: +SKIP

Modules:
    base.py       the ``Embedder`` protocol + ``BaseEmbedder`` (cropping, batching, normalising)
    crops.py      one-pass crop + resize of a frame's boxes, network input normalisation
    torch_embedder.py  ``TorchEmbedder`` (any nn.Module) + ``clean_state_dict``: the bottom layer
    osnet.py      OSNet x0.25..x1.0 in torch, loads torchreid checkpoints
    onnx.py       ``OnnxEmbedder`` (ONNX Runtime)
    backbone.py   ``TorchvisionEmbedder``: ResNet/MobileNet without classifier
    factory.py    ``load_embedder(spec, device, half)``: path or name -> embedder
    export.py     ``main_export(argv)``: ``track export-reid`` (torch -> ONNX)

``occlusion_mask``/``clean_for_update`` (which embeddings a track learns from) live with the trackers
(``tracker/trackers/appearance.py``) and are re-exported here.
"""
from ..boxes import overlap_fraction
from ..trackers.appearance import clean_for_update, occlusion_mask
from .base import BaseEmbedder, Embedder
from .factory import load_embedder, resolve_reid_weights

__all__ = ["BaseEmbedder", "Embedder", "clean_for_update", "load_embedder", "occlusion_mask",
           "overlap_fraction", "resolve_reid_weights"]
