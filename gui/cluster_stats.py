"""Per-cluster figures the review window shows, computed from features and memberships.

Qt-free and cheap enough to recompute after every edit (one pass over the features,
matrix products against the K centers): centers, members ordered by distance to their
center (outliers last), medoids, a centroid-based silhouette per cluster and a ward
linkage over the centers for the dendrogram.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import numpy as np


@dataclass
class ClusterStats:
    """Figures for the clusters ``ids`` (same order as the rows of ``centers``).

    ``members[cid]`` are image indices sorted by distance to the cluster center.
    ``distance`` holds each image's distance to its own center (``nan`` outside any
    cluster). ``silhouette[cid]`` is the mean simplified silhouette
    ``(b - a) / max(a, b)`` with ``a`` the distance to the own center and ``b`` to the
    nearest other center (``nan`` when there is a single cluster). ``linkage`` is a
    scipy linkage matrix over ``centers`` (``None`` for fewer than two clusters).
    """

    ids: list[int]
    centers: np.ndarray
    members: dict[int, np.ndarray]
    medoids: dict[int, int]
    distance: np.ndarray
    silhouette: dict[int, float]
    linkage: Optional[np.ndarray] = None
    row_of: dict[int, int] = field(default_factory=dict)

    def mean_image(self, images: np.ndarray, cid: int, limit: int = 4000) -> Optional[np.ndarray]:
        """Pixel-wise mean of (up to ``limit`` of) the cluster's images, as ``uint8``."""
        idx = self.members.get(cid)
        if images is None or idx is None or len(idx) == 0:
            return None
        if len(idx) > limit:
            idx = idx[np.linspace(0, len(idx) - 1, limit).astype(int)]
        return np.asarray(images[np.sort(idx)], dtype=np.float32).mean(axis=0).round().astype(np.uint8)


def compute_cluster_stats(
    features: np.ndarray,
    memberships: Mapping[int, Sequence[int]],
    *,
    with_linkage: bool = True,
) -> ClusterStats:
    """Compute :class:`ClusterStats` for ``memberships`` (cluster id -> image indices)."""
    feats = np.asarray(features, dtype=np.float32)
    n = feats.shape[0]
    ids = [int(c) for c in memberships if len(memberships[c]) > 0]
    row_of = {cid: r for r, cid in enumerate(ids)}
    lab = np.full(n, -1, dtype=np.int64)
    for cid in ids:
        lab[np.asarray(memberships[cid], dtype=np.int64)] = row_of[cid]
    inside = np.flatnonzero(lab >= 0)
    k = len(ids)
    dim = feats.shape[1] if feats.ndim == 2 else 0
    centers = np.zeros((k, dim), dtype=np.float64)
    if k:
        counts = np.bincount(lab[inside], minlength=k).astype(np.float64)
        order = inside[np.argsort(lab[inside], kind="stable")]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        centers = np.add.reduceat(feats[order].astype(np.float64), starts, axis=0) / counts[:, None]
    centers32 = centers.astype(np.float32)

    distance = np.full(n, np.nan, dtype=np.float32)
    silhouette: dict[int, float] = {}
    members: dict[int, np.ndarray] = {}
    medoids: dict[int, int] = {}
    if k:
        x = feats[inside]
        # Squared distances to every center via |x|^2 - 2 x.c + |c|^2 (one BLAS call).
        d2 = (
            np.einsum("ij,ij->i", x, x)[:, None]
            - 2.0 * (x @ centers32.T)
            + np.einsum("ij,ij->i", centers32, centers32)[None, :]
        )
        np.maximum(d2, 0.0, out=d2)
        own = lab[inside]
        a = np.sqrt(d2[np.arange(len(inside)), own])
        distance[inside] = a
        if k > 1:
            d2[np.arange(len(inside)), own] = np.inf
            b = np.sqrt(d2.min(axis=1))
            denom = np.maximum(np.maximum(a, b), 1e-12)
            s = (b - a) / denom
            sums = np.bincount(own, weights=s, minlength=k)
            cnt = np.bincount(own, minlength=k)
            sil = sums / np.maximum(cnt, 1)
        else:
            sil = np.full(k, np.nan)
        for cid in ids:
            idx = np.asarray(memberships[cid], dtype=np.int64)
            ordered = idx[np.argsort(distance[idx], kind="stable")]
            members[cid] = ordered
            medoids[cid] = int(ordered[0])
            silhouette[cid] = float(sil[row_of[cid]])

    linkage = None
    if with_linkage and k >= 2:
        from scipy.cluster.hierarchy import linkage as _linkage

        linkage = _linkage(centers, method="ward")
    return ClusterStats(ids, centers32, members, medoids, distance, silhouette, linkage, row_of)
