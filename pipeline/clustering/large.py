"""Clustering memory-mapped features of any size: the method itself below a threshold,
two stages above it (:mod:`pipeline.clustering.two_stage`), k chosen the same way."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from pipeline.clustering.api import cluster_features
from pipeline.clustering.kselect import CRITERIA, pick_best, score_partition
from pipeline.clustering.registry import method_needs_k
from pipeline.clustering.summary import ClusterResult, KSelection, summarize_clusters
from pipeline.clustering.two_stage import two_stage_labels
from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report

#: From this many images the streaming path clusters in two stages (quality measured at 40k
#: against the one-stage method in bench/results/scale.md).
TWO_STAGE_THRESHOLD = 20_000
#: Methods two-stage clustering can run over micro-cluster centres (the deep ones need images).
TWO_STAGE_METHODS = ("agglomerative", "kmeans", "minibatch_kmeans", "gmm", "spectral")


def cluster_large(
    features: np.ndarray,
    config,
    *,
    micro_clusterer: Any = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> tuple[ClusterResult, list[str]]:
    """Cluster ``features`` (possibly memory-mapped) as ``config`` says; returns the result and notes."""
    n = len(features)
    k_range = tuple(config.k_range) if config.k_range else None
    if n < TWO_STAGE_THRESHOLD or not method_needs_k(config.method):
        if n >= TWO_STAGE_THRESHOLD:
            raise ValueError(f"method {config.method!r} finds its own k and has no two-stage form for "
                             f"{n} images; use one of {', '.join(TWO_STAGE_METHODS)} or fewer images")
        result = cluster_features(
            np.asarray(features), config.method, None if k_range else config.k, k_range=k_range,
            criterion=config.k_criterion, seed=config.seed, progress=progress, cancel=cancel, **config.method_params,
        )
        return result, []
    if config.method not in TWO_STAGE_METHODS or config.method_params.get("linkage") == "centroid":
        raise ValueError(f"method {config.method!r} has no two-stage form for {n} images; "
                         f"use one of {', '.join(TWO_STAGE_METHODS)} (not centroid linkage)")
    params = dict(config.method_params)
    n_micro = params.pop("n_micro", None)
    hi = min(k_range[1], n) if k_range else int(config.k)
    labels, extra = two_stage_labels(
        features, hi, method=config.method, method_params=params, n_micro=n_micro, seed=config.seed,
        micro_clusterer=micro_clusterer, progress=progress, cancel=cancel,
    )
    selection = None
    if k_range:
        labels, selection = _choose_k(features, config, extra, labels, (k_range[0], hi), progress, cancel)
    labels = _compact(labels)
    result = summarize_clusters(features, labels, method=config.method)
    result.k_selection = selection
    result.extra["n_micro"] = extra["n_micro"]
    note = f"two-stage clustering: {extra['n_micro']} micro-clusters (k-means), then {config.method} over them"
    return result, [note]


def _choose_k(features, config, extra, hi_labels, ks, progress, cancel):
    """Score every k of the range on the two-stage result (ward: cuts of one tree)."""
    from pipeline.clustering.methods import cut_tree
    from pipeline.clustering.two_stage import micro_centres
    from pipeline.clustering.registry import get_method

    micro = extra["micro_labels"]
    tree = extra.get("micro_tree")
    m = int(extra["n_micro"])
    centres = None if tree is not None else micro_centres(features, micro, m)[0].astype(np.float32)
    if config.k_criterion not in CRITERIA:
        raise ValueError(f"unknown k criterion {config.k_criterion!r}; use one of {sorted(CRITERIA)}")
    candidates = list(range(int(ks[0]), int(ks[1]) + 1))
    scores: dict[str, list[float]] = {name: [] for name in CRITERIA}
    errors: list[float] = []
    labelings = []
    for i, k in enumerate(candidates):
        check_cancel(cancel)
        if k == ks[1]:
            labels = hi_labels
        elif tree is not None:
            labels = cut_tree(tree, m, min(k, m))[micro]
        else:
            top = get_method(config.method)(centres, min(k, m), seed=config.seed, cancel=cancel, **config.method_params)
            labels = np.asarray(top)[micro]
        values = score_partition(features, labels, config.seed)
        errors.append(values.pop("silhouette_se"))
        for name, value in values.items():
            scores[name].append(value)
        labelings.append(labels)
        report(progress, "choosing k", i + 1, len(candidates), f"k={k}", k=k, **{n: v[-1] for n, v in scores.items()})
    crit = config.k_criterion
    best = pick_best(candidates, scores[crit], crit, errors if crit == "silhouette" else None)
    return labelings[best], KSelection(crit, candidates, scores, candidates[best], {"silhouette": errors})


def _compact(labels: np.ndarray) -> np.ndarray:
    _, out = np.unique(labels, return_inverse=True)
    return out.astype(int)
