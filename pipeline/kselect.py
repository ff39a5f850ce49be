"""Choosing the number of clusters: score each candidate k, keep the best."""
from __future__ import annotations

from typing import Iterable, Optional

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from .clustering import KSelection, _METHODS
from .progress import CancelToken, ProgressCallback, check_cancel, report

CRITERIA = {"silhouette": max, "calinski_harabasz": max, "davies_bouldin": min}
SILHOUETTE_SAMPLE = 5000


def score_partition(features: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Silhouette (on a sample for large N), Davies-Bouldin and Calinski-Harabasz."""
    valid = labels >= 0
    x, y = features[valid], labels[valid]
    if len(np.unique(y)) < 2 or len(np.unique(y)) >= len(y):
        return {name: float("nan") for name in CRITERIA}
    sample = min(SILHOUETTE_SAMPLE, len(y))
    return {
        "silhouette": float(silhouette_score(x, y, sample_size=sample, random_state=seed)),
        "davies_bouldin": float(davies_bouldin_score(x, y)),
        "calinski_harabasz": float(calinski_harabasz_score(x, y)),
    }


def select_k(
    features: np.ndarray,
    method: str,
    ks: Iterable[int],
    *,
    criterion: str = "silhouette",
    seed: int = 0,
    images: Optional[np.ndarray] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    **params,
) -> tuple[KSelection, np.ndarray]:
    """Cluster for every k in ``ks``; return the scores and the best labelling.

    Agglomerative linkages build their merge tree once and cut it at every k, so a
    range of 30 candidates costs little more than one run.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"unknown k criterion {criterion!r}; use one of {sorted(CRITERIA)}")
    ks = [int(k) for k in ks]
    tree = None
    if method == "agglomerative" and params.get("linkage", "ward") != "centroid":
        from .cluster_methods import agglomerative_tree, cut_tree

        report(progress, "choosing k: building tree", 0, len(ks))
        tree = agglomerative_tree(features, params.get("linkage", "ward"), params.get("n_neighbors", 10))
    scores: dict[str, list[float]] = {name: [] for name in CRITERIA}
    labelings = []
    for i, k in enumerate(ks):
        check_cancel(cancel)
        if tree is not None:
            labels = cut_tree(tree, len(features), k)
        else:
            labels = _METHODS[method](features, k, seed=seed, images=images, progress=None, cancel=cancel, **params)
        labels = np.asarray(labels)
        for name, value in score_partition(features, labels, seed).items():
            scores[name].append(value)
        labelings.append(labels)
        report(progress, "choosing k", i + 1, len(ks), f"k={k}", k=k, **{n: v[-1] for n, v in scores.items()})
    values = np.array(scores[criterion], dtype=float)
    pick = CRITERIA[criterion]
    finite = np.where(np.isfinite(values))[0]
    best = int(finite[np.argmax(values[finite])] if pick is max else finite[np.argmin(values[finite])]) if len(finite) else 0
    return KSelection(criterion, ks, scores, ks[best]), labelings[best]
