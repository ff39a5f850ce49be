"""What the reviewer has decided so far, read from a :class:`ReviewSession`.

An image is *decided* when its cluster is named, or it carries an image label
(override), or it is rejected. Given labels that came with the input are not decisions.
"""
from __future__ import annotations

import numpy as np


def undecided_mask(session) -> np.ndarray:
    """Boolean mask over images: ``True`` where no reviewer decision covers the image."""
    named = np.fromiter(session.cluster_names, dtype=np.int64, count=len(session.cluster_names))
    mask = ~np.isin(session.assignments, named)
    if session.image_labels:
        mask[np.fromiter(session.image_labels, dtype=np.int64, count=len(session.image_labels))] = False
    if session.rejected:
        mask[np.fromiter(session.rejected, dtype=np.int64, count=len(session.rejected))] = False
    return mask


def unmarked_members(session, cid: int) -> np.ndarray:
    """The members of cluster ``cid`` without an image label or a rejection of their own (the
    images its name, or its suggestion, speaks for)."""
    members = session.members(cid)
    if not len(members) or not (session.image_labels or session.rejected):
        return members
    keep = [i not in session.image_labels and i not in session.rejected for i in members.tolist()]
    return members[np.asarray(keep, dtype=bool)]


def decided_labels(session) -> tuple[np.ndarray, list[str]]:
    """``(indices, classes)`` of every image with a decided class (rejected images excluded)."""
    idx: list[int] = []
    cls: list[str] = []
    names = session.cluster_names
    overrides = session.image_labels
    rejected = session.rejected
    for cid, name in names.items():
        for i in session.members(cid).tolist():
            if i not in overrides and i not in rejected:
                idx.append(i)
                cls.append(name)
    for i, name in overrides.items():
        idx.append(int(i))
        cls.append(name)
    order = np.argsort(np.asarray(idx, dtype=np.int64), kind="stable")
    return np.asarray(idx, dtype=np.int64)[order], [cls[j] for j in order.tolist()]
