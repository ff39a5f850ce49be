"""First page: open a folder or session, recent folders, drag-and-drop hint."""
from __future__ import annotations

from typing import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget


class WelcomePage(QWidget):
    """First page: open a folder or session, recent folders, drag-and-drop hint."""

    def __init__(self, actions: Sequence[QAction], open_folder: Callable[[str], None]) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QWidget()
        box.setMaximumWidth(560)
        lay = QVBoxLayout(box)
        title = QLabel("Cluster Review")
        title.setStyleSheet("font-size: 24pt; font-weight: 600;")
        sub = QLabel("Open a folder of images to cluster it, or drop a folder or a saved session here.")
        sub.setWordWrap(True)
        sub.setStyleSheet("color: #666;")
        lay.addWidget(title)
        lay.addWidget(sub)
        buttons = QHBoxLayout()
        for action in actions:
            b = QPushButton(action.text().replace("&", "").rstrip("."))
            b.setMinimumHeight(34)
            b.clicked.connect(action.trigger)
            buttons.addWidget(b)
        lay.addLayout(buttons)
        lay.addSpacing(12)
        lay.addWidget(QLabel("<b>Recent folders</b>"))
        self.recent = QListWidget()
        self.recent.setMaximumHeight(220)
        self.recent.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keep the folder's own name visible
        self.recent.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # elide, do not scroll
        self.recent.itemActivated.connect(
            lambda item: open_folder(item.text()) if item.flags() & Qt.ItemFlag.ItemIsEnabled else None)
        lay.addWidget(self.recent)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def set_recent(self, folders: Sequence[str]) -> None:
        self.recent.clear()
        for folder in folders:
            self.recent.addItem(folder)
            self.recent.item(self.recent.count() - 1).setToolTip(folder)
        if not folders:
            placeholder = "No recent folders yet"
            self.recent.addItem(placeholder)
            self.recent.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
