"""Choosing the number of clusters: score each candidate k, keep the best."""
from __future__ import annotations

from typing import Iterable, Optional

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_samples

from pipeline.clustering.summary import KSelection
from pipeline.clustering.registry import get_method
from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report

CRITERIA = {"silhouette": max, "calinski_harabasz": max, "davies_bouldin": min}
SILHOUETTE_SAMPLE = 5000
#: Above this many images Davies-Bouldin and Calinski-Harabasz are scored on a fixed sample.
SCORE_SAMPLE = 200_000


def score_partition(features: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Silhouette (on a fixed sample for large N) with its standard error,
    Davies-Bouldin and Calinski-Harabasz (on a sample above :data:`SCORE_SAMPLE` images)."""
    valid = np.flatnonzero(np.asarray(labels) >= 0)
    if len(valid) > SCORE_SAMPLE:  # Davies-Bouldin / Calinski-Harabasz copy the features: bound them
        valid = np.sort(np.random.default_rng(seed + 1).choice(valid, SCORE_SAMPLE, replace=False))
    x, y = np.asarray(features[valid]), np.asarray(labels)[valid]
    if len(np.unique(y)) < 2 or len(np.unique(y)) >= len(y):
        return {name: float("nan") for name in (*CRITERIA, "silhouette_se")}
    if len(y) > SILHOUETTE_SAMPLE:
        pick = np.random.default_rng(seed).choice(len(y), SILHOUETTE_SAMPLE, replace=False)
        xs, ys = x[pick], y[pick]
    else:
        xs, ys = x, y
    if len(np.unique(ys)) < 2:
        sil = np.array([np.nan])
    else:
        sil = silhouette_samples(xs, ys)
    return {
        "silhouette": float(sil.mean()),
        "silhouette_se": float(sil.std() / np.sqrt(len(sil))),
        "davies_bouldin": float(davies_bouldin_score(x, y)),
        "calinski_harabasz": float(calinski_harabasz_score(x, y)),
    }


def taxonomy_k_range(n_classes: int, slack: float = 0.15) -> tuple[int, int]:
    """Candidate ks around a known class count (a taxonomy's): all within ``n * (1 -/+ slack)``, at least 2.

    On fine-grained sets the internal criteria miss the class count by far with hand-made
    features (measured in ``bench/results/unseen_kselect.md``: silhouette 63 and Calinski-Harabasz
    21 for GTSRB's 43 classes over 21..86); when the user names the classes, their count
    bounds the choice and the criterion only picks within ``slack``.
    """
    n = int(n_classes)
    if n < 2:
        raise ValueError(f"a taxonomy of {n} classes gives no k to choose (2 or more needed)")
    if not 0 <= float(slack) < 1:
        raise ValueError(f"slack must be a fraction from 0 to below 1, got {slack}")
    lo = max(2, int(np.ceil(n * (1 - float(slack)) - 1e-9)))
    hi = max(lo, int(np.floor(n * (1 + float(slack)) + 1e-9)))  # every candidate within the slack
    return lo, hi


def pick_best(ks: list[int], values: list[float], criterion: str, errors: list[float] | None = None) -> int:
    """Index of the chosen k.

    For the silhouette, the one-standard-error rule: the smallest k whose score is
    within one standard error of the best. On real data the silhouette curve is often
    flat near its peak, and the plain arg-max then wanders with sampling noise.
    """
    vals = np.asarray(values, dtype=float)
    finite = np.where(np.isfinite(vals))[0]
    if len(finite) == 0:
        return 0
    if CRITERIA[criterion] is min:
        return int(finite[np.argmin(vals[finite])])
    best = int(finite[np.argmax(vals[finite])])
    if errors is None:
        return best
    floor = vals[best] - float(np.nan_to_num(errors[best]))
    return int(min(i for i in finite if vals[i] >= floor))


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
        from pipeline.clustering.methods import agglomerative_tree, cut_tree

        report(progress, "choosing k: building tree", 0, len(ks))
        tree = agglomerative_tree(features, params.get("linkage", "ward"), params.get("n_neighbors", 10))
    scores: dict[str, list[float]] = {name: [] for name in CRITERIA}
    errors: list[float] = []
    labelings = []
    for i, k in enumerate(ks):
        check_cancel(cancel)
        if tree is not None:
            labels = cut_tree(tree, len(features), k)
        else:
            labels = get_method(method)(features, k, seed=seed, images=images, progress=None, cancel=cancel, **params)
        labels = np.asarray(labels)
        values = score_partition(features, labels, seed)
        errors.append(values.pop("silhouette_se"))
        for name, value in values.items():
            scores[name].append(value)
        labelings.append(labels)
        report(progress, "choosing k", i + 1, len(ks), f"k={k}", k=k, **{n: v[-1] for n, v in scores.items()})
    best = pick_best(ks, scores[criterion], criterion, errors if criterion == "silhouette" else None)
    return KSelection(criterion, ks, scores, ks[best], {"silhouette": errors}), labelings[best]
