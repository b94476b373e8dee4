"""Re-identification retrieval metrics: rank-k accuracy (CMC) and mean average precision.

Each query embedding is compared (cosine similarity) with every gallery embedding; a gallery item
is a correct hit when it has the query's identity. rank-1 = fraction of queries whose most similar
gallery item is correct; mAP = mean over queries of the average precision of the ranked list.
Queries whose identity is absent from the gallery are skipped (they cannot be answered).

Example:
    >>> import numpy as np
    >>> q = np.array([[1.0, 0.0], [0.0, 1.0]]); g = np.array([[0.9, 0.1], [0.1, 0.9], [0.7, 0.7]])
    >>> r = retrieval_metrics(q, np.array([1, 2]), g, np.array([1, 2, 1]))
    >>> r["rank1"], round(r["mAP"], 3)
    (1.0, 1.0)
"""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np


def retrieval_metrics(query: np.ndarray, query_ids: np.ndarray, gallery: np.ndarray,
                      gallery_ids: np.ndarray, ranks: Tuple[int, ...] = (1, 5)) -> Dict[str, float]:
    """rank-k accuracies and mAP of unit-norm ``query`` (Q, D) against ``gallery`` (G, D)."""
    query_ids, gallery_ids = np.asarray(query_ids), np.asarray(gallery_ids)
    sim = np.asarray(query, np.float64) @ np.asarray(gallery, np.float64).T
    order = np.argsort(-sim, axis=1, kind="stable")
    hits = gallery_ids[order] == query_ids[:, None]  # (Q, G) correct hits in ranked order
    answerable = hits.any(axis=1)
    hits = hits[answerable]
    out: Dict[str, float] = {"queries": float(len(hits))}
    if len(hits) == 0:
        out.update({f"rank{k}": float("nan") for k in ranks})
        out["mAP"] = float("nan")
        return out
    first_hit = hits.argmax(axis=1)
    for k in ranks:
        out[f"rank{k}"] = float((first_hit < k).mean())
    # AP = mean over correct positions of (hits so far / position)
    cum = np.cumsum(hits, axis=1)
    precision = cum / np.arange(1, hits.shape[1] + 1)
    out["mAP"] = float(((precision * hits).sum(axis=1) / hits.sum(axis=1)).mean())
    return out


def split_query_gallery(ids: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Indices of queries (the first sample of each identity with >= 2 samples) and gallery (rest).

    >>> split_query_gallery(np.array([5, 5, 7, 8, 8, 8]))
    (array([0, 3]), array([1, 2, 4, 5]))
    """
    ids = np.asarray(ids)
    _, first, counts = np.unique(ids, return_index=True, return_counts=True)
    query = np.sort(first[counts >= 2])
    gallery = np.setdiff1d(np.arange(len(ids)), query)
    return query, gallery
