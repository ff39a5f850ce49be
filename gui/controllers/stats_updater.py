"""A big review's cluster statistics after an edit, computed on a thread of its own.

At a million images, updating the edited clusters' statistics (their images against every
center) and the ward linkage over a thousand centers took 50-100 ms on the UI thread: the
longest stall of a merge or an undo. :class:`StatsUpdater` runs
:func:`~pipeline.clustering.stats_update.update_cluster_stats` on one worker thread (numpy
releases the interpreter while it multiplies), one update at a time. The UI thread only
snapshots what the update reads (the cluster ids, the touched clusters' members) and installs
the result; edits that come in while an update runs are gathered and start the next update
from its result. A timer polls the running update, so no Qt signal is emitted off the UI thread.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import QObject, QTimer

from pipeline.clustering.stats_update import clusters_to_update, update_cluster_stats
from pipeline.clustering.summary import ClusterStats

#: How often the UI thread looks whether the running update is done.
POLL_MS = 3

Done = Callable[[ClusterStats, set], None]


class StatsUpdater(QObject):
    """Statistics updates for one review, in order, off the UI thread; see the module docstring."""

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cluster-stats")
        self._future: Optional[Future] = None
        self._touched: set[int] = set()  # clusters touched since the running update's snapshot
        self._request: Optional[tuple] = None
        self._generation = 0
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check)

    def busy(self) -> bool:
        """An update is running or waiting for one to finish."""
        return self._future is not None or self._request is not None

    def update(self, session, stats: ClusterStats, features: np.ndarray, touched: set, done: Done) -> None:
        """Recompute ``stats`` for ``touched`` clusters of ``session`` (now, or after the running update,
        from its result); ``done(new_stats, touched)`` runs on the UI thread."""
        self._touched |= {int(c) for c in touched}
        self._request = (session, features, done)
        if self._future is None:
            self._start(stats)

    def cancel(self) -> None:
        """Forget the running and waiting updates (a new review is being installed)."""
        self._generation += 1
        self._future, self._request, self._touched = None, None, set()
        self._poll.stop()

    def _start(self, stats: ClusterStats) -> None:
        session, features, done = self._request
        self._request = None
        ids = session.cluster_ids()
        touched, self._touched = clusters_to_update(stats, ids, session.size, self._touched), set()
        members = {c: np.array(session.members(c), dtype=np.int64) for c in touched if session.has_cluster(c)}
        self._future = self._pool.submit(update_cluster_stats, stats, features, ids, members.__getitem__, touched)
        self._running = (self._generation, touched, done)
        self._poll.start()

    def _check(self) -> None:
        future = self._future
        if future is None or not future.done():
            return
        generation, touched, done = self._running
        self._future = None
        self._poll.stop()
        if generation != self._generation:
            return
        stats = future.result()  # an error in the update is raised here, on the UI thread
        if self._request is not None:  # more edits came in: they start from this result
            self._start(stats)
        done(stats, touched)


__all__ = ["POLL_MS", "StatsUpdater"]
