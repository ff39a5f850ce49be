"""Read-only questions about a :class:`~pipeline.review.session.ReviewSession`, whole-session ones vectorised.

:class:`SessionQueries` is a mixin of ``ReviewSession``: an image's final class, which images
changed or were reviewed, a cluster's label counts and purity, and the status-bar summary.
The per-image answers for every image (:meth:`~SessionQueries.final_classes`,
:meth:`~SessionQueries.changed_mask`, :meth:`~SessionQueries.reviewed_mask`) are numpy
operations over object and id arrays, so a million-image session answers in tens of
milliseconds; ``class_of_image`` is the one-image reference they agree with.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Optional

import numpy as np

from pipeline.core.gil_slices import fromiter_in_slices


def index_array(values: Iterable[int]) -> np.ndarray:
    """Image or cluster indices as an int64 array (from a set, list or array)."""
    if isinstance(values, np.ndarray):
        return values.astype(np.int64, copy=False).reshape(-1)
    return np.asarray(list(values), dtype=np.int64).reshape(-1)


def _in_clusters(assignments: np.ndarray, ids: Iterable[int]) -> np.ndarray:
    """Boolean mask of the images whose cluster is in ``ids``."""
    wanted = np.unique(index_array(ids))
    if not len(wanted) or not len(assignments):
        return np.zeros(len(assignments), bool)
    pos = np.minimum(np.searchsorted(wanted, assignments), len(wanted) - 1)
    return wanted[pos] == assignments


class SessionQueries:
    """The read-only queries of a review session; see the module docstring."""

    def class_of_image(self, i: int) -> Optional[str]:
        """Final class of image ``i``: its override, else ``None`` if rejected, else its
        cluster's name, else (cluster not named yet) the label it came with."""
        i = int(i)
        if i in self.image_labels:
            return self.image_labels[i]
        if i in self.rejected:
            return None
        return self.cluster_names.get(int(self.assignments[i]), self.given_labels[i])

    def _final_array(self) -> np.ndarray:
        out = np.empty(len(self), dtype=object)
        out[:] = self.given_labels
        if self.cluster_names:
            ids = np.array(sorted(self.cluster_names), dtype=np.int64)
            names = np.empty(len(ids), dtype=object)
            names[:] = [self.cluster_names[c] for c in ids.tolist()]
            named = _in_clusters(self.assignments, ids)
            out[named] = names[np.searchsorted(ids, self.assignments[named])]
        if self.rejected:
            out[index_array(self.rejected)] = None
        if self.image_labels:
            where = index_array(self.image_labels.keys())
            labels = np.empty(len(where), dtype=object)
            labels[:] = list(self.image_labels.values())
            out[where] = labels
        return out

    def final_classes(self) -> list[Optional[str]]:
        """:meth:`class_of_image` for every image."""
        return self._final_array().tolist()

    def is_changed(self, i: int) -> bool:
        """True when the final class differs from the given label (``None`` == unlabeled)."""
        return self.class_of_image(i) != self.given_labels[int(i)]

    def _given_codes(self) -> tuple[np.ndarray, dict]:
        """Integer codes of the given labels (-1: unlabeled) and the code of each label; computed once
        per ``given_labels`` list (they never change during a review) with C-level calls only."""
        cached = getattr(self, "_codes_cache", None)
        if cached is None or cached[0] is not self.given_labels:
            index = {g: k for k, g in enumerate(sorted(set(self.given_labels) - {None}))}
            index[None] = -1
            codes = fromiter_in_slices(index.__getitem__, self.given_labels, np.int64)
            cached = (self.given_labels, codes, index)
            self._codes_cache = cached
        return cached[1], cached[2]

    def changed_mask(self) -> np.ndarray:
        """:meth:`is_changed` for every image (integer compares over cached label codes)."""
        given, index = self._given_codes()
        final = given.copy()
        if self.cluster_names:
            ids = np.array(sorted(self.cluster_names), dtype=np.int64)
            names = np.array([index.get(self.cluster_names[c], -2) for c in ids.tolist()], dtype=np.int64)
            named = _in_clusters(self.assignments, ids)
            final[named] = names[np.searchsorted(ids, self.assignments[named])]
        if self.rejected:
            final[index_array(self.rejected)] = -1
        if self.image_labels:
            where = index_array(self.image_labels.keys())
            final[where] = [index.get(v, -2) for v in self.image_labels.values()]
        return final != given

    def is_reviewed(self, i: int) -> bool:
        """True if image ``i`` was reviewed itself or its cluster is accepted or named."""
        i = int(i)
        if i in self.reviewed:
            return True
        cid = int(self.assignments[i])
        return cid in self.accepted or cid in self.cluster_names

    def reviewed_mask(self) -> np.ndarray:
        """:meth:`is_reviewed` for every image."""
        mask = _in_clusters(self.assignments, set(self.accepted) | set(self.cluster_names))
        if self.reviewed:
            mask[index_array(self.reviewed)] = True
        return mask

    def label_counts(self, cluster_id: int) -> Counter:
        """Given labels of the cluster's members (unlabeled images are not counted)."""
        return Counter(g for g in (self.given_labels[i] for i in self.members(cluster_id).tolist()) if g is not None)

    def majority_label(self, cluster_id: int) -> Optional[str]:
        """The most common given label in the cluster (ties: smallest string), ``None`` if unlabeled."""
        counts = self.label_counts(cluster_id)
        if not counts:
            return None
        best = max(counts.values())
        return min(label for label, c in counts.items() if c == best)

    def purity(self, cluster_id: int) -> Optional[float]:
        """Share of the cluster's labeled members carrying its majority label; ``None`` if none is labeled."""
        counts = self.label_counts(cluster_id)
        total = sum(counts.values())
        return None if total == 0 else max(counts.values()) / total

    def summary(self) -> dict[str, int]:
        """Counts for a status bar: images, clusters, named/accepted clusters, reviewed, rejected, changed."""
        ids = self.cluster_ids()
        return {
            "images": len(self),
            "clusters": len(ids),
            "named_clusters": sum(1 for c in ids if c in self.cluster_names),
            "accepted_clusters": sum(1 for c in ids if c in self.accepted),
            "reviewed_images": int(self.reviewed_mask().sum()),
            "rejected_images": len(self.rejected),
            "changed_images": int(self.changed_mask().sum()),
        }
