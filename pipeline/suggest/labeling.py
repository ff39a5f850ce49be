"""Labeling mode: over-cluster into many small, pure clusters, then merge siblings.

:func:`overcluster` gives the small clusters; :func:`sibling_groups` lists unnamed
clusters the suggestions give the same class, so one decision can name them together.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from pipeline.clustering.overcluster import IMAGES_PER_CLUSTER, MAX_CLUSTERS, overcluster_k
from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report
from pipeline.suggest.decided import undecided_mask
from pipeline.suggest.propagation import Suggestions


def overcluster(
    features: np.ndarray,
    k: Optional[int] = None,
    *,
    seed: int = 0,
    tree: Optional[np.ndarray] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> np.ndarray:
    """Cluster ids (0..k-1), ``k`` clusters (default :func:`overcluster_k`).

    With ``tree`` (the run's ward merge tree, sklearn ``children_``) the tree is cut at
    ``k``: instant, and siblings in the dendrogram stay siblings. Without it, mini-batch
    K-means on ``features``.
    """
    from sklearn.cluster import MiniBatchKMeans

    check_cancel(cancel)
    k = overcluster_k(len(features)) if k is None else int(min(k, len(features)))
    report(progress, "over-cluster", 0, 1)
    if tree is not None:
        from pipeline.clustering.methods import cut_tree

        labels = cut_tree(np.asarray(tree), len(features), k)
        report(progress, "over-cluster", 1, 1, f"{k} clusters")
        return labels.astype(np.int64)
    km = MiniBatchKMeans(n_clusters=k, random_state=seed, batch_size=4096, n_init=3)
    labels = km.fit_predict(np.asarray(features, dtype=np.float32))
    report(progress, "over-cluster", 1, 1, f"{k} clusters")
    return labels.astype(np.int64)


def sibling_groups(session, suggestions: Suggestions, min_confidence: float = 0.5) -> dict[str, list[int]]:
    """Suggested class -> unnamed clusters (at least two) whose vote is that class."""
    undecided = undecided_mask(session)
    groups: dict[str, list[int]] = {}
    for cid in session.cluster_ids():
        if cid in session.cluster_names:
            continue
        members = session.members(cid)
        members = members[undecided[members]]
        cls, conf = suggestions.cluster_vote(members)
        if cls is not None and conf >= min_confidence:
            groups.setdefault(cls, []).append(cid)
    return {c: ids for c, ids in groups.items() if len(ids) >= 2}
