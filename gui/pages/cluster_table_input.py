"""Quick review on the cluster table: type-ahead naming and thumbnails dropped onto a row.

:class:`ClusterTableInput` filters the table's events. A class number, or a letter that no
window action uses, typed on the table opens the class picker filtered by it (Enter
names the selected clusters). Grid thumbnails dragged onto a row (their MIME payload
is :data:`gui.models.thumbnail_model.IMAGES_MIME`) move there through the controller's
``move`` command: one undo step; a drop on the cluster they come from does nothing.
"""
from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QTableView

from gui.controllers.review import ReviewController
from gui.models.cluster_list_model import CLUSTER_ID_ROLE
from gui.models.thumbnail_model import images_from_mime

_DRAG_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)


def action_letters() -> set[str]:
    """Single keys the window's actions use (they never start type-ahead naming)."""
    from gui.actions import ACTIONS

    return {k.casefold() for spec in ACTIONS for k in spec.keys if len(k) == 1}


class ClusterTableInput(QObject):
    """Installs itself on ``table``; ``open_picker(text)`` opens the filtered class picker (True if it did)."""

    def __init__(self, table: QTableView, review: ReviewController, open_picker: Callable[[str], bool]) -> None:
        super().__init__(table)
        self.table, self.review, self.open_picker = table, review, open_picker
        self.reserved = action_letters()
        self._hover: Optional[int] = None  # the row a drag is over
        self.viewport = table.viewport()  # kept: asking a table being destroyed for it fails
        table.installEventFilter(self)
        table.setAcceptDrops(True)
        self.viewport.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.viewport and event.type() in _DRAG_EVENTS:
            return self._drag_event(event)
        if obj is self.table and event.type() == QEvent.Type.KeyPress:
            mods = event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier)
            if mods == Qt.KeyboardModifier.NoModifier and QKeySequence(event.key()).toString().casefold() \
                    not in self.reserved and self.type_ahead(event.text()):
                return True
        return super().eventFilter(obj, event)

    def type_ahead(self, text: str) -> bool:
        """Open the picker filtered by ``text`` when it is one class-number digit or free letter."""
        if len(text) != 1 or not text.isalnum() or text.casefold() in self.reserved:
            return False
        return self.open_picker(text)

    def target_at(self, pos) -> Optional[int]:
        idx = self.table.indexAt(pos)
        return int(self.table.model().data(idx, CLUSTER_ID_ROLE)) if idx.isValid() else None

    def _drag_event(self, event) -> bool:
        images = images_from_mime(event.mimeData())
        if not images or self.review.session is None:
            event.ignore()
            return True
        if event.type() == QEvent.Type.DragEnter:
            self._hover = None
            event.acceptProposedAction()
            return True
        target = self.target_at(event.position().toPoint())
        if target is None or target == self.review.current:
            event.ignore()
            return True
        if event.type() == QEvent.Type.DragMove:
            event.acceptProposedAction()
            if target != self._hover:  # say where a drop goes (the table shows no drop marker)
                self._hover = target
                n = len(images)
                self.review.message.emit(f"Drop to move {n} image{'s' if n != 1 else ''} to "
                                         f"{self.review.label(target)}", 2000)
            return True
        event.setDropAction(Qt.DropAction.MoveAction)
        event.accept()
        self.review.move(images, target)
        return True
