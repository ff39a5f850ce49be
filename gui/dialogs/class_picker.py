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

from pipeline.review import Taxonomy, TaxonomyClass

from gui.dialogs.filter_keys import forward_list_keys
from gui.views.thumbnail_loader import array_to_qimage

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


_drawn_cache: dict[tuple[str, int], Optional[QPixmap]] = {}


def drawn_pictogram(cls: TaxonomyClass, size: int) -> Optional[QPixmap]:
    """The pictogram :mod:`pipeline.io.demo_signs` draws for a GTSRB class (the taxonomy has no icon
    file for it, as for the demo set); ``None`` for classes it cannot draw or other taxonomies."""
    key = (cls.id, size)
    if key not in _drawn_cache:
        pix = None
        try:
            from pipeline.io.demo_signs import class_name, pictogram

            if class_name(cls.id) == cls.name:  # the same GTSRB class, not a custom one sharing its id
                pix = QPixmap.fromImage(array_to_qimage(pictogram(cls.id, size)))
        except (ImportError, ValueError, KeyError):
            pix = None
        _drawn_cache[key] = pix
    return _drawn_cache[key]


def class_icon_of(cls: Optional[TaxonomyClass], size: int = 32) -> Optional[QIcon]:
    """The class's icon file, else its drawn pictogram, as an icon; ``None`` without either."""
    if cls is None:
        return None
    icon = class_icon(cls.icon, size)
    if icon is None:
        pix = drawn_pictogram(cls, size)
        icon = QIcon(pix) if pix is not None else None
    return icon


class ClassPicker(QDialog):
    """Pick one class of ``taxonomy`` (or "no class" when ``allow_none``).

    Open with ``open()`` and read :meth:`chosen` after ``accepted``; ``picked`` carries
    the class id (``None`` for "no class"). ``current`` is preselected (e.g. the
    cluster's name, its suggestion or its given-label majority) while the filter is empty;
    ``initial_text`` starts the search (type-ahead naming).
    """

    picked = Signal(object)

    def __init__(self, taxonomy: Taxonomy, *, title: str = "Name cluster", prompt: str = "",
                 current: Optional[str] = None, allow_none: bool = True, initial_text: str = "",
                 parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.taxonomy = taxonomy
        self.allow_none = allow_none
        self.current = current
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
        if initial_text:
            self.search.setText(initial_text)  # filters through textChanged
        self.search.setFocus()

    def _filter(self, text: str) -> None:
        self.list.clear()
        for cls in self.taxonomy.search(text):
            item = QListWidgetItem(cls.label)
            item.setData(CLASS_ID_ROLE, cls.id)
            icon = class_icon_of(cls)
            if icon is not None:
                item.setIcon(icon)
            self.list.addItem(item)
        if self.allow_none and not text.strip():
            item = QListWidgetItem("(no class — remove the name)")
            item.setData(CLASS_ID_ROLE, NO_CLASS)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
            if not text.strip():  # typed text picks its best match; an empty filter the preselection
                self.select_class(self.current)

    def select_class(self, class_id: Optional[str]) -> bool:
        """Make ``class_id`` the current row if the filter shows it (scrolled into view)."""
        if class_id is None:
            return False
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(CLASS_ID_ROLE) == class_id:
                self.list.setCurrentRow(row)
                self.list.scrollToItem(item, QListWidget.ScrollHint.PositionAtCenter)
                return True
        return False

    def eventFilter(self, obj, event) -> bool:
        return forward_list_keys(self.search, self.list, obj, event) or super().eventFilter(obj, event)

    def setVisible(self, visible: bool) -> None:
        super().setVisible(visible)
        if visible:  # showing focuses the search with its text selected: keep a type-ahead start, append to it
            self.search.deselect()
            self.search.end(False)

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
