"""The dendrogram follows the review's statistics: at once for a small tree, a moment later for a big one.

Up to :data:`TREE_NOW_UP_TO` clusters the tree is redrawn in the same turn as the edit. A
bigger one is redrawn :data:`TREE_DELAY_MS` after the last edit (each edit restarts the wait):
its ward linkage (left out of the edit's statistics update, see
:func:`~pipeline.clustering.stats_update.ensure_linkage`) and its repaint then get a turn of
their own after the table's and grid's repaint, and a burst of edits relinks once.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from gui.controllers.review import ReviewController
from gui.views.dendrogram_view import DendrogramView
from pipeline.clustering.stats_update import ensure_linkage

TREE_NOW_UP_TO = 200
TREE_DELAY_MS = 120


class TreeFollower(QObject):
    """Keeps ``view`` drawing ``review``'s current tree; see the module docstring."""

    def __init__(self, review: ReviewController, view: DendrogramView, parent=None) -> None:
        super().__init__(parent)
        self.review, self.view = review, view
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TREE_DELAY_MS)
        self._timer.timeout.connect(self.update_now)

    def after_edit(self) -> None:
        """The statistics changed: redraw now (small tree) or once the edits pause (big tree)."""
        st = self.review.stats
        if st is not None and len(st.ids) > TREE_NOW_UP_TO:
            self._timer.start()
        else:
            self.update_now()

    def soon(self) -> None:
        """Redraw in :data:`TREE_DELAY_MS` whatever the size (a new review: after its table and grid)."""
        self._timer.start()

    def pending(self) -> bool:
        """Whether a big tree's redraw is still waiting for its turn."""
        return self._timer.isActive()

    def stop(self) -> None:
        self._timer.stop()

    def update_now(self) -> None:
        self._timer.stop()
        r = self.review
        st = r.stats
        if st is None or r.session is None:
            return
        ensure_linkage(st)
        self.view.set_data(st.linkage, st.ids, [r.label(c) for c in st.ids])
        self.view.set_selected(r.selected)


__all__ = ["TREE_DELAY_MS", "TREE_NOW_UP_TO", "TreeFollower"]
