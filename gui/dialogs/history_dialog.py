"""The review's history: every recorded edit (who, when, what; undone ones too) and earlier reviews.

Choosing an edit and "Go to this state" emits :attr:`HistoryDialog.restore_requested` with its
journal row (0: the state the pipeline run produced); choosing an earlier review of the folder
(kept when the pipeline ran again) and "Reopen this review" emits :attr:`reopen_requested`.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QPushButton, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from pipeline.review.session_db import JournalEntry

SEQ_ROLE = Qt.ItemDataRole.UserRole


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


class HistoryDialog(QDialog):
    """Lists ``history`` (``(entry, in the current state)``, oldest first) and ``archived`` review files."""

    restore_requested = Signal(int)
    reopen_requested = Signal(object)  # Path of an earlier review

    def __init__(self, history: Sequence[tuple[JournalEntry, bool]], head: int, archived: Sequence[Path] = (),
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review history")
        self.resize(760, 480)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Every edit of this review, newest first. Grey rows were undone; going to any "
                                "state keeps all of them (it is recorded as one more step)."))
        self.edits = QTreeWidget()
        self.edits.setHeaderLabels(["#", "When", "Who", "Edit"])
        self.edits.setRootIsDecorated(False)
        for entry, current in reversed(list(history)):
            self._add(entry.seq, _when(entry.at), f"{entry.user}@{entry.host}", entry.text, current, entry.seq == head)
        self._add(0, "", "", "The clusters as the pipeline run produced them (before any edit)", True, head == 0)
        for col in range(3):
            self.edits.resizeColumnToContents(col)
        layout.addWidget(self.edits, 3)
        self.go_button = QPushButton("Go to this state")
        self.go_button.clicked.connect(self._go)
        layout.addWidget(self.go_button, 0, Qt.AlignmentFlag.AlignRight)

        self.archived = QTreeWidget()
        self.archived.setHeaderLabels(["Earlier reviews of this folder (kept when the pipeline ran again)"])
        self.archived.setRootIsDecorated(False)
        for path in archived:
            item = QTreeWidgetItem([path.name])
            item.setData(0, SEQ_ROLE, str(path))
            self.archived.addTopLevelItem(item)
        self.reopen_button = QPushButton("Reopen this review")
        self.reopen_button.clicked.connect(self._reopen)
        if archived:
            layout.addWidget(self.archived, 1)
            layout.addWidget(self.reopen_button, 0, Qt.AlignmentFlag.AlignRight)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _add(self, seq: int, when: str, who: str, text: str, current: bool, is_head: bool) -> None:
        item = QTreeWidgetItem([str(seq) if seq else "", when, who, text + ("   ← current state" if is_head else "")])
        item.setData(0, SEQ_ROLE, seq)
        if not current:
            for col in range(4):
                item.setForeground(col, self.palette().placeholderText())
        self.edits.addTopLevelItem(item)
        if is_head:
            self.edits.setCurrentItem(item)

    def _go(self) -> None:
        item = self.edits.currentItem()
        if item is not None:
            self.restore_requested.emit(int(item.data(0, SEQ_ROLE)))
            self.accept()

    def _reopen(self) -> None:
        item = self.archived.currentItem()
        if item is not None:
            self.reopen_requested.emit(Path(item.data(0, SEQ_ROLE)))
            self.accept()


def show_history(parent: QWidget, review, projects) -> Optional[HistoryDialog]:
    """Open the history of ``review``'s session (a ReviewController) over ``parent``; ``None`` if it has none."""
    access = review.access
    if review.session is None or access is None or access.journal is None:
        review.error.emit(review.read_only or "This review has no history (it is a session file opened from "
                          "elsewhere, not a project's review)", "")
        return None
    journal = access.journal
    folder = review.session.folder
    dlg = HistoryDialog(journal.history(), journal.head, projects.store.archived_sessions(folder), parent)
    dlg.restore_requested.connect(review.go_to_state)
    dlg.reopen_requested.connect(lambda path: projects.reopen_archived(folder, path))
    dlg.open()
    return dlg
