"""Clustering algorithms behind one call, and the result every caller gets.

Every method is a function ``fn(features, k, *, seed, images, progress, cancel, **params)``
returning integer labels (``-1`` = noise). :func:`cluster_features` then derives the
per-cluster centers, medoids and a linkage matrix over the centers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from .progress import CancelToken, ProgressCallback

ClusterFn = Callable[..., np.ndarray]
_METHODS: dict[str, ClusterFn] = {}
_NEEDS_K: dict[str, bool] = {}


def register_method(name: str, needs_k: bool = True) -> Callable[[ClusterFn], ClusterFn]:
    """Decorator: make ``fn`` available as clustering method ``name``."""

    def _decorate(fn: ClusterFn) -> ClusterFn:
        _METHODS[name] = fn
        _NEEDS_K[name] = needs_k
        return fn

    return _decorate


def available_methods() -> list[str]:
    _load_builtin()
    return sorted(_METHODS)


def method_needs_k(name: str) -> bool:
    _load_builtin()
    return _NEEDS_K[name]


def _load_builtin() -> None:
    from . import cluster_methods  # noqa: F401


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


def summarize_clusters(features: np.ndarray, labels: np.ndarray, method: str = "") -> ClusterResult:
    """Centers, medoids, sizes and a ward linkage over the centers for any labelling.

    Noise (``-1``) is left out of every cluster. Used after a fresh run and after review
    edits (merge, split, move) to refresh what the reviewer sees.
    """
    from scipy.cluster.hierarchy import linkage as scipy_linkage

    labels = np.asarray(labels, dtype=int)
    ids = np.unique(labels[labels >= 0])
    dim = features.shape[1] if features.ndim == 2 else 0
    centers = np.zeros((len(ids), dim), np.float32)
    medoids = np.zeros(len(ids), int)
    sizes = np.zeros(len(ids), int)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.searchsorted(sorted_labels, ids)
    ends = np.searchsorted(sorted_labels, ids, side="right")
    for j, (a, b) in enumerate(zip(starts, ends)):
        members = order[a:b]
        pts = features[members]
        centers[j] = pts.mean(axis=0)
        medoids[j] = members[np.argmin(((pts - centers[j]) ** 2).sum(axis=1))]
        sizes[j] = len(members)
    if len(ids) >= 2:
        link = scipy_linkage(centers.astype(np.float64), method="ward")
    else:
        link = np.zeros((0, 4))
    return ClusterResult(labels, centers, medoids, sizes, link, method=method, ids=ids)


def distances_to_center(features: np.ndarray, members: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Euclidean distance of each member to ``center`` (to order a grid, outliers last)."""
    diff = features[members] - center[None, :]
    return np.sqrt((diff * diff).sum(axis=1))


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
    from .kselect import select_k

    _load_builtin()
    if method not in _METHODS:
        raise ValueError(f"unknown clustering method {method!r}; known: {sorted(_METHODS)}")
    n = len(features)
    if n == 0:
        raise ValueError("no images to cluster")
    selection = None
    if _NEEDS_K[method]:
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
            labels = _METHODS[method](
                features, k, seed=seed, images=images, progress=progress, cancel=cancel, **params
            )
    else:
        labels = _METHODS[method](features, None, seed=seed, images=images, progress=progress, cancel=cancel, **params)
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
