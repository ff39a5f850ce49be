"""The built-in clustering methods, registered with :mod:`pipeline.clustering`.

Each takes ``(features, k, *, seed, images, progress, cancel, **params)`` and returns
labels. Methods whose cost grows with N^2 (spectral, mean-shift, affinity propagation,
centroid linkage) fit on a sample of at most ``max_samples`` points and assign the rest
to the nearest cluster center, so a 40k-image folder never exhausts memory.
"""
from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
from sklearn import cluster as skc
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import kneighbors_graph

from pipeline.clustering.registry import register_method
from pipeline.core.progress import check_cancel, report

LINKAGES = ("single", "complete", "average", "ward", "centroid")


def _sample_fit_assign(features, fit_labels, max_samples: int, seed: int):
    """Fit on a random sample when N is large, then give every point its nearest center."""
    n = len(features)
    if n <= max_samples:
        return fit_labels(features)
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, max_samples, replace=False)
    sample_labels = np.asarray(fit_labels(features[idx]))
    ids = np.unique(sample_labels[sample_labels >= 0])
    if len(ids) == 0:
        return np.full(n, -1)
    centers = np.stack([features[idx][sample_labels == c].mean(0) for c in ids])
    return ids[nearest_center(features, centers)]


def nearest_center(features: np.ndarray, centers: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Index of the nearest row of ``centers`` for each feature row (chunked)."""
    out = np.empty(len(features), int)
    c2 = (centers**2).sum(1)
    for s in range(0, len(features), chunk):
        x = features[s : s + chunk]
        out[s : s + chunk] = np.argmin(c2[None, :] - 2 * x @ centers.T, axis=1)
    return out


@register_method("kmeans")
def kmeans(features, k, *, seed=0, images=None, progress=None, cancel=None, n_init: int = 4, **_):
    """Lloyd K-means with k-means++ starts (``n_init`` restarts, best inertia kept)."""
    report(progress, "clustering: k-means", 0, 1)
    labels = skc.KMeans(k, n_init=n_init, random_state=seed).fit_predict(features)
    report(progress, "clustering: k-means", 1, 1)
    return labels


@register_method("minibatch_kmeans")
def minibatch_kmeans(features, k, *, seed=0, images=None, progress=None, cancel=None, batch_size: int = 4096, n_init: int = 3, **_):
    """Mini-batch K-means for large sets."""
    return skc.MiniBatchKMeans(k, batch_size=batch_size, n_init=n_init, random_state=seed).fit_predict(features)


def knn_connectivity(features: np.ndarray, n_neighbors: int):
    """Symmetric k-nearest-neighbour graph used to constrain agglomerative merges
    (from :data:`pipeline.clustering.knn.EXACT_LIMIT` images through the approximate index)."""
    from pipeline.clustering.knn import EXACT_LIMIT, faiss_available, knn_graph

    if len(features) >= EXACT_LIMIT and faiss_available():
        return knn_graph(features, n_neighbors, approximate=True)
    graph = kneighbors_graph(features, n_neighbors, include_self=False, n_jobs=-1)
    return graph.maximum(graph.T)


def agglomerative_tree(
    features: np.ndarray, linkage: str = "ward", n_neighbors: Optional[int] = None
) -> np.ndarray:
    """Full merge tree (sklearn ``children_``) for single/complete/average/ward linkage.

    With ``n_neighbors`` merges are restricted to a k-NN graph: clusters grow along the
    data manifold (GTSRB's tracks of near-identical photos chain together), and the
    cost drops from O(N^2) memory to O(N k).
    """
    if linkage not in ("single", "complete", "average", "ward"):
        raise ValueError(f"linkage {linkage!r} has no sklearn tree; use one of single, complete, average, ward")
    connectivity = knn_connectivity(features, n_neighbors) if n_neighbors else None
    if connectivity is None and len(features) > 20000:
        raise ValueError(
            f"{len(features)} images are too many for unconstrained {linkage} linkage "
            "(O(N^2) memory); set n_neighbors (e.g. 10) to use a k-NN graph"
        )
    model = skc.AgglomerativeClustering(
        n_clusters=None, distance_threshold=0.0, compute_full_tree=True, linkage=linkage, connectivity=connectivity
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "graph not connected: completing it" is expected
        model.fit(features)
    return model.children_


def cut_tree(children: np.ndarray, n_samples: int, k: int) -> np.ndarray:
    """Labels after the first ``n_samples - k`` merges of a ``children_`` tree."""
    merges = max(0, n_samples - k)
    parent = np.arange(n_samples + len(children))
    for side in (0, 1):
        parent[children[:merges, side]] = n_samples + np.arange(merges)
    root = parent
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    _, labels = np.unique(root[:n_samples], return_inverse=True)
    return labels


def _centroid_linkage_labels(features: np.ndarray, k: int, seed: int, max_samples: int) -> np.ndarray:
    from scipy.cluster.hierarchy import linkage

    def fit(x):
        # scipy's own cut_tree/fcluster mis-handle centroid linkage's non-monotonic
        # heights; cutting by merge order gives exactly k clusters.
        z = linkage(x.astype(np.float64), method="centroid")
        return cut_tree(z[:, :2].astype(int), len(x), min(k, len(x)))

    return _sample_fit_assign(features, fit, max_samples, seed)


@register_method("agglomerative")
def agglomerative(
    features, k, *, seed=0, images=None, progress=None, cancel=None,
    linkage: str = "ward", n_neighbors: Optional[int] = 10, max_samples: int = 8000, **_,
):
    """Hierarchical clustering; ``linkage`` in single, complete, average, ward, centroid."""
    report(progress, f"clustering: {linkage} linkage", 0, 1)
    if linkage == "centroid":
        labels = _centroid_linkage_labels(features, k, seed, max_samples)
    else:
        labels = cut_tree(agglomerative_tree(features, linkage, n_neighbors), len(features), k)
    report(progress, f"clustering: {linkage} linkage", 1, 1)
    return labels


@register_method("gmm")
def gmm(features, k, *, seed=0, images=None, progress=None, cancel=None, covariance_type: str = "diag", **_):
    """Gaussian mixture (EM), hard assignment to the most probable component."""
    return GaussianMixture(k, covariance_type=covariance_type, random_state=seed, n_init=1).fit_predict(features)


@register_method("spectral")
def spectral(features, k, *, seed=0, images=None, progress=None, cancel=None, n_neighbors: int = 10, max_samples: int = 20000, **_):
    """Spectral clustering on a k-NN affinity graph."""

    def fit(x):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return skc.SpectralClustering(
                k, affinity="nearest_neighbors", n_neighbors=n_neighbors, random_state=seed, assign_labels="cluster_qr"
            ).fit_predict(x)

    return _sample_fit_assign(features, fit, max_samples, seed)


@register_method("dbscan", needs_k=False)
def dbscan(features, k=None, *, seed=0, images=None, progress=None, cancel=None, eps: Optional[float] = None, min_samples: int = 5, **_):
    """DBSCAN; ``eps`` defaults to the median distance to the ``min_samples``-th neighbour."""
    if eps is None:
        from sklearn.neighbors import NearestNeighbors

        rng = np.random.default_rng(seed)
        sample = features[rng.choice(len(features), min(len(features), 2000), replace=False)]
        dist, _ = NearestNeighbors(n_neighbors=min(min_samples + 1, len(features))).fit(features).kneighbors(sample)
        eps = float(np.median(dist[:, -1]))
    return skc.DBSCAN(eps=eps, min_samples=min_samples, n_jobs=-1).fit_predict(features)


@register_method("hdbscan", needs_k=False)
def hdbscan(features, k=None, *, seed=0, images=None, progress=None, cancel=None, min_cluster_size: int = 15, min_samples: Optional[int] = None, **_):
    """HDBSCAN (density based, finds its own number of clusters; noise is -1)."""
    return skc.HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples, copy=True).fit_predict(features)


@register_method("meanshift", needs_k=False)
def meanshift(features, k=None, *, seed=0, images=None, progress=None, cancel=None, bandwidth: Optional[float] = None, quantile: float = 0.02, max_samples: int = 5000, **_):
    """Mean-shift with bin seeding; bandwidth estimated when not given."""

    def fit(x):
        bw = bandwidth or skc.estimate_bandwidth(x, quantile=quantile, n_samples=min(len(x), 1000), random_state=seed)
        return skc.MeanShift(bandwidth=bw or None, bin_seeding=True).fit_predict(x)

    return _sample_fit_assign(features, fit, max_samples, seed)


@register_method("affinity", needs_k=False)
def affinity(features, k=None, *, seed=0, images=None, progress=None, cancel=None, damping: float = 0.9, max_samples: int = 3000, **_):
    """Affinity propagation (exemplar based)."""

    def fit(x):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return skc.AffinityPropagation(damping=damping, random_state=seed).fit_predict(x)

    return _sample_fit_assign(features, fit, max_samples, seed)


