"""The status bar's message line: one eliding label (full text in its tooltip) that clears itself.

``QStatusBar.showMessage`` paints over the bar's other widgets and cuts long texts off
without a trace; this label takes the space left of the permanent widgets, shortens a
long message with "…" and keeps the whole of it in the tooltip.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import QSizePolicy
from superqt import QElidingLabel


class ElidedLabel(QElidingLabel):
    """An eliding label that asks for room for its whole text (and at least one line's height).

    (``QElidingLabel`` hints the size of the text it shows, which is the elided text: once
    short, it never asks for more room again.)
    """

    def setText(self, txt: str) -> None:
        super().setText(txt)
        self.updateGeometry()  # the hint follows the whole text, even when the shown text did not change

    def sizeHint(self) -> QSize:
        m = self.contentsMargins()
        fm = self.fontMetrics()
        extra = m.left() + m.right() + 2 * self.margin() + 4
        return QSize(fm.horizontalAdvance(self.text()) + extra, fm.height() + m.top() + m.bottom() + 2 * self.margin())

    def minimumSizeHint(self) -> QSize:
        m = self.contentsMargins()
        fm = self.fontMetrics()
        return QSize(fm.horizontalAdvance("…") + m.left() + m.right() + 2 * self.margin(),
                     fm.height() + m.top() + m.bottom() + 2 * self.margin())


class StatusLine(ElidedLabel):
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
