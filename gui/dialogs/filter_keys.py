"""Arrow keys typed into a dialog's filter field move through its list, so typing + arrows + Enter works."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView

LIST_KEYS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)


def forward_list_keys(search: QObject, view: QAbstractItemView, obj: QObject, event: QEvent) -> bool:
    """For an ``eventFilter`` on ``search``: pass Up/Down/PageUp/PageDown to ``view``; True when handled."""
    if obj is search and event.type() == QEvent.Type.KeyPress and event.key() in LIST_KEYS:
        view.keyPressEvent(event)
        return True
    return False
