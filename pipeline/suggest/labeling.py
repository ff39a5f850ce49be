"""Labeling mode: over-cluster into many small, pure clusters (their siblings are named
together with :func:`pipeline.suggest.siblings.sibling_groups`)."""
from __future__ import annotations

from typing import Optional

import numpy as np

from pipeline.clustering.overcluster import IMAGES_PER_CLUSTER, MAX_CLUSTERS, overcluster_k
from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report


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

