"""Searchable class picker: type to filter, pictograms where the taxonomy has them."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
)

from pipeline.review import Taxonomy

CLASS_ID_ROLE = Qt.ItemDataRole.UserRole + 1
NO_CLASS = "\x00none"

_icon_cache: dict[str, QIcon] = {}


def class_icon(path: Optional[str], size: int = 32) -> Optional[QIcon]:
    """The (cached) pictogram of a class, scaled for lists; ``None`` without one."""
    if not path:
        return None
    key = f"{path}@{size}"
    icon = _icon_cache.get(key)
    if icon is None:
        pix = QPixmap(path)
        if pix.isNull():
            return None
        icon = QIcon(pix.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        _icon_cache[key] = icon
    return icon


class ClassPicker(QDialog):
    """Pick one class of ``taxonomy`` (or "no class" when ``allow_none``).

    Open with ``open()`` and read :meth:`chosen` after ``accepted``; ``picked`` carries
    the class id (``None`` for "no class").
    """

    picked = Signal(object)

    def __init__(self, taxonomy: Taxonomy, *, title: str = "Name cluster", prompt: str = "",
                 current: Optional[str] = None, allow_none: bool = True, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.taxonomy = taxonomy
        self.allow_none = allow_none
        self.resize(420, 560)
        layout = QVBoxLayout(self)
        if prompt:
            layout.addWidget(QLabel(prompt))
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by id or name…")
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        self.list = QListWidget()
        self.list.setIconSize(QSize(32, 32))
        self.list.setUniformItemSizes(True)
        layout.addWidget(self.list, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._accept_if_any)
        self.list.itemDoubleClicked.connect(lambda *_: self.accept())
        self.search.installEventFilter(self)
        self._filter("")
        if current is not None:
            for row in range(self.list.count()):
                if self.list.item(row).data(CLASS_ID_ROLE) == current:
                    self.list.setCurrentRow(row)
                    break
        self.search.setFocus()

    def _filter(self, text: str) -> None:
        self.list.clear()
        for cls in self.taxonomy.search(text):
            item = QListWidgetItem(cls.label)
            item.setData(CLASS_ID_ROLE, cls.id)
            icon = class_icon(cls.icon)
            if icon is not None:
                item.setIcon(icon)
            self.list.addItem(item)
        if self.allow_none and not text.strip():
            item = QListWidgetItem("(no class — remove the name)")
            item.setData(CLASS_ID_ROLE, NO_CLASS)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def eventFilter(self, obj, event) -> bool:
        # Up/Down in the search field move through the list, so typing + arrows + Enter works.
        if obj is self.search and event.type() == event.Type.KeyPress and event.key() in (
            Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown
        ):
            self.list.keyPressEvent(event)
            return True
        return super().eventFilter(obj, event)

    def _accept_if_any(self) -> None:
        if self.list.currentItem() is not None:
            self.accept()

    def chosen(self) -> Optional[str]:
        item = self.list.currentItem()
        if item is None:
            return None
        value = item.data(CLASS_ID_ROLE)
        return None if value == NO_CLASS else value

    def has_choice(self) -> bool:
        return self.list.currentItem() is not None

    def accept(self) -> None:
        if not self.has_choice():
            return
        super().accept()
        self.picked.emit(self.chosen())
