"""The Clusters page: cluster table over dendrogram / k-score tabs, the shown cluster's center
above a lazy thumbnail grid of its members, and the dialogs that ask an edit's parameters.

The page is a view over a :class:`~gui.controllers.review.ReviewController`: it reports
the reviewer's selections to it and follows its ``selection_changed`` /
``current_changed`` / ``refreshed`` signals (table updates happen with the selection
model's signals blocked, so they do not echo back).

Quick review: typing a class number or a letter no action uses on the table opens the
class picker filtered by it (Enter names the selection); selected thumbnails dragged
onto a table row move there (one undo step, through the controller's ``move``); the
grid can show only members whose given label disagrees with the cluster; thumbnails
carry given-label badges; auto-contrast stretches thumbnails, centers and the viewer.
"""
from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel, QSplitter,
                               QTableView, QTabWidget, QVBoxLayout, QWidget)
from superqt.utils import signals_blocked

from gui.controllers.review import ReviewController
from gui.dialogs.class_picker import ClassPicker
from gui.dialogs.review_dialogs import MoveDialog, MoveTarget, SplitDialog
from gui.pages.cluster_table_input import ClusterTableInput
from gui.models.cluster_list_model import (CLUSTER_ID_ROLE, COL_NAME, COL_SIZE, ClusterListModel,
                                          column_widths)
from gui.models.cluster_text import (center_info_html, center_title, disagreeing, grid_hint, image_flags,
                                     image_metadata, image_tooltip, label_badge, preselected_class, reference_class)
from gui.models.suspects_model import class_pixmap
from gui.models.thumbnail_model import ThumbnailModel
from gui.pages.tree_follower import TreeFollower
from gui.views.dendrogram_view import DendrogramView, KScorePlot
from gui.views.image_viewer import ImageViewer
from gui.views.thumbnail_grid import thumbnail_grid
from gui.views.thumbnail_loader import ThumbnailLoader, stretch_contrast
from gui.widgets.center_view import CENTER_SIZE, CenterView

DEFAULT_THUMB = 64
#: Members averaged for the center's mean image (evenly by distance rank): the same picture as all of
#: them, without reading thousands of scattered working-size images on the UI thread.
MEAN_IMAGE_SAMPLE = 400
MOVE_THUMB = 36


class ClustersPage(QSplitter):
    """Left: clusters and the tree; right: the shown cluster. See the module docstring."""

    disagree_only_changed = Signal(bool)

    def __init__(self, review: ReviewController, parent=None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.review = review
        self.loader: Optional[ThumbnailLoader] = None
        self.thumb_model: Optional[ThumbnailModel] = None
        self.viewer: Optional[ImageViewer] = None
        self.dialog: Optional[QWidget] = None  # the review dialog open right now (for tests)
        self.thumb_size = DEFAULT_THUMB
        self.auto_contrast = False
        self.disagree_only = False
        self._reference: Optional[str] = None  # what the shown cluster's given labels are compared with
        self._prefilled: Optional[tuple] = None  # (cluster, its member array) the install put in the grid early
        #: Where class suggestions (pipeline.suggest ``Suggestions``) come from, when the window has them;
        #: the class picker starts on a cluster's suggestion before its given-label majority.
        self.suggestions_of: Callable[[], object] = lambda: getattr(review, "suggestions", None)
        #: Hooks the suggestion display fills (gui.pages.suggestion_display): the grid's order of a
        #: cluster's members, and the center view's suggestion line (rich text) for a cluster.
        self.grid_order: Callable[[int, object], object] = lambda cid, members: members
        self.center_suggestion: Callable[[int], str] = lambda cid: ""
        self._build()
        review.display_order = self.display_order
        review.installed.connect(self._install)
        review.uninstalled.connect(self._teardown)
        review.refreshed.connect(self._on_refreshed)
        review.selection_changed.connect(self._follow_selection)
        review.current_changed.connect(self.show_cluster)
        review.current_updated.connect(self._on_current_updated)
        review.taxonomy_changed.connect(self._on_taxonomy)

    # ================================================================== layout
    def _build(self) -> None:
        self.cluster_model = ClusterListModel(self.review.taxonomy, thumb_of=self._cluster_thumb)
        t = self.table = QTableView()  # the model orders its own rows: no sort proxy (one per cell and role
        # costs a Python rowCount and columnCount call: a fifth of a table paint)
        t.setModel(self.cluster_model)
        t.setSortingEnabled(True)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        t.setIconSize(QSize(32, 32))
        t.verticalHeader().setVisible(False)
        t.verticalHeader().setDefaultSectionSize(38)
        t.setAlternatingRowColors(True)
        t.setShowGrid(False)
        t.setWordWrap(False)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = t.horizontalHeader()
        # Widths from the font, not ResizeToContents: that re-measures every cell of every row
        # after each edit and on the first selection.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        for col, px in column_widths(header.fontMetrics(), t.fontMetrics(), t.iconSize().width()).items():
            header.resizeSection(col, px)
        header.setHighlightSections(False)
        t.sortByColumn(COL_SIZE, Qt.SortOrder.DescendingOrder)
        t.selectionModel().selectionChanged.connect(self._on_table_selection)
        t.doubleClicked.connect(lambda *_: self.name_selected())

        self.dendrogram = DendrogramView()
        self.dendrogram.clusters_clicked.connect(self.review.select)
        self.dendrogram.cut_requested.connect(self.review.apply_cut)
        self.kscores = KScorePlot()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.dendrogram, "Dendrogram")
        self.tabs.addTab(self.kscores, "k selection")
        self.left = QSplitter(Qt.Orientation.Vertical)
        self.left.addWidget(self.table)
        self.left.addWidget(self.tabs)
        self.left.setStretchFactor(0, 3)
        self.left.setStretchFactor(1, 2)
        self.left.setSizes([500, 330])

        self.center_view = CenterView()
        g = self.grid = thumbnail_grid(self.thumb_size, QAbstractItemView.SelectionMode.ExtendedSelection)
        g.setDragEnabled(True)
        g.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        g.setDefaultDropAction(Qt.DropAction.MoveAction)
        g.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        g.verticalScrollBar().setSingleStep(24)
        g.doubleClicked.connect(lambda idx: self.view_image_row(idx.row()))
        g.installEventFilter(self)  # Space opens the viewer (the view would toggle selection)
        self.grid_hint = QLabel()
        self.grid_hint.setStyleSheet("color: #777; padding: 2px 8px;")
        self.grid_hint.setWordWrap(True)  # wraps in a narrow window instead of widening it
        self.disagree_box = QCheckBox("Only labels ≠ cluster")
        self.disagree_box.setToolTip("Show only the images whose given label differs from the cluster's name "
                                     "(or, unnamed, from its majority label)")
        self.disagree_box.toggled.connect(self.set_disagree_only)
        hint_row = QHBoxLayout()
        hint_row.setContentsMargins(0, 0, 6, 0)
        hint_row.addWidget(self.grid_hint, 1)
        hint_row.addWidget(self.disagree_box)
        self.hint_row = hint_row
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.setSpacing(0)
        rl.addWidget(self.center_view)
        rl.addWidget(self.grid, 1)
        rl.addLayout(hint_row)

        self.addWidget(self.left)
        self.addWidget(right)
        self.setStretchFactor(0, 0)
        self.setStretchFactor(1, 1)
        self.setSizes([470, 970])
        self.tree = TreeFollower(self.review, self.dendrogram, self)
        self.table_input = ClusterTableInput(t, self.review, lambda text: self.name_selected(text) is not None)

    # ================================================================== install / teardown
    def _install(self) -> None:
        """The grid's model now; the table, the tree and the first selection each in a later turn
        (``ReviewController.later``), so an install in turns never holds the UI thread for all."""
        r = self.review
        self._teardown()
        self.loader = ThumbnailLoader(r.session.paths, r.project.images, parent=self)
        self.loader.set_auto_contrast(self.auto_contrast)
        self.loader.reset.connect(self._on_thumbnails_reset)
        self.thumb_model = ThumbnailModel(self.loader, flags_of=lambda i: image_flags(r.session, i),
                                          tooltip_of=lambda i: image_tooltip(r.session, r.taxonomy, i),
                                          badge_of=lambda i: label_badge(r.session, i, self._reference), parent=self)
        self.thumb_model.thumb_size = self.thumb_size
        self.grid.setModel(self.thumb_model)
        self.grid.setGridSize(QSize(self.thumb_size + 8, self.thumb_size + 8))
        self.grid.selectionModel().selectionChanged.connect(self._on_grid_selection)
        session = r.session
        # The first cluster's grid a turn before the table's (two big paints, not one at once).
        r.later(lambda: r.session is session and self._prefill_grid())
        r.later(lambda: r.session is session and self._install_table())
        r.later(lambda: r.session is session and self._install_tree())
        r.later(lambda: r.session is session and self._select_first())

    def _install_table(self) -> None:
        r = self.review
        self.cluster_model.taxonomy = r.taxonomy
        self.cluster_model.set_session(r.session, r.stats)
        self.table.sortByColumn(COL_SIZE, Qt.SortOrder.DescendingOrder)
        self.disagree_box.setEnabled(any(g is not None for g in r.session.given_labels))

    def _install_tree(self) -> None:
        self.tree.soon()  # its first paint after the table's and grid's, not merged into one repaint with them
        self.kscores.set_selection(self.review.project.k_selection)
        self.tabs.setTabEnabled(1, self.kscores.has_scores())

    def _prefill_grid(self) -> None:
        """Show the cluster the table will list first (largest; ties by id), before the table is filled."""
        s = self.review.session
        first = min(s.cluster_ids(), key=lambda c: (-s.size(c), c), default=None)
        self.show_cluster(first)
        self._prefilled = (first, self.review.stats.members.get(first))

    def _select_first(self) -> None:
        if self.cluster_model.rowCount():
            self.table.selectRow(0)
        self.table.setFocus()

    def _teardown(self) -> None:
        """Drop the shown review (models emptied: the next one may come in over several turns)."""
        self.tree.stop()
        self._prefilled = None
        if self.thumb_model is not None:
            self.grid.setModel(None)
            self.thumb_model.deleteLater()
            self.thumb_model = None
        if self.cluster_model.session is not None:
            self.cluster_model.set_session(None, None)
            self.center_view.clear()
            self.dendrogram.set_data(None, [], [])
        if self.loader is not None:
            self.loader.shutdown()
            self.loader.deleteLater()
            self.loader = None
        if self.viewer is not None:
            self.viewer.close()
            self.viewer = None

    # ================================================================== selection
    def display_order(self) -> list[int]:
        """Cluster ids as the table shows them (its current sort: the model keeps its rows in it)."""
        return self.cluster_model.cluster_ids()

    def table_selection(self) -> list[int]:
        return [int(self.cluster_model.data(r, CLUSTER_ID_ROLE)) for r in self.table.selectionModel().selectedRows()]

    def _on_table_selection(self, *_) -> None:
        cur = self.table.currentIndex()
        current = None
        if cur.isValid() and self.table.selectionModel().isRowSelected(cur.row(), cur.parent()):
            current = int(self.cluster_model.data(cur, CLUSTER_ID_ROLE))
        selected = self.table_selection()
        self.review.set_selection(selected, current)
        self.dendrogram.set_selected(selected)

    def _follow_selection(self, cids: list[int]) -> None:
        """Show the controller's selection in the table (no echo) and the dendrogram."""
        sel = QItemSelection()
        first = None
        for cid in cids:
            row = self.cluster_model.row_of(cid)
            if row is None:
                continue
            idx = self.cluster_model.index(row, 0)
            sel.select(idx, idx)
            first = first if first is not None else idx
        sm = self.table.selectionModel()
        with signals_blocked(sm):
            if first is not None:
                sm.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
                self.table.scrollTo(first)
            sm.select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.viewport().update()
        self.dendrogram.set_selected(cids)

    def _on_grid_selection(self, *_) -> None:
        sm = self.grid.selectionModel()
        rows = [i.row() for i in sm.selectedIndexes()] if sm is not None and self.thumb_model is not None else []
        self._update_grid_hint(len(rows))
        self.review.set_selected_images([self.thumb_model.image_index(r) for r in rows])

    def make_current(self, image: int) -> None:
        """Make ``image`` (a member of the shown cluster) the grid's current item, scrolled to."""
        row = self.thumb_model.row_of(image) if self.thumb_model is not None else None
        if row is not None:
            self.grid.setCurrentIndex(self.thumb_model.index(row))
            self.grid.scrollTo(self.thumb_model.index(row))

    def select_all_images(self) -> None:
        self.grid.selectAll()

    # ================================================================== after edits
    def _on_refreshed(self, changed, membership: bool) -> None:
        with signals_blocked(self.table.selectionModel()):
            self.cluster_model.refresh(self.review.stats, changed)
        self.tree.after_edit()

    def _on_current_updated(self) -> None:
        r = self.review
        if self.thumb_model is not None and r.current is not None and r.session.has_cluster(r.current):
            reference = reference_class(r.session, r.current)
            if self.disagree_only and reference != self._reference:
                self.show_cluster(r.current, keep_scroll=True)  # a new name changes who disagrees
                return
            self._reference = reference
            self.thumb_model.refresh_flags()
        self._update_center()

    def _on_taxonomy(self) -> None:
        self.cluster_model.taxonomy = self.review.taxonomy
        if self.review.session is not None:
            self.cluster_model.refresh(self.review.stats)
            self.tree.update_now()
            self._update_center()

    # ================================================================== the shown cluster
    def show_cluster(self, cid: Optional[int], keep_scroll: bool = False) -> None:
        if self.thumb_model is None:
            return
        scroll = self.grid.verticalScrollBar().value() if keep_scroll else 0
        st, s = self.review.stats, self.review.session
        pre, self._prefilled = self._prefilled, None
        if pre is not None and not keep_scroll and pre[0] == cid and pre[1] is st.members.get(cid):
            self._update_center()  # the install filled the grid with it already, a turn before the table
            self._update_grid_hint(0)
            return
        if cid is None or cid not in st.members:
            self._reference = None
            self.thumb_model.set_indices([])
            self.center_view.clear()
        else:
            self._reference = reference_class(s, cid)
            members = self.grid_order(cid, st.members[cid])
            self.thumb_model.set_indices(disagreeing(s, cid, members.tolist()) if self.disagree_only else members)
            self.grid.verticalScrollBar().setValue(scroll)
            self._update_center()
        self._update_grid_hint(0)

    def _update_center(self) -> None:
        r, cid = self.review, self.review.current
        if cid is None or r.stats is None or cid not in r.stats.members or self.loader is None:
            return
        images = r.project.images
        mean = r.stats.mean_image(images, cid, limit=MEAN_IMAGE_SAMPLE) if images is not None else None
        if mean is not None and self.auto_contrast:
            mean = stretch_contrast(mean)
        self.center_view.set_images(mean, self.loader.load_now(r.stats.medoids[cid], CENTER_SIZE))
        self.center_view.set_text(center_title(r.session, r.taxonomy, cid),
                                  center_info_html(r.session, r.taxonomy, r.stats, cid))
        self.center_view.set_suggestion(self.center_suggestion(cid))

    def _update_grid_hint(self, n_selected: int) -> None:
        r = self.review
        show = self.thumb_model is not None and r.current is not None
        text = grid_hint(self.thumb_model.rowCount(), n_selected) if show else ""
        if show and self.disagree_only and r.session.has_cluster(r.current):
            shown, size = self.thumb_model.rowCount(), r.session.size(r.current)
            text = f"{shown:,} of {size:,} disagree · " + text.split(" · ", 1)[-1]
        self.grid_hint.setText(text)

    # ================================================================== display aids
    def set_disagree_only(self, on: bool) -> None:
        """Show only the members whose given label differs from the cluster's name or majority."""
        on = bool(on)
        if on == self.disagree_only:
            return
        self.disagree_only = on
        with signals_blocked(self.disagree_box):
            self.disagree_box.setChecked(on)
        self.disagree_only_changed.emit(on)
        if self.review.session is not None:
            self.show_cluster(self.review.current)

    def set_auto_contrast(self, on: bool) -> None:
        """Contrast-stretch thumbnails, centers and the viewer (display only)."""
        self.auto_contrast = bool(on)
        if self.loader is not None:
            self.loader.set_auto_contrast(self.auto_contrast)  # -> _on_thumbnails_reset
        if self.viewer is not None:
            self.viewer.set_auto_contrast(self.auto_contrast)

    def _on_thumbnails_reset(self) -> None:
        if self.thumb_model is not None:
            self.thumb_model.reload_pixmaps()
        if self.review.session is not None:
            self.cluster_model.refresh(self.review.stats)  # table icons are medoid thumbnails
            self._update_center()

    def _cluster_thumb(self, cid: int) -> Optional[QPixmap]:
        st = self.review.stats
        if st is None or self.loader is None or cid not in st.medoids:
            return None
        return self.loader.load_now(st.medoids[cid], 32)

    def set_thumb_size(self, size: int) -> None:
        self.thumb_size = int(size)
        if self.thumb_model is not None:
            self.thumb_model.set_thumb_size(self.thumb_size)
        self.grid.setGridSize(QSize(self.thumb_size + 8, self.thumb_size + 8))

    # ================================================================== viewer
    def eventFilter(self, obj, event) -> bool:
        if obj is self.grid and event.type() in (event.Type.KeyPress, event.Type.ShortcutOverride):
            if event.key() == Qt.Key.Key_Space and not event.modifiers():
                if event.type() == event.Type.KeyPress:
                    self.view_current_image()
                event.accept()
                return True
        return super().eventFilter(obj, event)

    def view_current_image(self) -> None:
        idx = self.grid.currentIndex()
        if not idx.isValid():
            sel = self.grid.selectionModel().selectedIndexes() if self.grid.selectionModel() else []
            if not sel:
                return
            idx = sel[0]
        self.view_image_row(idx.row())

    def view_image_row(self, row: int) -> Optional[ImageViewer]:
        r = self.review
        if self.thumb_model is None or row < 0:
            return None
        if self.viewer is not None:
            self.viewer.close()
        self.viewer = ImageViewer(r.session.paths, self.thumb_model.indices(), row,
                                  lambda i: image_metadata(r.session, r.taxonomy, r.stats, r.project.items, i),
                                  images=r.project.images, auto_contrast=self.auto_contrast, parent=self)
        self.viewer.current_changed.connect(self._viewer_moved)
        self.viewer.show()
        return self.viewer

    def _viewer_moved(self, image_index: int) -> None:
        row = self.thumb_model.row_of(image_index) if self.thumb_model else None
        if row is not None:
            self.grid.setCurrentIndex(self.thumb_model.index(row))

    # ================================================================== dialogs for edits
    def _open(self, dlg: QWidget) -> QWidget:
        self.dialog = dlg
        dlg.open()
        return dlg

    def split_current(self) -> Optional[SplitDialog]:
        r, cid = self.review, self.review.current
        if cid is None or r.session is None:
            return None
        dlg = SplitDialog(cid, r.session.size(cid), parent=self)
        dlg.accepted.connect(lambda: r.split(cid, dlg.parts.value(), dlg.method()))
        return self._open(dlg)

    def move_selected(self) -> Optional[MoveDialog]:
        r, images = self.review, list(self.review.selected_images)
        if not images:
            return None
        dlg = MoveDialog(self.move_targets(), len(images), exclude=r.current, parent=self)
        dlg.chosen_target.connect(lambda target: r.move(images, target))
        return self._open(dlg)

    def move_targets(self) -> list[MoveTarget]:
        """Every cluster with its name, size, medoid thumbnail and class pictogram (for the Move dialog)."""
        r, s = self.review, self.review.session
        out = []
        for c in s.cluster_ids():
            class_id = s.cluster_names.get(c)
            name = r.taxonomy.name_of(class_id) if class_id is not None else ("noise" if c < 0 else "unnamed")
            medoid = self.loader.load_now(r.stats.medoids[c], MOVE_THUMB) if c in r.stats.medoids else None
            picto = class_pixmap(r.taxonomy, class_id, MOVE_THUMB) if class_id is not None else None
            out.append(MoveTarget(c, name, s.size(c), medoid, picto))
        return out

    def name_selected(self, initial_text: str = "") -> Optional[ClassPicker]:
        """The class picker for the selected clusters, on their name, suggestion or given-label majority."""
        r, cids = self.review, list(self.review.selected)
        if not cids or r.session is None:
            return None
        what = f"cluster {cids[0]}" if len(cids) == 1 else f"{len(cids)} clusters"
        current, why = preselected_class(r.session, cids[0], self.suggestions_of())
        prompt = "" if current is None or initial_text else f"Preselected: {r.taxonomy.name_of(current)} ({why})"
        dlg = ClassPicker(r.taxonomy, title=f"Name {what}", current=current, prompt=prompt,
                          initial_text=initial_text, parent=self)
        dlg.picked.connect(lambda class_id: r.name(cids, class_id))
        return self._open(dlg)

    def label_selected_images(self) -> Optional[ClassPicker]:
        r, images = self.review, list(self.review.selected_images)
        if not images:
            return None
        dlg = ClassPicker(r.taxonomy, title=f"Label {len(images)} images", parent=self,
                          prompt="Overrides the cluster's class for these images only.")
        dlg.picked.connect(lambda class_id: r.label_images(images, class_id))
        return self._open(dlg)
