"""Cluster summaries: the one place centers, medoids, silhouettes and the linkage are computed.

Qt-free and cheap enough to recompute after every review edit (one pass over the
features, matrix products against the K centers). The CLI's :class:`ClusterResult` and
the window's :class:`ClusterStats` both come from :func:`compute_cluster_stats`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import numpy as np

#: Images per pass when summarising (memory-mapped features stay on disk but this chunk).
STATS_CHUNK = 65536


@dataclass
class KSelection:
    """Scores per candidate k; ``best_k`` is the one picked by ``criterion``.

    ``errors`` holds the standard error of a score where it is estimated from a sample
    (the silhouette), so a plot can show how flat the curve really is.
    """

    criterion: str
    ks: list[int]
    scores: dict[str, list[float]]
    best_k: int
    errors: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class ClusterResult:
    """Cluster labels plus what a reviewer needs to see each cluster.

    ``labels``: ``(N,)`` int, clusters numbered ``0..K-1``, ``-1`` for noise.
    ``centers``: ``(K, D)`` mean feature per cluster; row ``j`` belongs to cluster
    ``ids[j]`` (``ids`` is ``arange(K)`` after a fresh run, any ids after review edits). ``medoids``: ``(K,)`` index of the
    image nearest each center. ``sizes``: ``(K,)``. ``linkage``: ``(K-1, 4)`` scipy
    linkage matrix over the centers (ward), for a dendrogram.
    """

    labels: np.ndarray
    centers: np.ndarray
    medoids: np.ndarray
    sizes: np.ndarray
    linkage: np.ndarray
    method: str = ""
    ids: Optional[np.ndarray] = None
    k_selection: Optional[KSelection] = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ids is None:
            self.ids = np.arange(len(self.sizes))

    @property
    def n_clusters(self) -> int:
        return int(len(self.sizes))


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
    k = len(ids)
    dim = feats.shape[1] if feats.ndim == 2 else 0
    centers = np.zeros((k, dim), dtype=np.float64)
    if k:
        counts = np.bincount(lab[lab >= 0], minlength=k).astype(np.float64)
        for s, x, own, _ in _chunks(feats, lab, np.float64):
            order = np.argsort(own, kind="stable")
            present, first = np.unique(own[order], return_index=True)
            centers[present] += np.add.reduceat(x[order], first, axis=0)
        centers /= counts[:, None]
    centers32 = centers.astype(np.float32)

    distance = np.full(n, np.nan, dtype=np.float32)
    silhouette: dict[int, float] = {}
    members: dict[int, np.ndarray] = {}
    medoids: dict[int, int] = {}
    if k:
        c2 = np.einsum("ij,ij->i", centers32, centers32)
        sums = np.zeros(k)
        for s, x, own, rows in _chunks(feats, lab, np.float32):
            # Squared distances to every center via |x|^2 - 2 x.c + |c|^2 (one BLAS call).
            d2 = np.einsum("ij,ij->i", x, x)[:, None] - 2.0 * (x @ centers32.T) + c2[None, :]
            np.maximum(d2, 0.0, out=d2)
            a = np.sqrt(d2[np.arange(len(x)), own])
            distance[s + rows] = a
            if k > 1:
                d2[np.arange(len(x)), own] = np.inf
                b = np.sqrt(d2.min(axis=1))
                sums += np.bincount(own, weights=(b - a) / np.maximum(np.maximum(a, b), 1e-12), minlength=k)
        sil = sums / np.maximum(np.bincount(lab[lab >= 0], minlength=k), 1) if k > 1 else np.full(k, np.nan)
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


def _chunks(feats: np.ndarray, lab: np.ndarray, dtype):
    """``(start, x, own, rows)`` per chunk of :data:`STATS_CHUNK` images: the features ``x`` (as
    ``dtype``) of the chunk's images inside a cluster, their cluster rows and positions in the chunk."""
    for s in range(0, len(feats), STATS_CHUNK):
        part = lab[s : s + STATS_CHUNK]
        rows = np.flatnonzero(part >= 0)
        if len(rows) == 0:
            continue
        block = np.asarray(feats[s : s + STATS_CHUNK], dtype=dtype)
        x = block if len(rows) == len(part) else block[rows]
        yield s, x, part[rows], rows


def summarize_clusters(features: np.ndarray, labels: np.ndarray, method: str = "") -> ClusterResult:
    """Centers, medoids, sizes and a ward linkage over the centers for any labelling.

    Noise (``-1``) is left out of every cluster.
    """
    labels = np.asarray(labels, dtype=int)
    ids = np.unique(labels[labels >= 0])
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.r_[ids, np.iinfo(int).max])
    memberships = {int(c): order[bounds[j]:bounds[j + 1]] for j, c in enumerate(ids)}
    stats = compute_cluster_stats(features, memberships)
    medoids = np.array([stats.medoids[int(c)] for c in ids], dtype=int)
    sizes = np.array([len(memberships[int(c)]) for c in ids], dtype=int)
    link = stats.linkage if stats.linkage is not None else np.zeros((0, 4))
    return ClusterResult(labels, stats.centers, medoids, sizes, link, method=method, ids=ids)


def distances_to_center(features: np.ndarray, members: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Euclidean distance of each member to ``center`` (to order a grid, outliers last)."""
    diff = features[members] - center[None, :]
    return np.sqrt((diff * diff).sum(axis=1))
