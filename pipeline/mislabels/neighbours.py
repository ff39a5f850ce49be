"""Label evidence from the neighbourhood of each image in feature space.

k-nearest-neighbour votes, cluster majorities, near-duplicate pairs that disagree on
their label, and a distance-based outlier score. ``y`` holds class indices ``0..C-1``.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans

from pipeline.clustering.knn import knn_search
from pipeline.core.progress import CancelToken, ProgressCallback


def nearest_neighbours(
    features: np.ndarray,
    k: int,
    *,
    chunk: int = 2048,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean ``k`` nearest neighbours of every image, itself excluded.

    Returns ``(distances, indices)``, both ``(N, k)``, nearest first. Exact
    duplicates are kept as neighbours (only the image's own index is dropped). Exact
    below :data:`pipeline.clustering.knn.EXACT_LIMIT` images, an approximate index
    (faiss, the ``[scale]`` extra) above it when installed.
    """
    del chunk  # the search chunks itself
    dist, ind = knn_search(features, k, progress=progress, cancel=cancel)
    return dist.astype(np.float64), ind


def knn_label_probabilities(
    neighbour_indices: np.ndarray, y: np.ndarray, n_classes: int, *, smoothing: float = 1.0
) -> np.ndarray:
    """``(N, C)`` share of each class among an image's neighbours, with additive smoothing.

    ``smoothing`` pseudo-votes are spread by the class priors, so a class never seen
    nearby keeps a small non-zero probability.
    """
    n, k = neighbour_indices.shape
    votes = np.zeros((n, n_classes))
    np.add.at(votes, (np.repeat(np.arange(n), k), y[neighbour_indices].ravel()), 1.0)
    prior = np.bincount(y, minlength=n_classes) / len(y)
    return (votes + smoothing * prior) / (k + smoothing)


def cluster_label_probabilities(
    cluster_labels: np.ndarray, y: np.ndarray, n_classes: int, *, smoothing: float = 1.0
) -> np.ndarray:
    """``(N, C)`` label distribution of each image's cluster, the image itself left out.

    Noise points (cluster ``-1``) get the global class priors.
    """
    n = len(y)
    prior = np.bincount(y, minlength=n_classes) / n
    clusters = np.unique(cluster_labels[cluster_labels >= 0])
    lookup = np.full(cluster_labels.max() + 1 if len(clusters) else 1, -1)
    lookup[clusters] = np.arange(len(clusters))
    table = np.zeros((len(clusters), n_classes))
    valid = cluster_labels >= 0
    np.add.at(table, (lookup[cluster_labels[valid]], y[valid]), 1.0)
    probs = np.tile(prior, (n, 1))
    rows = np.flatnonzero(valid)
    counts = table[lookup[cluster_labels[rows]]]
    counts[np.arange(len(rows)), y[rows]] -= 1.0  # leave the image's own label out
    probs[rows] = (counts + smoothing * prior) / (counts.sum(axis=1, keepdims=True) + smoothing)
    return probs


#: From this many images the finder's own clustering is mini-batch k-means (bounded memory).
MINIBATCH_FROM = 100_000


def cluster_by_kmeans(features: np.ndarray, n_clusters: int, *, seed: int = 0) -> np.ndarray:
    """k-means cluster labels, used when the caller has no clustering of its own."""
    n_clusters = max(1, min(n_clusters, len(features)))
    if len(features) >= MINIBATCH_FROM:
        return MiniBatchKMeans(n_clusters=n_clusters, batch_size=8192, n_init=3, random_state=seed).fit_predict(features)
    return KMeans(n_clusters=n_clusters, n_init=3, random_state=seed).fit_predict(features)


def near_duplicate_conflicts(
    neighbour_distances: np.ndarray, neighbour_indices: np.ndarray, y: np.ndarray, max_distance: float
) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, distance)``, ``i < j``, closer than ``max_distance`` with different labels.

    Sorted closest first. Only pairs within each image's neighbour list are seen.
    """
    rows, cols = np.nonzero(neighbour_distances <= max_distance)
    js = neighbour_indices[rows, cols]
    pairs: dict[tuple[int, int], float] = {}
    for i, j, d in zip(rows.tolist(), js.tolist(), neighbour_distances[rows, cols].tolist()):
        if y[i] != y[j]:
            pairs[(min(i, j), max(i, j))] = d
    return sorted(((i, j, d) for (i, j), d in pairs.items()), key=lambda t: (t[2], t[0], t[1]))


def outlier_scores(neighbour_distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image ``(score, z)`` from the mean distance to its neighbours.

    ``z`` is the robust z-score of the log mean distance (median / 1.4826·MAD);
    ``score`` maps it into [0, 1] with a logistic curve centred at ``z = 3``.
    """
    mean_dist = np.log(neighbour_distances.mean(axis=1) + 1e-12)
    med = np.median(mean_dist)
    mad = 1.4826 * np.median(np.abs(mean_dist - med))
    if mad <= 0:
        mad = float(np.std(mean_dist)) or 1.0
    z = (mean_dist - med) / mad
    return 1.0 / (1.0 + np.exp(-(z - 3.0))), z
