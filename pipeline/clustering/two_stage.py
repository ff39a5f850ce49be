"""Two-stage clustering for large sets: micro-clusters first, then the real method over their centres.

k-means on a sample cuts N images into a few thousand micro-clusters; the configured
method then clusters the micro-cluster centres (ward on a k-NN graph of the centres,
weighted by micro-cluster size, for ``best``), and every image takes its micro-cluster's
cluster. Memory is O(N) for the labels plus O(chunk x micro) for the assignment; the
micro-cluster stage is a hook (``micro_clusterer``) so a cluster engine can run it.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from pipeline.clustering.registry import get_method, register_method
from pipeline.clustering.weighted_ward import weighted_ward_children
from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report

#: ``(features, n_micro, seed, progress, cancel) -> labels`` (the micro-cluster stage).
MicroClusterer = Callable[[np.ndarray, int, int, Optional[ProgressCallback], Optional[CancelToken]], np.ndarray]

#: The micro-cluster k-means fits on at most this many rows (then assigns all of them).
FIT_SAMPLE = 131072
LLOYD_ROUNDS = 6
ASSIGN_CHUNK = 4096
#: Graph width over the centres when the method has no neighbour graph of its own.
UNCONSTRAINED_NEIGHBOURS = 30
#: Graph width over the centres when it has one (``n_neighbors`` of the images): each centre
#: stands for many images, so its 10 nearest centres reach much further than an image's 10
#: nearest images; 4 keeps ward as local (bench/results/scale.md: whole frames at 40k,
#: ACC 0.556 vs 0.521 with 10, mean of 2 seeds). ``centre_neighbors`` in the params overrides it.
CENTRE_NEIGHBOURS = 4


def default_micro_count(n: int) -> int:
    """Micro-clusters for ``n`` images: one per ~8 images, from 256 up to 4,096."""
    return int(min(max(256, n // 8), 4096, n))


def assign_nearest(features: np.ndarray, centres: np.ndarray, cancel: Optional[CancelToken] = None) -> np.ndarray:
    """Index of the nearest centre for every row, chunk by chunk (memory-mapped input is fine)."""
    c = np.asarray(centres, dtype=np.float32)
    c2 = np.einsum("ij,ij->i", c, c)
    out = np.empty(len(features), dtype=np.int64)
    for s in range(0, len(features), ASSIGN_CHUNK):
        check_cancel(cancel)
        x = np.asarray(features[s : s + ASSIGN_CHUNK], dtype=np.float32)
        out[s : s + len(x)] = np.argmin(c2[None, :] - 2.0 * (x @ c.T), axis=1)
    return out


def minibatch_micro_clusters(features, n_micro: int, seed: int = 0, progress=None, cancel=None) -> np.ndarray:
    """The default micro-cluster stage: k-means (Lloyd, :data:`LLOYD_ROUNDS` rounds from
    random rows) on a sample of at most :data:`FIT_SAMPLE` rows, then every row assigned to
    its nearest centre; each round is one BLAS product per chunk.

    scikit-learn's MiniBatchKMeans takes 53 s for 1,000 centres on 10,000 rows on this
    machine (its per-centre bookkeeping), so with thousands of micro-clusters it is no option.
    """
    n = len(features)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(n, FIT_SAMPLE, replace=False)) if n > FIT_SAMPLE else slice(None)
    sample = np.asarray(features[pick], dtype=np.float32)
    centres = sample[np.sort(rng.choice(len(sample), n_micro, replace=False))].astype(np.float64)
    for round_ in range(LLOYD_ROUNDS):
        check_cancel(cancel)
        report(progress, "clustering: micro-clusters", round_, LLOYD_ROUNDS + 1, f"{n_micro} micro-clusters")
        labels = assign_nearest(sample, centres, cancel)
        means, sizes = micro_centres(sample, labels, n_micro)
        filled = sizes > 0
        centres[filled] = means[filled]  # an emptied centre keeps its place
    del sample
    report(progress, "clustering: micro-clusters", LLOYD_ROUNDS, LLOYD_ROUNDS + 1, "assigning every image")
    labels = assign_nearest(features, centres, cancel)
    report(progress, "clustering: micro-clusters", LLOYD_ROUNDS + 1, LLOYD_ROUNDS + 1)
    return labels


def micro_centres(features, labels: np.ndarray, n_micro: int) -> tuple[np.ndarray, np.ndarray]:
    """``(centres, sizes)`` of the micro-clusters, accumulated chunk by chunk."""
    dim = features.shape[1]
    sums = np.zeros((n_micro, dim), dtype=np.float64)
    for s in range(0, len(features), ASSIGN_CHUNK):
        x = np.asarray(features[s : s + ASSIGN_CHUNK], dtype=np.float64)
        lab = labels[s : s + len(x)]
        order = np.argsort(lab, kind="stable")
        ids, first = np.unique(lab[order], return_index=True)
        sums[ids] += np.add.reduceat(x[order], first, axis=0)
    sizes = np.bincount(labels, minlength=n_micro).astype(np.float64)
    return sums / np.maximum(sizes, 1.0)[:, None], sizes


def _centre_graph(centres: np.ndarray, n_neighbors: int):
    from pipeline.clustering.methods import knn_connectivity

    return knn_connectivity(centres.astype(np.float32), min(n_neighbors, len(centres) - 1))


def two_stage_labels(
    features,
    k: int,
    *,
    method: str = "agglomerative",
    method_params: Optional[dict[str, Any]] = None,
    n_micro: Optional[int] = None,
    seed: int = 0,
    micro_clusterer: Optional[MicroClusterer] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Labels for every row and what the stages did (``extra``: micro-cluster count, tree).

    Ward linkage (``method="agglomerative"``, ``linkage="ward"``) runs size-weighted over the
    centres, on a :data:`CENTRE_NEIGHBOURS`-NN graph of them when ``n_neighbors`` is set (a
    :data:`UNCONSTRAINED_NEIGHBOURS`-NN one otherwise); any other method clusters the centres
    unweighted. ``extra["micro_tree"]`` keeps the ward tree so other ks are cheap cuts.
    """
    params = dict(method_params or {})
    centre_k = params.pop("centre_neighbors", None)
    n = len(features)
    m = int(n_micro or default_micro_count(n))
    m = max(min(m, n), min(int(k), n))
    micro = np.asarray((micro_clusterer or minibatch_micro_clusters)(features, m, seed, progress, cancel), dtype=np.int64)
    check_cancel(cancel)
    used, micro = np.unique(micro, return_inverse=True)  # drop empty micro-clusters
    centres, sizes = micro_centres(features, micro, len(used))
    extra: dict[str, Any] = {"n_micro": int(len(used))}
    k = min(int(k), len(used))
    if method == "agglomerative" and params.get("linkage", "ward") == "ward":
        report(progress, "clustering: ward over micro-clusters", 0, 1)
        # without a graph, a wide one (30-NN): all pairs would cost O(micro^2) per merge
        neighbours = centre_k or (CENTRE_NEIGHBOURS if params.get("n_neighbors", 10) else UNCONSTRAINED_NEIGHBOURS)
        graph = _centre_graph(centres, int(neighbours)) if len(centres) > 2 else None
        children = weighted_ward_children(centres, sizes, graph, cancel=cancel)
        from pipeline.clustering.methods import cut_tree

        top = cut_tree(children, len(centres), k)
        extra["micro_tree"] = children
        report(progress, "clustering: ward over micro-clusters", 1, 1)
    else:
        top = np.asarray(get_method(method)(centres.astype(np.float32), k, seed=seed, progress=None, cancel=cancel, **params))
    extra["micro_labels"] = micro
    return top[micro], extra


@register_method("micro_ward")
def micro_ward(
    features, k, *, seed=0, images=None, progress=None, cancel=None,
    n_neighbors: Optional[int] = 10, n_micro: Optional[int] = None, micro_clusterer: Optional[MicroClusterer] = None,
    centre_neighbors: Optional[int] = None, **_,
):
    """Two-stage ward for large sets: k-means micro-clusters, then size-weighted ward over
    their centres, on a k-NN graph of them when ``n_neighbors`` is set (``centre_neighbors``
    wide, default :data:`CENTRE_NEIGHBOURS`; see :func:`two_stage_labels`)."""
    labels, _extra = two_stage_labels(
        features, k, method="agglomerative",
        method_params={"linkage": "ward", "n_neighbors": n_neighbors, "centre_neighbors": centre_neighbors},
        n_micro=n_micro, seed=seed, micro_clusterer=micro_clusterer, progress=progress, cancel=cancel,
    )
    return labels
