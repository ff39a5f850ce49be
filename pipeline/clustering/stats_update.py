"""Cluster statistics after a review edit: only the clusters the edit touched are recomputed.

:func:`update_cluster_stats` takes the :class:`~pipeline.clustering.summary.ClusterStats`
from before an edit and recomputes, for the clusters that changed (and any new ones), the
center, the member order, the medoid, the distances and the silhouette (against every
current center). The other clusters keep their figures: their members and centers are
unchanged, their silhouettes may be slightly stale (a neighbouring center moved) until the
next full :func:`~pipeline.clustering.summary.compute_cluster_stats`. The linkage is
recomputed over the K centers (or, ``with_linkage=False``, left to :func:`ensure_linkage` later:
the window draws a big tree in a turn of its own). The cost is the changed clusters' images times K instead of
N times K: a merge in a million-image review takes milliseconds, not seconds.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np

from pipeline.clustering.summary import ClusterStats

#: Images per matrix product (the changed clusters of a big review may hold many).
STATS_CHUNK = 65536


def clusters_to_update(stats: ClusterStats, ids: Sequence[int], size_of: Callable[[int], int],
                       changed: Iterable[int]) -> set[int]:
    """``changed`` and every cluster whose figures in ``stats`` no longer fit clusters ``ids``: gone,
    new, or of another size than its members there (in case an edit's record missed one)."""
    present = {int(c) for c in ids}
    return ({int(c) for c in changed} | (set(stats.members) - present)
            | {c for c in present if c not in stats.members or len(stats.members[c]) != size_of(c)})


def update_cluster_stats(
    stats: ClusterStats,
    features: np.ndarray,
    ids: Sequence[int],
    members_of: Callable[[int], Sequence[int]],
    changed: Iterable[int],
    *,
    with_linkage: bool = True,
) -> ClusterStats:
    """``stats`` for clusters ``ids`` (``members_of(cid)``: its images) after ``changed`` changed."""
    ids = [int(c) for c in ids]
    changed = {int(c) for c in changed} | {c for c in ids if c not in stats.row_of}
    fresh: dict[int, np.ndarray] = {}
    for cid in sorted(changed):
        if cid in stats.row_of or cid in ids:
            idx = np.sort(np.asarray(members_of(cid), dtype=np.int64)) if cid in ids else np.zeros(0, np.int64)
            if len(idx):
                fresh[cid] = idx
    ids = [c for c in ids if c in fresh or (c not in changed and c in stats.row_of)]
    row_of = {cid: r for r, cid in enumerate(ids)}
    dim = stats.centers.shape[1] if stats.centers.ndim == 2 else int(np.shape(features)[1])
    centers = np.zeros((len(ids), dim), dtype=np.float32)
    kept = [c for c in ids if c not in fresh]
    if kept:
        centers[[row_of[c] for c in kept]] = stats.centers[[stats.row_of[c] for c in kept]]
    for cid, idx in fresh.items():
        total = np.zeros(dim, dtype=np.float64)
        for s in range(0, len(idx), STATS_CHUNK):
            total += np.asarray(features[idx[s:s + STATS_CHUNK]], dtype=np.float64).sum(axis=0)
        centers[row_of[cid]] = total / len(idx)

    members = {c: stats.members[c] for c in kept}
    medoids = {c: stats.medoids[c] for c in kept}
    silhouette = {c: stats.silhouette.get(c, float("nan")) for c in kept}
    distance = np.array(stats.distance, copy=True)
    c2 = np.einsum("ij,ij->i", centers, centers)
    k = len(ids)
    for cid, idx in fresh.items():
        r = row_of[cid]
        a_all = np.empty(len(idx), dtype=np.float32)
        sil_sum = 0.0
        for s in range(0, len(idx), STATS_CHUNK):
            x = np.asarray(features[idx[s:s + STATS_CHUNK]], dtype=np.float32)
            xx = np.einsum("ij,ij->i", x, x)
            m = x @ centers.T  # then, in place, |c|^2 - 2 x.c: the squared distance less |x|^2 (one array)
            m *= -2.0
            m += c2
            a = np.sqrt(np.maximum(m[:, r] + xx, 0.0))
            a_all[s:s + len(x)] = a
            if k > 1:
                m[:, r] = np.inf
                b = np.sqrt(np.maximum(m.min(axis=1) + xx, 0.0))
                sil_sum += float(((b - a) / np.maximum(np.maximum(a, b), 1e-12)).sum())
        distance[idx] = a_all
        order = idx[np.argsort(a_all, kind="stable")]
        members[cid] = order
        medoids[cid] = int(order[0])
        silhouette[cid] = sil_sum / len(idx) if k > 1 else float("nan")
    members = {c: members[c] for c in ids}  # in ``ids`` order, like compute_cluster_stats
    out = ClusterStats(ids, centers, members, medoids, distance, silhouette, None, row_of)
    return ensure_linkage(out) if with_linkage else out


def ensure_linkage(stats: ClusterStats) -> ClusterStats:
    """Fill in ``stats.linkage`` (ward over the centers) where an update left it out; returns ``stats``."""
    if stats.linkage is None and len(stats.ids) >= 2:
        from scipy.cluster.hierarchy import linkage as _linkage

        stats.linkage = _linkage(np.asarray(stats.centers, dtype=np.float64), method="ward")
    return stats
