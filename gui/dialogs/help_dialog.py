"""Keyboard and mouse reference, generated from the window's actions."""
from __future__ import annotations

from typing import Iterable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout

MOUSE_HELP = [
    ("Click / Ctrl+click / Shift+click", "Select clusters or images; add to or extend the selection"),
    ("Rubber band in the grid", "Select a block of images"),
    ("Double-click an image", "Show it full size with its path and metadata"),
    ("Click a dendrogram branch", "Select every cluster under it"),
    ("Drag the dendrogram cut line", "Preview a coarser clustering; 'Apply cut' merges under the line"),
    ("Drop a folder or session file", "Open it"),
]

SUSPECTS_HELP = [  # keys of the Suspects tab (gui/views/suspects_view.py)
    ("A (Suspects tab)", "Accept the suggested class for the selected suspects"),
    ("K (Suspects tab)", "Keep the given label"),
    ("C (Suspects tab)", "Choose another class from the taxonomy"),
    ("R, Delete (Suspects tab)", "Reject the images (not a sign)"),
]


class HelpDialog(QDialog):
    """Table of every action with its shortcut(s), plus mouse gestures."""

    def __init__(self, actions: Iterable[QAction], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(860, 680)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Every review action has a shortcut; edits can be undone and redone."))
        rows = []
        for act in actions:
            keys = ", ".join(s.toString() for s in act.shortcuts() if not s.isEmpty())
            if keys:
                rows.append((keys, act.text().replace("&", "").rstrip(".…"), act.statusTip()))
        rows += [(k, v, "") for k, v in SUSPECTS_HELP + MOUSE_HELP]
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Keys", "Action", "What it does"])
        for r, (keys, text, tip) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(keys))
            self.table.setItem(r, 1, QTableWidgetItem(text))
            self.table.setItem(r, 2, QTableWidgetItem(tip if tip != text else ""))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)

    def shortcut_texts(self) -> list[str]:
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())]
