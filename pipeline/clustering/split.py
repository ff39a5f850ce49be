"""Split one cluster: re-cluster its members' features into ``parts`` sub-clusters.

A pure function (no Qt, no session): the review window runs it on its model thread and
hands the labels to ``ReviewSession.split``.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from pipeline.core.progress import CancelToken, ProgressCallback, report

#: Ward linkage is quadratic in memory; larger clusters are split with k-means.
MAX_WARD_SPLIT = 4000
SPLIT_METHODS = ("kmeans", "ward")


def split_method_for(method: str, n_members: int) -> str:
    """The method actually used: ``ward`` falls back to ``kmeans`` above :data:`MAX_WARD_SPLIT`."""
    if method not in SPLIT_METHODS:
        raise ValueError(f"unknown split method {method!r} (choose from {', '.join(SPLIT_METHODS)})")
    return "kmeans" if method == "ward" and n_members > MAX_WARD_SPLIT else method


def split_cluster(
    features: np.ndarray,
    parts: int,
    method: str = "kmeans",
    *,
    seed: int = 0,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> np.ndarray:
    """Sub-cluster labels (one per row of ``features``) for ``parts`` parts.

    ``method`` is ``kmeans`` (seeded) or ``ward`` (scipy's hierarchical linkage cut into
    at most ``parts`` clusters). Raises ``ValueError`` when there are fewer rows than
    parts or fewer than two parts.
    """
    x = np.asarray(features, dtype=np.float32)
    if parts < 2:
        raise ValueError(f"split into at least 2 parts (got {parts})")
    if len(x) < parts:
        raise ValueError(f"only {len(x)} images; cannot split into {parts}")
    method = split_method_for(method, len(x))
    if cancel is not None:
        cancel.raise_if_cancelled()
    if method == "ward":
        from scipy.cluster.hierarchy import fcluster, linkage

        report(progress, "splitting", 0, 1, "ward linkage of the members")
        labels = fcluster(linkage(x.astype(np.float64), method="ward"), parts, criterion="maxclust")
        report(progress, "splitting", 1, 1, "ward linkage of the members")
        return np.asarray(labels, dtype=np.int64)
    from pipeline.clustering.api import cluster_features

    result = cluster_features(x, method="kmeans", k=parts, seed=seed, progress=progress, cancel=cancel)
    return np.asarray(result.labels, dtype=np.int64)
