"""Clustering behind one call: :func:`cluster_features` runs a registered method (or picks
k over a range) and returns a :class:`~pipeline.clustering.summary.ClusterResult`."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from pipeline.clustering.kselect import select_k
from pipeline.clustering.registry import get_method, method_needs_k
from pipeline.clustering.summary import ClusterResult, summarize_clusters
from pipeline.core.progress import CancelToken, ProgressCallback


def cluster_features(
    features: np.ndarray,
    method: str = "kmeans",
    k: Optional[int] = None,
    *,
    k_range: Optional[tuple[int, int]] = None,
    criterion: str = "silhouette",
    seed: int = 0,
    images: Optional[np.ndarray] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    **params: Any,
) -> ClusterResult:
    """Cluster ``features`` with ``method`` and summarise the clusters.

    Give ``k`` for a fixed number of clusters, or ``k_range=(lo, hi)`` (inclusive) to pick
    k automatically by ``criterion`` (``silhouette``, ``davies_bouldin`` or
    ``calinski_harabasz``); the scores per k are kept in ``k_selection``.
    """
    fn = get_method(method)
    n = len(features)
    if n == 0:
        raise ValueError("no images to cluster")
    selection = None
    if method_needs_k(method):
        if k_range is not None:
            lo, hi = int(k_range[0]), int(k_range[1])
            hi = min(hi, n)
            if lo < 2 or lo > hi:
                raise ValueError(f"k range {k_range} is not valid for {n} images")
            selection, labels = select_k(
                features, method, range(lo, hi + 1), criterion=criterion, seed=seed,
                images=images, progress=progress, cancel=cancel, **params,
            )
        else:
            if k is None:
                raise ValueError(f"method {method!r} needs k or a k range")
            k = int(k)
            if not 1 <= k <= n:
                raise ValueError(f"k={k} is not valid for {n} images")
            labels = fn(
                features, k, seed=seed, images=images, progress=progress, cancel=cancel, **params
            )
    else:
        labels = fn(features, None, seed=seed, images=images, progress=progress, cancel=cancel, **params)
    labels = _compact(np.asarray(labels, dtype=int))
    result = summarize_clusters(features, labels, method=method)
    result.k_selection = selection
    return result


def _compact(labels: np.ndarray) -> np.ndarray:
    """Renumber non-noise labels to ``0..K-1`` keeping ``-1`` as noise."""
    out = labels.copy()
    valid = labels >= 0
    if valid.any():
        _, out[valid] = np.unique(labels[valid], return_inverse=True)
    return out
