"""The Clusters page: cluster table over dendrogram / k-score tabs, the shown cluster's center
above a lazy thumbnail grid of its members, and the dialogs that ask an edit's parameters.

The page is a view over a :class:`~gui.controllers.review.ReviewController`: it reports
the reviewer's selections to it and follows its ``selection_changed`` /
``current_changed`` / ``refreshed`` signals (table updates happen with the selection
model's signals blocked, so they do not echo back).
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QSize, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QListView, QSplitter, QTableView, QTabWidget,
                               QVBoxLayout, QWidget)
from superqt.utils import signals_blocked

from gui.controllers.review import ReviewController
from gui.dialogs.class_picker import ClassPicker
from gui.dialogs.review_dialogs import MoveDialog, SplitDialog
from gui.models.cluster_list_model import CLUSTER_ID_ROLE, COL_NAME, COL_SIZE, ClusterListModel, ClusterSortProxy
from gui.models.cluster_text import (center_info_html, center_title_html, grid_hint, image_flags, image_metadata,
                                     image_tooltip)
from gui.models.thumbnail_model import ThumbnailDelegate, ThumbnailModel
from gui.views.dendrogram_view import DendrogramView, KScorePlot
from gui.views.image_viewer import ImageViewer
from gui.views.thumbnail_loader import ThumbnailLoader
from gui.widgets.center_view import CENTER_SIZE, CenterView

DEFAULT_THUMB = 64


class ClustersPage(QSplitter):
    """Left: clusters and the tree; right: the shown cluster. See the module docstring."""

    def __init__(self, review: ReviewController, parent=None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.review = review
        self.loader: Optional[ThumbnailLoader] = None
        self.thumb_model: Optional[ThumbnailModel] = None
        self.viewer: Optional[ImageViewer] = None
        self.dialog: Optional[QWidget] = None  # the review dialog open right now (for tests)
        self.thumb_size = DEFAULT_THUMB
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
        self.proxy = ClusterSortProxy(self)
        self.proxy.setSourceModel(self.cluster_model)
        t = self.table = QTableView()
        t.setModel(self.proxy)
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
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
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
        g = self.grid = QListView()
        g.setViewMode(QListView.ViewMode.IconMode)
        g.setMovement(QListView.Movement.Static)
        g.setResizeMode(QListView.ResizeMode.Adjust)
        g.setUniformItemSizes(True)
        g.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        g.setSpacing(3)
        g.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        g.verticalScrollBar().setSingleStep(24)
        g.setItemDelegate(ThumbnailDelegate(g))
        g.setStyleSheet("QListView { background: #1f2023; }")
        g.doubleClicked.connect(lambda idx: self.view_image_row(idx.row()))
        g.installEventFilter(self)  # Space opens the viewer (the view would toggle selection)
        self.grid_hint = QLabel()
        self.grid_hint.setStyleSheet("color: #777; padding: 2px 8px;")
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.setSpacing(0)
        rl.addWidget(self.center_view)
        rl.addWidget(self.grid, 1)
        rl.addWidget(self.grid_hint)

        self.addWidget(self.left)
        self.addWidget(right)
        self.setStretchFactor(0, 0)
        self.setStretchFactor(1, 1)
        self.setSizes([470, 970])

    # ================================================================== install / teardown
    def _install(self) -> None:
        r = self.review
        self._teardown()
        self.loader = ThumbnailLoader(r.session.paths, r.project.images, parent=self)
        self.thumb_model = ThumbnailModel(self.loader, flags_of=lambda i: image_flags(r.session, i),
                                          tooltip_of=lambda i: image_tooltip(r.session, r.taxonomy, i), parent=self)
        self.thumb_model.thumb_size = self.thumb_size
        self.grid.setModel(self.thumb_model)
        self.grid.setGridSize(QSize(self.thumb_size + 8, self.thumb_size + 8))
        self.grid.selectionModel().selectionChanged.connect(self._on_grid_selection)
        self.cluster_model.taxonomy = r.taxonomy
        self.cluster_model.set_session(r.session, r.stats)
        self.table.sortByColumn(COL_SIZE, Qt.SortOrder.DescendingOrder)
        self._update_dendrogram()
        self.kscores.set_selection(r.project.k_selection)
        self.tabs.setTabEnabled(1, self.kscores.has_scores())
        if self.proxy.rowCount():
            self.table.selectRow(0)
        self.table.setFocus()

    def _teardown(self) -> None:
        if self.loader is not None:
            self.loader.shutdown()
            self.loader.deleteLater()
            self.loader = None
        if self.viewer is not None:
            self.viewer.close()
            self.viewer = None

    # ================================================================== selection
    def display_order(self) -> list[int]:
        """Cluster ids as the table shows them (its current sort)."""
        return [int(self.proxy.data(self.proxy.index(r, 0), CLUSTER_ID_ROLE)) for r in range(self.proxy.rowCount())]

    def table_selection(self) -> list[int]:
        return [int(self.proxy.data(r, CLUSTER_ID_ROLE)) for r in self.table.selectionModel().selectedRows()]

    def _on_table_selection(self, *_) -> None:
        cur = self.table.currentIndex()
        current = None
        if cur.isValid() and self.table.selectionModel().isRowSelected(cur.row(), cur.parent()):
            current = int(self.proxy.data(cur, CLUSTER_ID_ROLE))
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
            idx = self.proxy.mapFromSource(self.cluster_model.index(row, 0))
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

    def select_all_images(self) -> None:
        self.grid.selectAll()

    # ================================================================== after edits
    def _on_refreshed(self, changed, membership: bool) -> None:
        with signals_blocked(self.table.selectionModel()):
            self.cluster_model.refresh(self.review.stats, changed)
        self._update_dendrogram()

    def _on_current_updated(self) -> None:
        if self.thumb_model is not None:
            self.thumb_model.refresh_flags()
        self._update_center()

    def _on_taxonomy(self) -> None:
        self.cluster_model.taxonomy = self.review.taxonomy
        if self.review.session is not None:
            self.cluster_model.refresh(self.review.stats)
            self._update_dendrogram()
            self._update_center()

    def _update_dendrogram(self) -> None:
        st = self.review.stats
        if st is None:
            return
        self.dendrogram.set_data(st.linkage, st.ids, [self.review.label(c) for c in st.ids])
        self.dendrogram.set_selected(self.review.selected)

    # ================================================================== the shown cluster
    def show_cluster(self, cid: Optional[int], keep_scroll: bool = False) -> None:
        if self.thumb_model is None:
            return
        scroll = self.grid.verticalScrollBar().value() if keep_scroll else 0
        st = self.review.stats
        if cid is None or cid not in st.members:
            self.thumb_model.set_indices([])
            self.center_view.clear()
        else:
            self.thumb_model.set_indices(st.members[cid])
            self.grid.verticalScrollBar().setValue(scroll)
            self._update_center()
        self._update_grid_hint(0)

    def _update_center(self) -> None:
        r, cid = self.review, self.review.current
        if cid is None or r.stats is None or cid not in r.stats.members or self.loader is None:
            return
        mean = r.stats.mean_image(r.project.images, cid) if r.project.images is not None else None
        self.center_view.set_images(mean, self.loader.load_now(r.stats.medoids[cid], CENTER_SIZE))
        self.center_view.set_text(center_title_html(r.session, r.taxonomy, cid),
                                  center_info_html(r.session, r.taxonomy, r.stats, cid))

    def _update_grid_hint(self, n_selected: int) -> None:
        show = self.thumb_model is not None and self.review.current is not None
        self.grid_hint.setText(grid_hint(self.thumb_model.rowCount(), n_selected) if show else "")

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
                                  images=r.project.images, parent=self)
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
        clusters = [(c, f"{r.label(c)}  ({r.session.size(c):,})") for c in r.session.cluster_ids()]
        dlg = MoveDialog(clusters, len(images), exclude=r.current, parent=self)
        dlg.chosen_target.connect(lambda target: r.move(images, target))
        return self._open(dlg)

    def name_selected(self) -> Optional[ClassPicker]:
        r, cids = self.review, list(self.review.selected)
        if not cids or r.session is None:
            return None
        what = f"cluster {cids[0]}" if len(cids) == 1 else f"{len(cids)} clusters"
        dlg = ClassPicker(r.taxonomy, title=f"Name {what}", current=r.session.cluster_names.get(cids[0]), parent=self)
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
