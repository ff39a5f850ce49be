"""The review state and its edit commands, without widgets.

:class:`ReviewController` holds the installed session (with its project arrays, cluster
statistics, autosaver and undo stack), the selected clusters, the shown ("current")
cluster, the selected images and the refresh pending after edits. Every edit command
(merge, split, move, reject, name, label, accept, dendrogram cut) builds a session
:class:`Edit` and pushes it as one undo step; the session's listener collects what
changed and one throttled :meth:`flush` per event-loop turn recomputes the statistics
and announces the new selection. Pages subscribe to its signals; tests drive it directly.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack
from superqt.utils import qthrottled

from pipeline.clustering.split import split_cluster, split_method_for
from pipeline.clustering.stats_update import clusters_to_update, update_cluster_stats
from pipeline.clustering.summary import ClusterStats, compute_cluster_stats
from pipeline.project.sessions import EditAccess, open_for_editing
from pipeline.project.store import ProjectData
from pipeline.review import Autosaver, Edit, ReviewError, ReviewSession, Taxonomy, TaxonomyError
from pipeline.review.session_db import is_session_db

from gui.controllers.review_files import ReviewFiles
from gui.controllers.stats_updater import StatsUpdater
from gui.controllers.turns import TurnQueue
from gui.jobs.runner import JobRunner
from gui.jobs.worker import Job
from gui.models.cluster_text import cluster_label
from gui.undo import EditCommand, restore_stack


#: Up to this many clusters the linkage is recomputed with the statistics after an edit.
LINKAGE_IN_FLUSH_UP_TO = 200
#: From this many images an edit's statistics are updated on their own thread (gui/controllers/stats_updater.py).
SPLIT_FLUSH_FROM = 200_000


class ReviewController(QObject, ReviewFiles):
    """Current cluster, selection, pending refresh and the edit commands of one session
    (saving a copy and exporting: :class:`~gui.controllers.review_files.ReviewFiles`)."""

    installed = Signal()  # a session is in place (stats computed, nothing selected yet)
    install_done = Signal()  # every step the install put off (``later``) has run
    uninstalled = Signal()
    refreshed = Signal(object, bool)  # the cluster ids an edit touched (None: all), membership changed
    selection_changed = Signal(list)  # clusters selected by the controller (pages follow)
    current_changed = Signal(object, bool)  # shown cluster id (or None), keep the grid's scroll
    current_updated = Signal()  # the shown cluster's flags or figures changed, not its members
    taxonomy_changed = Signal()
    state_changed = Signal()  # something action enablement depends on
    flushed = Signal()  # a refresh after edits is complete
    images_cleared = Signal()  # the image selection was dropped (the grid clears its own)
    error = Signal(str, str)  # message, details
    message = Signal(str, int)  # status text, milliseconds

    def __init__(self, runner: JobRunner, taxonomy: Optional[Taxonomy] = None, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.taxonomy = taxonomy or Taxonomy.gtsrb()
        self.undo_stack = QUndoStack(self)
        for changed in (self.undo_stack.canUndoChanged, self.undo_stack.canRedoChanged):
            changed.connect(lambda _: self.state_changed.emit())
        self.session: Optional[ReviewSession] = None
        self.project: Optional[ProjectData] = None
        self.session_path: Optional[Path] = None
        self.stats: Optional[ClusterStats] = None
        self.autosaver: Optional[Autosaver] = None  # a session file opened from outside the store
        self.access: Optional[EditAccess] = None  # the project's database journal and lock
        self.read_only = ""  # why edits are refused (another window holds the project), else ""
        self.current: Optional[int] = None
        self.selected: list[int] = []
        self.selected_images: list[int] = []
        #: Cluster ids in the order the reviewer sees them (the table's sort); set by the page.
        self.display_order: Callable[[], list[int]] = lambda: self.session.cluster_ids() if self.session else []
        self._pending_clusters: set[int] = set()
        self._pending_all = False
        self._want_selected: Optional[list[int]] = None
        self.schedule_flush = qthrottled(self.flush, timeout=0, leading=False, parent=self)
        #: An install in turns (``install(..., in_turns=True)``) runs its steps and the pages'
        #: ``later`` steps here, one per event-loop turn.
        self.turns = TurnQueue(self)
        self.stats_updater = StatsUpdater(self)  # a big review's statistics after an edit, off the UI thread
        self.turns.drained.connect(self._install_finished)
        self._installing = False

    # ================================================================== install
    def install(self, data: ProjectData, session: ReviewSession, session_path, taxonomy: Optional[Taxonomy] = None,
                stats: Optional[ClusterStats] = None, in_turns: bool = False) -> None:
        """Put ``session`` in place; ``stats`` computed off the UI thread are used as given.

        ``in_turns``: open the journal, announce :attr:`installed` and run what the pages put
        off with :meth:`later` each in its own event-loop turn (edits are refused until the
        journal is open); :attr:`install_done` follows the last step.
        """
        self.teardown()
        self.project, self.session, self.session_path = data, session, Path(session_path)
        if taxonomy is not None:
            self.taxonomy = taxonomy
        self.stats = stats if stats is not None else self.compute_stats()
        self.current, self.selected, self.selected_images = None, [], []
        if not in_turns:
            self._open(session)
            self._announce()
            self.install_done.emit()
            return
        self._installing = True
        self.read_only = "The review is still opening; try again in a moment."
        self.turns.add(lambda: self._open(session))
        self.turns.add(self._announce)

    @property
    def installing(self) -> bool:
        """An install in turns is under way (the pages are not all filled yet)."""
        return self._installing

    def _open(self, session: ReviewSession) -> None:
        self._open_for_editing(session)
        session.add_listener(self._on_edit)

    def later(self, step: Callable[[], object]) -> None:
        """Run ``step`` in a turn of its own during an install in turns, else now."""
        if self._installing:
            self.turns.add(step)
        else:
            step()

    def _announce(self) -> None:
        self.installed.emit()
        self.state_changed.emit()

    def _install_finished(self) -> None:
        if self._installing:
            self._installing = False
            self.install_done.emit()

    def _open_for_editing(self, session: ReviewSession) -> None:
        """Journal edits into the project's database (undo stack restored from it), or autosave a JSON file.

        When another window or program holds the project, it stays read-only (:attr:`read_only`).
        """
        self.access, self.read_only = None, ""
        if not is_session_db(self.session_path):
            self.autosaver = Autosaver(session, self.session_path, on_error=lambda e: self._error(f"Autosave failed: {e}"))
            return
        try:
            self.access = open_for_editing(session, self.session_path,
                                           on_error=lambda e: self._error(f"The last edit could not be saved: {e}"))
        except ReviewError as exc:
            self.read_only = f"Read-only: {exc}"
        else:
            self.read_only = self.access.read_only_reason()
            if self.access.journal is not None:
                restore_stack(self.undo_stack, session, self.access.journal)
        if self.read_only:
            self._error(self.read_only)

    def teardown(self) -> None:
        self.turns.clear()
        self.stats_updater.cancel()
        self._installing = False
        if self.autosaver is not None:
            self.autosaver.close()
            self.autosaver = None
        if self.access is not None:
            self.access.close()
            self.access = None
        if self.session is not None:
            self.session.remove_listener(self._on_edit)
            self.session = None
            self.uninstalled.emit()
        self.undo_stack.clear()

    def compute_stats(self) -> ClusterStats:
        s = self.session
        return compute_cluster_stats(self.project.features, {c: s.members(c) for c in s.cluster_ids()})

    def _updated_stats(self, changed: set[int]) -> tuple[ClusterStats, Optional[set[int]]]:
        """The statistics after a membership edit: the touched clusters recomputed, the others kept
        (:func:`~pipeline.clustering.stats_update.update_cluster_stats`); and the clusters that
        changed (``None``: all, when there were no statistics to update)."""
        s, st = self.session, self.stats
        if st is None:
            return self.compute_stats(), None
        ids = s.cluster_ids()
        touched = clusters_to_update(st, ids, s.size, changed)
        # A big tree's linkage is left to the page's tree turn (ensure_linkage), after the table's repaint.
        return update_cluster_stats(st, self.project.features, ids, s.members, touched,
                                    with_linkage=len(ids) <= LINKAGE_IN_FLUSH_UP_TO), touched

    def label(self, cid: int) -> str:
        return cluster_label(self.session, self.taxonomy, cid)

    # ================================================================== selection
    def set_selection(self, cids: Sequence[int], current: Optional[int] = None) -> None:
        """The reviewer selected ``cids`` in a view (``current`` first if given); no echo to the views."""
        self.selected = [int(c) for c in cids]
        cid = current if current is not None else (self.selected[0] if self.selected else None)
        if cid != self.current:
            self.show(cid)
        self.state_changed.emit()

    def select(self, cids: Sequence[int]) -> None:
        """Select ``cids`` (the first becomes the shown cluster) and tell the views."""
        cids = [int(c) for c in cids if self.session is not None and self.session.has_cluster(int(c))]
        self.selected = cids
        self.selection_changed.emit(list(cids))
        if (cids[0] if cids else None) != self.current:
            self.show(cids[0] if cids else None)
        self.state_changed.emit()

    def show(self, cid: Optional[int], keep_scroll: bool = False) -> None:
        self.current = cid
        self.selected_images = []
        self.current_changed.emit(cid, keep_scroll)

    def set_selected_images(self, images: Sequence[int]) -> None:
        self.selected_images = sorted(int(i) for i in images)
        self.state_changed.emit()

    def step(self, delta: int) -> None:
        """Select the cluster ``delta`` rows from the current one in display order."""
        order = self.display_order()
        if not order:
            return
        row = order.index(self.current) if self.current in order else -1
        self.select([order[min(max(0, row + delta), len(order) - 1)]])

    def neighbour(self, cid: int, delta: int) -> int:
        """The cluster ``delta`` rows from ``cid`` in display order (``cid`` at the ends)."""
        order = self.display_order()
        if cid not in order:
            return cid
        row = order.index(cid) + delta
        return order[row] if 0 <= row < len(order) else cid

    # ================================================================== pushing edits
    def push(self, edit: Edit, select: Optional[Sequence[int]] = None, text: Optional[str] = None) -> bool:
        """Push one edit as an undo step and say what it did; False when it would change nothing."""
        if edit.is_empty:
            self.message.emit("Nothing to change", 3000)
            return False
        if self.read_only:
            self._error(self.read_only)
            return False
        self._want_selected = list(select) if select is not None else None
        journal = self.access.journal if self.access is not None else None
        self.undo_stack.push(EditCommand(self.session, edit, journal=journal))
        self.message.emit(f"{text or edit.text} (Ctrl+Z undoes it)", 6000)
        return True

    def undo(self) -> bool:
        """Undo one step, say which, and select the clusters it touched."""
        return self._replay(undo=True)

    def redo(self) -> bool:
        return self._replay(undo=False)

    def _replay(self, undo: bool) -> bool:
        stack = self.undo_stack
        if not (stack.canUndo() if undo else stack.canRedo()):
            self.message.emit("Nothing to undo" if undo else "Nothing to redo", 3000)
            return False
        index = stack.index() - 1 if undo else stack.index()
        edit = getattr(stack.command(index), "edit", None)
        if edit is not None and edit.clusters:
            self._want_selected = sorted(edit.clusters)  # those that exist afterwards are selected
        (stack.undo if undo else stack.redo)()
        self.message.emit(f"{'Undone' if undo else 'Redone'}: {stack.text(index)}", 6000)
        return True

    def clear_selection(self) -> None:
        """Esc: drop the selected images; with none selected, the selected clusters."""
        if self.selected_images:
            self.selected_images = []
            self.images_cleared.emit()
            self.message.emit("Image selection cleared", 3000)
        elif self.selected:
            self.select([])
            self.message.emit("Cluster selection cleared", 3000)
        self.state_changed.emit()

    def attempt(self, make: Callable[[], Edit], select: Optional[Sequence[int]] = None, text: Optional[str] = None) -> bool:
        """Build an edit with ``make`` (a :class:`ReviewError` is shown, not raised) and push it."""
        try:
            edit = make()
        except ReviewError as exc:
            self._error(str(exc))
            return False
        return self.push(edit, select=select, text=text)

    def push_batch(self, builders: Sequence[Callable[[], Edit]], text: str, select: Optional[Sequence[int]] = None) -> bool:
        """Several steps as one edit (``ReviewSession.batch``): one undo step, one autosave."""
        return self.attempt(lambda: self.session.batch(builders, text), select=select)

    # ================================================================== edit commands
    def merge(self, cids: Sequence[int]) -> bool:
        cids = list(cids)
        if len(cids) < 2:
            self.message.emit("Select at least two clusters to merge (Ctrl/Shift+click)", 4000)
            return False
        return self.attempt(lambda: self.session.merge(cids), select=[self.session.merge_target(cids)])

    def split(self, cid: int, parts: int, method: str = "kmeans") -> Optional[Job]:
        """Re-cluster ``cid`` into ``parts`` on the model thread, then push the split."""
        members = self.session.members(cid)
        if len(members) < parts:
            self._error(f"Cluster {cid} has only {len(members)} images; cannot split into {parts}")
            return None
        method = split_method_for(method, len(members))
        feats, seed = self.project.features, int(self.session.config.get("seed", 0) or 0)
        session, revision = self.session, self.session.revision

        def job(progress, cancel):
            return split_cluster(feats[members], parts, method, seed=seed, progress=progress, cancel=cancel)

        def done(sub) -> None:
            if self.session is not session or session.revision != revision:
                self._error("The session changed while splitting; split again.")
            elif len(np.unique(sub)) < 2:
                self._error(f"Cluster {cid} could not be split: all images fell into one part")
            else:
                try:
                    edit = session.split(cid, sub)
                except ReviewError as exc:
                    self._error(str(exc))
                    return
                self.push(edit, select=[cid, *edit.new_clusters])

        return self.runner.start(f"Splitting cluster {cid}", job, done, name="split")

    def move(self, images: Sequence[int], target: Optional[int]) -> bool:
        images = list(images)
        if not images:
            self.message.emit("Select images in the grid first", 4000)
            return False
        dest = f"a new cluster #{self.session.next_cluster_id()}" if target is None else self.label(target)
        noun = "image" if len(images) == 1 else "images"
        return self.attempt(lambda: self.session.move(images, target), text=f"Moved {len(images)} {noun} to {dest}",
                            select=[self.current] if self.current is not None else None)

    def reject(self, images: Sequence[int]) -> bool:
        """Reject the images, or take the mark back when all are rejected already."""
        images = list(images)
        if not images:
            self.message.emit("Select images in the grid first", 4000)
            return False
        value = not all(i in self.session.rejected for i in images)
        return self.attempt(lambda: self.session.reject(images, value))

    def name(self, cids: Sequence[int], class_id: Optional[str]) -> bool:
        cids = list(cids)
        if len(cids) == 1:
            return self.attempt(lambda: self.session.name(cids[0], class_id), select=cids)
        label = self.taxonomy.name_of(class_id) if class_id else "no class"
        return self.push_batch([lambda c=c: self.session.name(c, class_id) for c in cids],
                               f"Name {len(cids)} clusters as {label}", select=cids)

    def label_images(self, images: Sequence[int], class_id: Optional[str]) -> bool:
        images = list(images)
        return self.attempt(lambda: self.session.set_image_label(images, class_id, mark_reviewed=True))

    def accept(self, cids: Sequence[int]) -> bool:
        """Accept the clusters (or withdraw when all are accepted); one cluster: go on to the next."""
        cids = list(cids)
        if not cids:
            return False
        value = not all(c in self.session.accepted for c in cids)
        if len(cids) == 1:
            cid = cids[0]
            return self.attempt(lambda: self.session.accept(cid, value),
                                select=[self.neighbour(cid, 1)] if value else [cid])
        text = f"{'Accept' if value else 'Withdraw acceptance of'} {len(cids)} clusters"
        return self.push_batch([lambda c=c: self.session.accept(c, value) for c in cids], text, select=cids)

    def apply_cut(self, groups: Sequence[Sequence[int]]) -> bool:
        """Merge each group of clusters (from the dendrogram cut) as one undo step."""
        groups = [list(g) for g in groups if len(g) > 1]
        if not groups:
            return False
        n = sum(len(g) for g in groups)
        return self.push_batch([lambda g=g: self.session.merge(g) for g in groups],
                               f"Cut dendrogram: merge {n} clusters into {len(groups)}",
                               select=[self.session.merge_target(g) for g in groups])

    # ================================================================== refresh after edits
    def _on_edit(self, edit: Edit) -> None:
        self._pending_clusters |= set(edit.clusters)
        if len(edit.assign_indices):
            self._pending_all = True  # every cluster an image left or joined: its size and figures changed
            self._pending_clusters |= set(np.union1d(edit.assign_before, edit.assign_after).tolist())
        self.schedule_flush()

    def flush(self) -> None:
        """Recompute what the pending edits changed, then re-announce selection and current cluster."""
        if self.session is None:
            return
        changed, membership = self._pending_clusters, self._pending_all
        self._pending_clusters, self._pending_all = set(), False
        current = self.current
        if membership and len(self.session) >= SPLIT_FLUSH_FROM and self.stats is not None:
            session = self.session  # statistics on their own thread, then the pages' refresh
            self.stats_updater.update(session, self.stats, self.project.features, changed,
                                      lambda stats, touched: self.session is session and self._stats_done(stats, touched))
            return
        if membership:
            self.stats, changed = self._updated_stats(changed)
        self._announce_refresh(changed, membership, current)

    def _stats_done(self, stats: ClusterStats, touched: set[int]) -> None:
        self.stats = stats
        self._announce_refresh(touched, True, self.current)

    def _announce_refresh(self, changed: Optional[set[int]], membership: bool, current: Optional[int]) -> None:
        """The second half of :meth:`flush`: pages refresh, the selection and the shown cluster follow."""
        want = self._want_selected if self._want_selected is not None else list(self.selected)
        self._want_selected = None
        self.refreshed.emit(changed, membership)
        want = [c for c in want if self.session.has_cluster(c)]
        if not want and current is not None and self.session.has_cluster(current):
            want = [current]
        if not want:
            want = self.display_order()[:1]
        self.selected = want
        self.selection_changed.emit(list(want))
        new = want[0] if want else None
        if new != current or (membership and (changed is None or new in changed)):
            self.show(new, keep_scroll=(new == current))
        else:
            self.current_updated.emit()
        self.state_changed.emit()
        self.flushed.emit()

    # ================================================================== taxonomy, history
    def set_taxonomy(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.taxonomy_changed.emit()

    def load_taxonomy(self, path) -> Optional[Taxonomy]:
        try:
            tax = Taxonomy.load_csv(path)
        except TaxonomyError as exc:
            self._error(str(exc))
            return None
        self.set_taxonomy(tax)
        self.message.emit(f"Taxonomy: {len(tax)} classes from {path}", 5000)
        return tax

    def go_to_state(self, seq: int) -> bool:
        """Bring the review to the state right after journal edit ``seq`` (0: as the run left it).

        Recorded as one more step of the history; the undo stack is rebuilt from the journal.
        """
        journal = self.access.journal if self.access is not None else None
        if journal is None:
            self._error(self.read_only or "This review has no history (it is a session file opened from elsewhere)")
            return False
        try:
            journal.restore(seq)
        except ReviewError as exc:
            self._error(str(exc))
            return False
        self.undo_stack.clear()
        restore_stack(self.undo_stack, self.session, journal)
        self.message.emit("Went back to an earlier state (the history keeps every step)" if seq != 0
                          else "Back to the clusters as the run left them (the history keeps every step)", 6000)
        return True

    def _error(self, message: str, details: str = "") -> None:
        self.error.emit(message, details)
