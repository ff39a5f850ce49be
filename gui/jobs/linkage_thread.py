"""A big tree's ward linkage computed on a thread of its own, so an edit never waits for it.

After a merge in a review of ~1,000 clusters, scipy's ward linkage over the centres takes tens of
milliseconds of CPU; on the UI thread that is one long gap. :class:`BackgroundLinkage` computes it
on a short-lived daemon thread over a copy of the centres and hands it back through a queued signal;
the page keeps drawing the previous tree meanwhile, and drops a result whose statistics were
replaced by a newer edit. Threads, not the model thread: that one may be busy with a long job.
"""
from __future__ import annotations

import threading
from typing import Optional

import numpy as np
from PySide6.QtCore import QObject, Signal

from pipeline.clustering.summary import ClusterStats


class BackgroundLinkage(QObject):
    """``request(stats)`` starts the linkage of ``stats.centers``; ``ready(stats)`` follows on the
    receiver's thread once ``stats.linkage`` is filled in (only for the latest request)."""

    ready = Signal(object)
    _done = Signal(object, object)  # (stats, linkage), from the worker thread

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._latest: Optional[ClusterStats] = None
        self._done.connect(self._deliver)

    def pending(self, stats: ClusterStats) -> bool:
        return self._latest is stats

    def request(self, stats: ClusterStats) -> None:
        if self._latest is stats:
            return
        self._latest = stats
        centers = np.array(stats.centers, dtype=np.float64)
        threading.Thread(target=self._work, args=(stats, centers), name="tree-linkage", daemon=True).start()

    def _work(self, stats: ClusterStats, centers: np.ndarray) -> None:
        from scipy.cluster.hierarchy import linkage

        result = linkage(centers, method="ward")
        try:
            self._done.emit(stats, result)
        except RuntimeError:  # the page (and this object) went away meanwhile
            pass

    def _deliver(self, stats: ClusterStats, result: np.ndarray) -> None:
        if stats is not self._latest:
            return  # a newer edit's statistics replaced these
        self._latest = None
        if stats.linkage is None:
            stats.linkage = result
        self.ready.emit(stats)
