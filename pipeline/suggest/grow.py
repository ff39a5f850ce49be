"""Grow a named cluster (the MorphoCluster idea): its nearest undecided images, in order.

The window shows the list; one click on the first image that does not belong accepts
every image before it into the cluster (``ReviewSession.move`` of that prefix).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from pipeline.suggest.decided import undecided_mask


def grow_candidates(
    session,
    features: np.ndarray,
    cluster_id: int,
    n: int = 120,
    *,
    undecided: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Up to ``n`` undecided images nearest to the mean feature of ``cluster_id``, nearest first."""
    members = session.members(cluster_id)
    if len(members) == 0:
        return np.zeros(0, np.int64)
    mask = undecided_mask(session) if undecided is None else undecided.copy()
    mask[members] = False
    cand = np.flatnonzero(mask)
    if len(cand) == 0:
        return cand
    centre = features[members].mean(0)
    d = ((features[cand] - centre) ** 2).sum(1)
    k = min(n, len(cand))
    part = np.argpartition(d, k - 1)[:k]
    return cand[part[np.argsort(d[part], kind="stable")]]


def accept_prefix(candidates: np.ndarray, first_wrong: Optional[int]) -> np.ndarray:
    """The images a grow click accepts: all before position ``first_wrong`` (all if ``None``)."""
    return candidates if first_wrong is None else candidates[:first_wrong]
