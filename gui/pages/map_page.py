"""The Map page: every image on a 2-D t-SNE (or PCA) layout of the pipeline's features.

Points are coloured by cluster, final class or given label (a legend lists the largest
groups); the clusters selected in the Clusters tab are ringed white. A click selects an
image's cluster, a double-click shows the image in the Clusters tab, a lasso (or a
Shift+drag rectangle) selects images, which Move… and Label… edit through the
:class:`~gui.controllers.review.ReviewController` (one undo step each, the window's undo
stack). The layout is computed on the job runner's thread the first time the page is
shown and cached in the project folder (:mod:`pipeline.embedding_map`).
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (QApplication, QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QSplitter,
                               QStackedWidget, QVBoxLayout, QWidget)

from pipeline.embedding_map import cached_layout, default_method, effective_method, tsne_available

from gui.controllers.review import ReviewController
from gui.dialogs.class_picker import ClassPicker
from gui.dialogs.review_dialogs import MoveDialog
from gui.jobs.worker import Job
from gui.models.cluster_text import image_tooltip
from gui.views.embedding_map_view import EmbeddingMapView, category_colors
from gui.views.thumbnail_loader import ThumbnailLoader

COLOR_BY = (("cluster", "Cluster"), ("final", "Final class"), ("given", "Given label"), ("suggestion", "Suggestion"))
#: Suggestions less confident than this are drawn as "none".
MIN_SUGGESTION_CONFIDENCE = 0.5
LEGEND_ROWS = 24
HOVER_THUMB = 96
METHOD_NAMES = {"tsne": "t-SNE", "pca": "PCA"}
HINT = ("Drag: lasso  ·  Shift+drag: rectangle  ·  Ctrl: add  ·  Ctrl+A / Esc: all / none  ·  wheel: zoom  ·  "
        "middle-drag: pan  ·  click: its cluster  ·  double-click: show in Clusters")


def categories(review: ReviewController, by: str, suggestions=None) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Per-image colour codes (-1: none) and the legend, ``(code, label)`` with the largest group first.

    Codes are stable across edits, so a point keeps its colour unless its own category
    changes: a cluster's code is its id, a class's code its position in the taxonomy
    (classes outside the taxonomy follow, in id order). ``"suggestion"`` colours by the
    class :mod:`pipeline.suggest` proposes (``suggestions``), when confident enough.
    """
    s, tax = review.session, review.taxonomy
    if by == "cluster":
        keys: list = [int(c) for c in s.assignments.tolist()]
        name = review.label
        code_of = {c: c for c in set(keys) if c >= 0}
    elif by in ("final", "given", "suggestion"):
        if by == "suggestion":
            keys = suggested_classes(suggestions, len(s))
        else:
            keys = s.final_classes() if by == "final" else list(s.given_labels)
        name = tax.name_of
        known = {cid: i for i, cid in enumerate(tax.ids())}
        extra = sorted({k for k in keys if k is not None and k not in known}, key=str)
        code_of = {**known, **{k: len(known) + i for i, k in enumerate(extra)}}
    else:
        raise ValueError(f"unknown colouring {by!r}")
    codes = np.fromiter((code_of.get(k, -1) if k is not None else -1 for k in keys), dtype=np.int64, count=len(keys))
    counts = Counter(k for k in keys if k is not None and k in code_of)
    order = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return codes, [(code_of[k], f"{name(k) or k}  ({n:,})") for k, n in order]


def suggested_classes(suggestions, n: int) -> list[Optional[str]]:
    """Each image's suggested class id, ``None`` where there is none or it is not confident."""
    if suggestions is None or not suggestions.classes:
        return [None] * n
    ok = suggestions.confidence >= MIN_SUGGESTION_CONFIDENCE
    return [suggestions.classes[t] if good else None for t, good in zip(suggestions.top.tolist(), ok.tolist())]


class MapPage(QWidget):
    """The embedding-map tab; see the module docstring."""

    show_image = Signal(int)  # show this image in the Clusters tab
    message = Signal(str, int)

    def __init__(self, review: ReviewController, project_dir_of: Callable[[str], Path],
                 move_targets: Callable[[], list], parent=None) -> None:
        super().__init__(parent)
        self.review = review
        self.project_dir_of = project_dir_of
        self.move_targets = move_targets  # the Move dialog's cluster list (the Clusters page builds it)
        self.layout_xy: Optional[np.ndarray] = None
        self.codes = np.zeros(0, dtype=np.int64)  # each point's colour code (see categories)
        self.method: Optional[str] = None
        self.job: Optional[Job] = None
        self.loader: Optional[ThumbnailLoader] = None
        self.dialog: Optional[QWidget] = None  # the Move/Label dialog open right now (for tests)
        self._highlighted_for: Optional[list[int]] = None
        self._marked_for: list[int] = []  # the grid selection last shown on the map
        #: The shown session's pipeline.suggest Suggestions (None until computed): the window's
        #: SuggestionController keeps them fresh and recolours the map when new ones are ready.
        self.suggestions_from: Callable[[], object] = lambda: None
        self._gave_up = False  # the layout job failed or was cancelled while the tab was shown
        self._build()
        review.installed.connect(lambda: review.later(self._install))
        review.uninstalled.connect(self._teardown)
        review.refreshed.connect(self._on_refreshed)
        review.taxonomy_changed.connect(self.recolor)
        review.state_changed.connect(self._follow_clusters)
        review.runner.job_over.connect(self._retry_when_idle)

    # ================================================================== layout
    def _build(self) -> None:
        self.color_by = QComboBox()
        for key, text in COLOR_BY:
            self.color_by.addItem(text, key)
        self.color_by.currentIndexChanged.connect(self._on_color_by)
        self.info = QLabel()
        self.info.setStyleSheet("color: #888;")
        self.move_button = QPushButton("Move selected…")
        self.move_button.setToolTip("Move the images selected on the map to a cluster (V)")
        self.label_button = QPushButton("Label selected…")
        self.label_button.setToolTip("Give the images selected on the map a class of their own (Shift+L)")
        self.clear_button = QPushButton("Clear selection")
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("Zoom to show every image")
        self.move_button.clicked.connect(self.move_selected)
        self.label_button.clicked.connect(self.label_selected)
        self.clear_button.clicked.connect(self.clear_selection)
        self.fit_button.clicked.connect(lambda: self.view.fit())
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(QLabel("Colour by"))
        bar.addWidget(self.color_by)
        bar.addWidget(self.info, 1)
        for b in (self.move_button, self.label_button, self.clear_button, self.fit_button):
            bar.addWidget(b)

        self.view = EmbeddingMapView()
        self.view.card_of = self._card
        self.view.selection_changed.connect(self._on_map_selection)
        self.view.image_clicked.connect(self._on_click)
        self.view.image_activated.connect(self.show_image)
        self.legend = QListWidget()
        self.legend.setIconSize(QSize(12, 12))
        self.legend.setMinimumWidth(150)
        self.legend.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.legend.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.legend.setToolTip("Click an entry to select its images on the map (Ctrl+click: add them)")
        self.legend.itemClicked.connect(self._legend_clicked)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(self.legend)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        split.setSizes([900, 200])

        self.placeholder = QLabel()
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(split)
        self.hint = QLabel(HINT)
        self.hint.setStyleSheet("color: #777; padding: 2px 8px;")
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.hint)
        for key, fn in (("V", self.move_selected), ("Shift+L", self.label_selected), ("Esc", self.clear_selection)):
            act = QAction(self)
            act.setShortcut(QKeySequence(key))
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(fn)
            self.addAction(act)
        self._show_placeholder("Open a folder to see its images on a map.")
        self._update_buttons()

    def _show_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self.stack.setCurrentWidget(self.placeholder)

    # ================================================================== install / teardown
    def _install(self) -> None:
        self._teardown()
        self._show_placeholder("The map is computed when this tab is first shown.")
        if self.isVisible():
            self.activate()

    def _teardown(self) -> None:
        if self.loader is not None:
            self.loader.shutdown()
            self.loader.deleteLater()
            self.loader = None
        self.layout_xy, self.method, self.job, self._highlighted_for, self._marked_for = None, None, None, None, []
        self.view.set_layout(np.zeros((0, 2)))
        self.legend.clear()
        self.info.setText("")
        self._show_placeholder("Open a folder to see its images on a map.")
        self._update_buttons()

    # ================================================================== computing the layout
    def activate(self) -> Optional[Job]:
        """Compute (or load from the project folder) the layout unless it is shown already."""
        r = self.review
        if r.session is None or r.project is None or self.layout_xy is not None or self.job is not None:
            return None
        if r.runner.busy():
            self._show_placeholder("The map is laid out when the running job is done…")
            return None
        project, features = r.project, r.project.features
        folder = self.project_dir_of(r.session.folder)
        seed = int(r.session.config.get("seed", 0) or 0)
        method = effective_method(default_method(), len(features))
        n_jobs = max(1, (os.cpu_count() or 2) - 1)

        def job(progress, cancel):
            return cached_layout(folder, np.asarray(features), method=method, progress=progress, cancel=cancel,
                                 random_state=seed, n_jobs=n_jobs)

        def done(xy) -> None:
            self.job = None
            if r.project is project:
                self.set_layout(xy, method)

        self._show_placeholder(f"Laying out {len(features):,} images ({METHOD_NAMES[method]})…")
        self.job = r.runner.start(f"Laying out the map ({METHOD_NAMES[method]})", job, done, name="map")
        if self.job is not None:
            self.job.failed.connect(self._job_over)
            self.job.cancelled.connect(self._job_over)
        return self.job

    def _job_over(self, *_) -> None:
        """The layout job failed or was cancelled: wait until the tab is shown again."""
        self.job = None
        self._gave_up = True
        if self.layout_xy is None:
            self._show_placeholder("The map was not computed. Show this tab again to retry.")

    def _retry_when_idle(self) -> None:
        if not self.isVisible() or self.review.runner.busy():
            return
        if self.layout_xy is None and self.job is None and not self._gave_up:
            self.activate()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._gave_up = False
        self.activate()

    def set_layout(self, xy: np.ndarray, method: str = "pca") -> None:
        """Show a computed layout (row ``i`` is image ``i``)."""
        xy = np.asarray(xy, dtype=np.float32)
        if self.review.session is None or len(xy) != len(self.review.session):
            return
        self.layout_xy, self.method = xy, method
        self.view.set_layout(xy)
        self.stack.setCurrentIndex(1)
        note = "" if method != "pca" or tsne_available() else " (pip install openTSNE for a t-SNE map)"
        self.info.setText(f"{METHOD_NAMES.get(method, method)} of {len(xy):,} images{note}")
        self._highlighted_for, self._marked_for = None, []
        self.recolor()

    # ================================================================== colours and highlight
    def color_key(self) -> str:
        return str(self.color_by.currentData())

    def set_color_by(self, key: str) -> None:
        self.color_by.setCurrentIndex(self.color_by.findData(key))

    def recolor(self) -> None:
        if self.layout_xy is None or self.review.session is None:
            return
        codes, legend = categories(self.review, self.color_key(), self.suggestions)
        palette = category_colors(int(codes.max()) + 1 if len(codes) and codes.max() >= 0 else 0)
        self.codes = codes
        self.view.set_colors(codes, palette)
        self.legend.clear()
        for code, label in legend[:LEGEND_ROWS]:
            pix = QPixmap(12, 12)
            pix.fill(palette[code])
            item = QListWidgetItem(QIcon(pix), label)
            item.setData(Qt.ItemDataRole.UserRole, code)
            self.legend.addItem(item)
        if len(legend) > LEGEND_ROWS:
            self.legend.addItem(f"… {len(legend) - LEGEND_ROWS} more")
        if (codes < 0).any():
            pix = QPixmap(12, 12)
            pix.fill(QColor(110, 110, 110))
            item = QListWidgetItem(QIcon(pix), f"none  ({int((codes < 0).sum()):,})")
            item.setData(Qt.ItemDataRole.UserRole, -1)
            self.legend.addItem(item)
        self._highlighted_for = None
        self._follow_clusters()

    def _on_color_by(self, *_) -> None:
        if self.color_key() == "suggestion" and self.suggestions is None:
            self.message.emit("Suggestions come from your decisions: name a cluster or label images first", 6000)
        self.recolor()

    def _legend_clicked(self, item: QListWidgetItem) -> None:
        """Select the images of the clicked legend entry (Ctrl: add them to the selection)."""
        code = item.data(Qt.ItemDataRole.UserRole)
        if code is None or len(self.codes) != self.view.point_count():
            return
        add = bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.ControlModifier)
        self.view.select(np.flatnonzero(self.codes == int(code)), add=add)

    def _on_refreshed(self, *_) -> None:
        self.recolor()

    @property
    def suggestions(self):
        """The suggestions the map colours by (see :attr:`suggestions_from`)."""
        return self.suggestions_from()

    def _follow_clusters(self) -> None:
        """Ring the images of the clusters selected in the Clusters tab, and the images selected in its grid."""
        r = self.review
        if self.layout_xy is None or r.session is None:
            return
        images = list(r.selected_images)
        if images != self._marked_for:  # (unchanged when a click on the map selected a cluster: keep its ring)
            self._marked_for = images
            self.view.set_marked(images)
        cids = list(r.selected)
        if cids == self._highlighted_for:
            return
        self._highlighted_for = cids
        members = [r.session.members(c) for c in cids if r.session.has_cluster(c)]
        self.view.set_highlight(np.concatenate(members) if members else [])

    # ================================================================== selection and edits
    def _on_click(self, image: int) -> None:
        r = self.review
        if r.session is not None:
            r.select([r.session.cluster_of(image)])

    def _on_map_selection(self, images: list) -> None:
        self._update_buttons()
        if images:
            self.message.emit(f"{len(images):,} images selected on the map", 4000)

    def select_all(self) -> None:
        """Ctrl+A on the map: every image."""
        self.view.select(np.arange(self.view.point_count()))

    def clear_selection(self) -> None:
        """Esc on the map."""
        self.view.select([])

    def selected_images(self) -> list[int]:
        return self.view.selected()

    def _update_buttons(self) -> None:
        n = len(self.view.selected())
        for b in (self.move_button, self.label_button, self.clear_button):
            b.setEnabled(n > 0 and self.review.session is not None)

    def move_selected(self) -> Optional[MoveDialog]:
        r, images = self.review, self.selected_images()
        if not images or r.session is None:
            return None
        dlg = MoveDialog(self.move_targets(), len(images), parent=self)
        dlg.chosen_target.connect(lambda target: r.move(images, target))
        return self._open(dlg)

    def label_selected(self) -> Optional[ClassPicker]:
        r, images = self.review, self.selected_images()
        if not images or r.session is None:
            return None
        dlg = ClassPicker(r.taxonomy, title=f"Label {len(images):,} images", parent=self,
                          prompt="Overrides the cluster's class for these images only.")
        dlg.picked.connect(lambda class_id: r.label_images(images, class_id))
        return self._open(dlg)

    def _open(self, dlg: QWidget) -> QWidget:
        self.dialog = dlg
        dlg.open()
        return dlg

    def _card(self, image: int) -> tuple[Optional[QPixmap], str]:
        r = self.review
        if r.session is None:
            return None, ""
        if self.loader is None:  # made on the first hover (its threads cost nothing until the map is used)
            self.loader = ThumbnailLoader(r.session.paths, r.project.images if r.project else None, parent=self)
        pix = self.loader.load_now(image, HOVER_THUMB)
        lines = image_tooltip(r.session, r.taxonomy, image).splitlines()
        text = [Path(r.session.paths[image]).name, r.label(r.session.cluster_of(image)), *lines[1:]]
        return pix, "\n".join(text)
