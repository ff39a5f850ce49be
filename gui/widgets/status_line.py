"""The status bar's message line: one eliding label (full text in its tooltip) that clears itself.

``QStatusBar.showMessage`` paints over the bar's other widgets and cuts long texts off
without a trace; this label takes the space left of the permanent widgets, shortens a
long message with "…" and keeps the whole of it in the tooltip.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QSizePolicy
from superqt import QElidingLabel


class StatusLine(QElidingLabel):
    """A message for ``ms`` milliseconds (0: until the next one)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setElideMode(Qt.TextElideMode.ElideRight)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear_message)

    def show_message(self, text: str, ms: int = 5000) -> None:
        self.setText(text)
        self.setToolTip(text)
        self._timer.stop()
        if ms > 0:
            self._timer.start(ms)

    def clear_message(self) -> None:
        self.setText("")
        self.setToolTip("")

    def message(self) -> str:
        """The whole message shown now (not the elided text)."""
        return self.text()
