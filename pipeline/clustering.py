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
    """Scores per candidate k; ``best_k`` is the one picked by ``criterion``."""

    criterion: str
    ks: list[int]
    scores: dict[str, list[float]]
    best_k: int


@dataclass
class ClusterResult:
    """Cluster labels plus what a reviewer needs to see each cluster.

    ``labels``: ``(N,)`` int, clusters numbered ``0..K-1``, ``-1`` for noise.
    ``centers``: ``(K, D)`` mean feature per cluster. ``medoids``: ``(K,)`` index of the
    image nearest each center. ``sizes``: ``(K,)``. ``linkage``: ``(K-1, 4)`` scipy
    linkage matrix over the centers (ward), for a dendrogram.
    """

    labels: np.ndarray
    centers: np.ndarray
    medoids: np.ndarray
    sizes: np.ndarray
    linkage: np.ndarray
    method: str = ""
    k_selection: Optional[KSelection] = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        return int(len(self.sizes))
