"""The "Suspects" view: review probably-mislabeled images worst first, one key per decision.

Left, a table of the suspects (rank, thumbnail, given and suggested class, score,
confidence, decision) with a filter; right, the selected image large beside the
given and the suggested pictograms. Keys (on the table): **A** accept the suggestion,
**K** keep the given label, **C** choose another class, **R** / **Delete** reject the
image. Each action, on one image or a multi-selection, is one :class:`EditCommand` on
the shared undo stack (so autosave and CSV export see it), then the selection moves to
the next undecided suspect. Thumbnails come from the working-size images through a
:class:`ThumbnailLoader` (files, if needed for the large picture, are read on its
worker threads).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np
from PySide6.QtCore import QEvent, QItemSelection, QItemSelectionModel, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap, QUndoStack
from superqt.utils import signals_blocked
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pipeline.review import ReviewError, ReviewSession, Taxonomy, TaxonomyClass

from gui.dialogs.class_picker import ClassPicker
from gui.models.suspects_model import (
    COL_CONFIDENCE,
    COL_DECISION,
    COL_GIVEN,
    COL_IMAGE,
    COL_RANK,
    COL_SCORE,
    COL_SUGGESTED,
    DECISION_COLORS,
    FILTERS,
    UNDECIDED,
    SuspectsModel,
    class_text,
    decision_builders,
)
from gui.views.suspect_detail import DETAIL_SIZE, SuspectDetail
from gui.views.thumbnail_loader import ThumbnailLoader, array_to_qimage
from gui.undo import EditCommand

if TYPE_CHECKING:  # pipeline.mislabels imports scikit-learn; only the type is needed here
    from pipeline.mislabels import SuspectReport

THUMB_SIZE = 48
ACTION_KEYS = {
    Qt.Key.Key_A: "accept",
    Qt.Key.Key_K: "keep",
    Qt.Key.Key_C: "choose",
    Qt.Key.Key_R: "reject",
    Qt.Key.Key_Delete: "reject",
}
HINT = "A accept suggestion · K keep label · C choose class… · R / Del reject · Ctrl+Z undo"


class SuspectsView(QWidget):
    """Review widget over ``report`` (scored on the images ``indices`` of ``session``).

    Edits go on ``undo_stack`` as :class:`EditCommand`; the view follows the session
    (undo, redo, edits made elsewhere) through a session listener, removed by
    :meth:`detach`. ``images`` are the working-size pictures (for thumbnails without disk
    access); pass the window's ``loader`` to share its cache, else the view makes one.
    """

    message = Signal(str)  # a short status line after each action (or why nothing happened)

    def __init__(
        self,
        session: ReviewSession,
        report: "SuspectReport",
        taxonomy: Optional[Taxonomy],
        undo_stack: QUndoStack,
        *,
        images: Optional[np.ndarray] = None,
        indices: Optional[Sequence[int]] = None,
        loader: Optional[ThumbnailLoader] = None,
        min_score: float = 0.5,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.report = report
        self.taxonomy = taxonomy
        self.undo_stack = undo_stack
        self.images = images
        self._own_loader = loader is None
        self.loader = loader if loader is not None else ThumbnailLoader(session.paths, images, threads=1, parent=self)
        self.model = SuspectsModel(session, report, taxonomy, self.loader, indices=indices, min_score=min_score,
                                   thumb_size=THUMB_SIZE, parent=self)
        self.picker: Optional[ClassPicker] = None
        self._current_entry: Optional[int] = None
        self._build_ui()
        self.loader.loaded.connect(self._on_loaded)
        self.loader.reset.connect(self._on_thumbnails_reset)
        self._listening = True
        session.add_listener(self._on_session_edit)
        self._update_counts()
        self.select_first_undecided()

    # ================================================================== layout
    def _build_ui(self) -> None:
        top = QHBoxLayout()
        title = QLabel("Suspects")
        f = title.font()
        f.setPointSizeF(f.pointSizeF() + 3)
        f.setBold(True)
        title.setFont(f)
        top.addWidget(title)
        top.addSpacing(12)
        top.addWidget(QLabel("Show"))
        self.filter_box = QComboBox()
        for key, text in FILTERS.items():
            self.filter_box.addItem(text, key)
        self.filter_box.currentIndexChanged.connect(lambda _: self.set_filter(self.filter_box.currentData()))
        top.addWidget(self.filter_box)
        top.addStretch(1)
        self.counts = QLabel()
        self.counts.setTextFormat(Qt.TextFormat.RichText)
        top.addWidget(self.counts)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(THUMB_SIZE + 10)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setStyleSheet("QTableView { selection-background-color: #ffe9a8; selection-color: black; }"
                                 "QTableView::item { padding: 0 6px; }")
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in ((COL_RANK, 40), (COL_IMAGE, THUMB_SIZE + 14), (COL_GIVEN, 150), (COL_SUGGESTED, 150),
                           (COL_SCORE, 52), (COL_CONFIDENCE, 52), (COL_DECISION, 112)):
            self.table.setColumnWidth(col, width)
        header.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.installEventFilter(self)
        self.filter_box.installEventFilter(self)  # the action keys work there too, not the window's shortcuts
        self.table.doubleClicked.connect(lambda *_: self.choose_class())

        # Detail pane: the image large, given -> suggested, facts, the four actions.
        self.detail = SuspectDetail()
        d = self.detail
        self.picture, self.given_card, self.suggested_card = d.picture, d.given_card, d.suggested_card
        self.decision_label, self.facts = d.decision_label, d.facts
        self.btn_accept, self.btn_keep, self.btn_choose, self.btn_reject = d.btn_accept, d.btn_keep, d.btn_choose, d.btn_reject
        self.btn_accept.clicked.connect(lambda: self.accept_suggestion())
        self.btn_keep.clicked.connect(lambda: self.keep_label())
        self.btn_choose.clicked.connect(lambda: self.choose_class())
        self.btn_reject.clicked.connect(lambda: self.reject_images())
        detail = d

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        split.setSizes([720, 520])
        self.splitter = split

        self.hint = QLabel(HINT)
        self.hint.setStyleSheet("color: #505050; padding: 4px 2px;")
        self.status = QLabel()
        self.status.setStyleSheet("color: #1b5e20; padding: 4px 2px;")
        self._status_timer = QTimer(self)
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(6000)
        self._status_timer.timeout.connect(self.status.clear)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint)
        bottom.addStretch(1)
        bottom.addWidget(self.status)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)

    # ================================================================== selection
    def selected_entries(self) -> list[int]:
        """Report entries of the selected rows, in row (rank) order."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.entry(r) for r in rows]

    def selected_images(self) -> list[int]:
        return [int(self.model.indices[e]) for e in self.selected_entries()]

    def select_entry(self, entry: Optional[int]) -> bool:
        """Select (only) the row of report entry ``entry``; False when it is not shown."""
        row = None if entry is None else self.model.row_of_entry(entry)
        if row is None:
            return False
        idx = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(idx)
        return True

    def select_rows(self, rows: Sequence[int]) -> None:
        """Select several rows (for multi-selection from code and tests)."""
        sel = QItemSelection()
        for r in rows:
            sel.select(self.model.index(r, 0), self.model.index(r, self.model.columnCount() - 1))
        sm = self.table.selectionModel()
        sm.select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if rows:
            sm.setCurrentIndex(self.model.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)

    def select_first_undecided(self) -> bool:
        for e in self.model.entries().tolist():
            if self.model.decision(e) == UNDECIDED:
                return self.select_entry(e)
        if self.model.rowCount():
            return self.select_entry(self.model.entry(0))
        self._show_detail(None)
        return False

    def next_undecided(self, after: int) -> Optional[int]:
        """The first shown undecided suspect ranked below entry ``after`` (wrapping around)."""
        suspects = self.model.suspects.tolist()
        start = suspects.index(after) + 1 if after in suspects else 0
        for e in suspects[start:] + suspects[:start]:
            if e != after and self.model.decision(e) == UNDECIDED and self.model.row_of_entry(e) is not None:
                return e
        return None

    def set_filter(self, name: str) -> None:
        keep = self._current_entry
        self.model.set_filter(name)
        if self.filter_box.currentData() != name:
            with signals_blocked(self.filter_box):
                self.filter_box.setCurrentIndex(list(FILTERS).index(name))
        if not self.select_entry(keep):
            self.select_first_undecided()

    def _on_selection(self, *_) -> None:
        entries = self.selected_entries()
        self._show_detail(entries[0] if entries else None, len(entries))

    # ================================================================== detail pane
    def _show_detail(self, entry: Optional[int], n_selected: int = 1) -> None:
        self._current_entry = entry
        if entry is not None:
            self._show_picture(int(self.model.indices[entry]))
        self.detail.show_entry(self.model, self.report, self.session, self.taxonomy, entry, n_selected)

    def _show_picture(self, image: int) -> None:
        pix = self.loader.request(image, DETAIL_SIZE)
        if pix is None and self.images is not None:
            # The working-size picture at once (no disk access); the sharp one follows from the loader.
            pix = QPixmap.fromImage(array_to_qimage(np.asarray(self.images[image])).scaled(
                DETAIL_SIZE, DETAIL_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        if pix is None:
            self.picture.clear()
        else:
            self.picture.setPixmap(pix)

    def _on_loaded(self, image: int, size: int) -> None:
        if size == DETAIL_SIZE and self._current_entry is not None and image == int(self.model.indices[self._current_entry]):
            pix = self.loader.cached(image, size)
            if pix is not None:
                self.picture.setPixmap(pix)

    def set_auto_contrast(self, on: bool) -> None:
        """Contrast-stretch the thumbnails and the large picture (display only)."""
        self.loader.set_auto_contrast(on)

    def _on_thumbnails_reset(self) -> None:
        rows = self.model.rowCount()
        if rows:
            self.model.dataChanged.emit(self.model.index(0, COL_IMAGE), self.model.index(rows - 1, COL_IMAGE))
        if self._current_entry is not None:
            self._show_picture(int(self.model.indices[self._current_entry]))

    def _update_counts(self) -> None:
        c = self.model.counts()
        total = len(self.model.suspects)
        done = total - c[UNDECIDED]
        parts = [f"<b>{done}</b> of {total} decided"]
        for key, label in (("accepted", "accepted"), ("kept", "kept"), ("relabeled", "other class"),
                           ("rejected", "rejected")):
            if c[key]:
                parts.append(f"<span style='color:{DECISION_COLORS[key][1]}'>{c[key]} {label}</span>")
        self.counts.setText(" · ".join(parts))

    # ================================================================== actions
    def accept_suggestion(self, entries: Optional[Sequence[int]] = None) -> bool:
        """Give the suspects their suggested class (A)."""
        entries = self._entries(entries)
        targets = [self.model.suggested_ids[e] for e in entries]
        return self._decide(entries, targets, f"Accept suggestion for {_images(len(entries))}")

    def keep_label(self, entries: Optional[Sequence[int]] = None) -> bool:
        """Confirm the given labels (K)."""
        entries = self._entries(entries)
        targets = [self.model.given_ids[e] for e in entries]
        return self._decide(entries, targets, f"Keep the label of {_images(len(entries))}")

    def reject_images(self, entries: Optional[Sequence[int]] = None) -> bool:
        """Reject the suspects as not valid samples (R, Delete)."""
        entries = self._entries(entries)
        return self._decide(entries, None, f"Reject {_images(len(entries))} (suspects)")

    def relabel(self, class_id: str, entries: Optional[Sequence[int]] = None) -> bool:
        """Give the suspects ``class_id`` (what C's picker does on OK)."""
        entries = self._entries(entries)
        return self._decide(entries, [class_id] * len(entries),
                            f"Label {_images(len(entries))} as {class_id} (suspects)")

    def choose_class(self, entries: Optional[Sequence[int]] = None) -> Optional[ClassPicker]:
        """Open the class picker for the selected suspects (C); the choice is applied on OK."""
        entries = self._entries(entries)
        if not entries:
            return None
        first = entries[0]
        current = self.model.suggested_ids[first]
        dlg = ClassPicker(self._picker_taxonomy(), title=f"Choose the class of {_images(len(entries))}",
                          prompt=f"Given: {class_text(self.taxonomy, self.model.given_ids[first])}",
                          current=current, allow_none=False, parent=self)
        dlg.picked.connect(lambda cid, es=list(entries): self.relabel(cid, es) if cid is not None else None)
        dlg.finished.connect(lambda *_: self.table.setFocus())
        self.picker = dlg
        dlg.open()
        return dlg

    def _picker_taxonomy(self) -> Taxonomy:
        """The taxonomy plus any report class it lacks (labels from folders need not match it)."""
        base = list(self.taxonomy) if self.taxonomy is not None else []
        known = {c.id for c in base}
        extra = [TaxonomyClass(c, c) for c in self.report.classes if c not in known]
        return Taxonomy(base + extra) if extra or self.taxonomy is None else self.taxonomy

    def _entries(self, entries: Optional[Sequence[int]]) -> list[int]:
        return [int(e) for e in entries] if entries is not None else self.selected_entries()

    def _decide(self, entries: list[int], targets: Optional[list[str]], text: str) -> bool:
        if not entries:
            self._say("Select a suspect first")
            return False
        images = [int(self.model.indices[e]) for e in entries]
        last = max(entries, key=lambda e: self.model.rank_of[e])
        try:
            edit = self.session.batch(decision_builders(self.session, images, targets), text)
        except ReviewError as exc:
            self._say(str(exc))
            return False
        if edit.is_empty:
            self._say("Nothing to change")
            return False
        self.undo_stack.push(EditCommand(self.session, edit))  # redo applies it; the listener refreshes
        nxt = self.next_undecided(last)
        if nxt is not None:
            self.select_entry(nxt)
        elif not self.select_entry(last):
            self.select_first_undecided()
        self._say(text + ("" if nxt is not None else " — no undecided suspect left"))
        return True

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self._status_timer.start()
        self.message.emit(text)

    # ================================================================== session and keys
    def _on_session_edit(self, _edit) -> None:
        keep = self._current_entry
        selected = self.selected_entries()
        self.model.refresh()
        if selected and not self.table.selectionModel().hasSelection():
            # The Undecided filter dropped or restored rows: keep what is still there selected.
            rows = [r for r in (self.model.row_of_entry(e) for e in selected) if r is not None]
            if rows:
                self.select_rows(rows)
            elif not self.select_entry(keep):
                self.select_first_undecided()
        else:
            self._on_selection()
        self._update_counts()

    def set_taxonomy(self, taxonomy: Optional[Taxonomy]) -> None:
        keep = self.selected_entries()
        self.taxonomy = taxonomy
        self.model.set_taxonomy(taxonomy)
        rows = [r for r in (self.model.row_of_entry(e) for e in keep) if r is not None]
        self.select_rows(rows) if rows else self.select_first_undecided()

    def eventFilter(self, obj, event) -> bool:
        if obj in (self.table, self.filter_box) and event.type() in (QEvent.Type.ShortcutOverride,
                                                                     QEvent.Type.KeyPress):
            action = ACTION_KEYS.get(event.key())
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if action is not None and mods == Qt.KeyboardModifier.NoModifier:
                if event.type() == QEvent.Type.ShortcutOverride:
                    event.accept()  # these keys are ours while the table has focus, not the window's shortcuts
                    return True
                if event.isAutoRepeat():
                    return True  # a held key must not decide a whole run of suspects
                {"accept": self.accept_suggestion, "keep": self.keep_label, "choose": self.choose_class,
                 "reject": self.reject_images}[action]()
                return True
        return super().eventFilter(obj, event)

    def detach(self) -> None:
        """Stop following the session (call before dropping the view)."""
        if self._listening:
            self.session.remove_listener(self._on_session_edit)
            self._listening = False
        if self._own_loader:
            self.loader.shutdown()


def _images(n: int) -> str:
    return f"{n} image{'s' if n != 1 else ''}"
