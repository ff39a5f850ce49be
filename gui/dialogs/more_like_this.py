"""More like this: the images nearest one image across all clusters, to gather a class the
clustering split.

The dialog lists :func:`pipeline.similar.nearest_images` of the query image (cosine
similarity of the pipeline's features) in a thumbnail grid, hiding the images already in
the query's cluster by default. The reviewer selects some and moves them into the query's
cluster (or another one) or labels them; every edit goes through the
:class:`~gui.controllers.review.ReviewController` (one undo step on the window's stack),
and the list is recomputed after each edit.
"""
from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QDialog, QHBoxLayout, QLabel, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from pipeline.similar import nearest_images

from gui.controllers.review import ReviewController
from gui.dialogs.class_picker import ClassPicker
from gui.dialogs.review_dialogs import MoveDialog
from gui.models.cluster_text import image_flags, image_tooltip, label_badge
from gui.models.thumbnail_model import ThumbnailModel
from gui.views.thumbnail_grid import thumbnail_grid
from gui.views.thumbnail_loader import ThumbnailLoader

DEFAULT_COUNT = 60
THUMB = 72
QUERY_THUMB = 96


class MoreLikeThisDialog(QDialog):
    """Nearest neighbours of image ``image``; see the module docstring."""

    def __init__(self, review: ReviewController, image: int, move_targets: Callable[[], list],
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.review = review
        self.image = int(image)
        self.move_targets = move_targets
        self.dialog: Optional[QWidget] = None  # the Move/Label dialog open right now (for tests)
        s = review.session
        self.setWindowTitle(f"More like image {self.image}")
        self.resize(720, 560)
        self.loader = ThumbnailLoader(s.paths, review.project.images, parent=self)

        self.query = QLabel()
        self.query.setFixedSize(QUERY_THUMB + 8, QUERY_THUMB + 8)
        self.query.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.query.setPixmap(self.loader.load_now(self.image, QUERY_THUMB))
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.count = QSpinBox()
        self.count.setRange(6, 1000)
        self.count.setSingleStep(12)
        self.count.setValue(DEFAULT_COUNT)
        self.count.setPrefix("Show ")
        self.count.setSuffix(" images")
        self.hide_own = QCheckBox("Hide images already in its cluster")
        self.hide_own.setChecked(True)
        head = QHBoxLayout()
        head.addWidget(self.query)
        info = QVBoxLayout()
        info.addWidget(self.title)
        opts = QHBoxLayout()
        opts.addWidget(self.count)
        opts.addWidget(self.hide_own)
        opts.addStretch(1)
        info.addLayout(opts)
        head.addLayout(info, 1)

        self.model = ThumbnailModel(self.loader, flags_of=lambda i: image_flags(review.session, i),
                                    tooltip_of=lambda i: image_tooltip(review.session, review.taxonomy, i),
                                    badge_of=lambda i: label_badge(review.session, i, self.reference()), parent=self)
        self.model.thumb_size = THUMB
        g = self.grid = thumbnail_grid(THUMB, QAbstractItemView.SelectionMode.ExtendedSelection)
        g.setModel(self.model)
        g.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.status = QLabel()
        self.status.setStyleSheet("color: #888;")
        self.select_all = QPushButton("Select all")
        self.move_here = QPushButton()
        self.move_here.setDefault(True)
        self.move_other = QPushButton("Move to…")
        self.label_button = QPushButton("Label…")
        close = QPushButton("Close")
        self.select_all.clicked.connect(g.selectAll)
        self.move_here.clicked.connect(self.move_to_query_cluster)
        self.move_other.clicked.connect(self.move_to_other)
        self.label_button.clicked.connect(self.label_selected)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for b in (self.select_all, self.move_here, self.move_other, self.label_button, close):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(g, 1)
        layout.addLayout(buttons)
        self.count.valueChanged.connect(lambda *_: self.refresh())
        self.hide_own.toggled.connect(lambda *_: self.refresh())
        review.flushed.connect(self.refresh)
        review.uninstalled.connect(self.reject)
        self.finished.connect(self._detach)
        self.refresh()
        g.setFocus()  # arrows, Ctrl+A and Enter (Move to its cluster) work at once

    # ================================================================== content
    def reference(self):
        """The query image's class (or given label): thumbnail badges flag neighbours labelled otherwise."""
        s = self.review.session
        return (s.class_of_image(self.image) or s.given_labels[self.image]) if s is not None else None

    def target(self) -> int:
        """The query image's cluster (where "Move here" moves to)."""
        return self.review.session.cluster_of(self.image)

    def neighbours(self) -> list[int]:
        return [int(i) for i in self.model.indices()]

    def refresh(self) -> None:
        """Recompute the neighbours (after an edit the moved images leave the list)."""
        r = self.review
        if r.session is None or r.project is None:
            return
        cid = self.target()
        exclude = r.session.members(cid) if self.hide_own.isChecked() else None
        self.model.set_indices(nearest_images(r.project.features, self.image, self.count.value(), exclude=exclude))
        label = r.label(cid)
        self.title.setText(f"<b>Images most like image {self.image}</b> (in {label}), nearest first, "
                           f"from every cluster. Select some and move them into {label}.")
        self.move_here.setText(f"Move to {label}")
        self._update_buttons()

    def selected(self) -> list[int]:
        sm = self.grid.selectionModel()
        return sorted(self.model.image_index(i.row()) for i in sm.selectedIndexes()) if sm is not None else []

    def select_rows(self, rows) -> None:
        """Select these rows of the result grid (what a click / Ctrl+click does)."""
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        sel = QItemSelection()
        for row in rows:
            idx = self.model.index(int(row))
            sel.select(idx, idx)
        self.grid.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _update_buttons(self) -> None:
        n = len(self.selected())
        for b in (self.move_here, self.move_other, self.label_button):
            b.setEnabled(n > 0)
        self.status.setText(f"{self.model.rowCount()} images, {n} selected" if n else f"{self.model.rowCount()} images")

    # ================================================================== edits
    def move_to_query_cluster(self) -> bool:
        images = self.selected()
        return bool(images) and self.review.move(images, self.target())

    def move_to_other(self) -> Optional[MoveDialog]:
        images = self.selected()
        if not images:
            return None
        dlg = MoveDialog(self.move_targets(), len(images), parent=self)
        dlg.chosen_target.connect(lambda target: self.review.move(images, target))
        return self._open(dlg)

    def label_selected(self) -> Optional[ClassPicker]:
        images = self.selected()
        if not images:
            return None
        dlg = ClassPicker(self.review.taxonomy, title=f"Label {len(images)} images", parent=self,
                          prompt="Overrides the cluster's class for these images only.")
        dlg.picked.connect(lambda class_id: self.review.label_images(images, class_id))
        return self._open(dlg)

    def _open(self, dlg: QWidget) -> QWidget:
        self.dialog = dlg
        dlg.open()
        return dlg

    def _detach(self, *_) -> None:
        for signal, slot in ((self.review.flushed, self.refresh), (self.review.uninstalled, self.reject)):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self.loader.shutdown()
