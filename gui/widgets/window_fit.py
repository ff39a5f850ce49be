"""Fitting the window to the screen it opens on: its first size, and the toolbar's style.

The window opens at 1440 x 900 or 90 % of the screen's free area, whichever is smaller.
The toolbar shows text beside its icons only when the window is wide enough for every
button with its text (:func:`wide_toolbar_width`); narrower, icons only (buttons without
an icon show their short text), so nothing drops into the overflow menu at 1024 px.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication, QToolBar, QToolButton

#: Per button: the style's margins around icon and text (Fusion: about 22 px).
BUTTON_PADDING = 22
SEPARATOR = 12
TOOLBAR_MARGINS = 30


def initial_size() -> QSize:
    """1440 x 900, or 90 % of the primary screen's free area when that is smaller."""
    screen = QApplication.primaryScreen()
    if screen is None:
        return QSize(1440, 900)
    free = screen.availableGeometry()
    return QSize(min(1440, int(free.width() * 0.9)), min(900, int(free.height() * 0.9)))


def wide_toolbar_width(toolbar: QToolBar) -> int:
    """The width ``toolbar`` needs with text beside every icon (computed, not laid out)."""
    fm = toolbar.fontMetrics()
    icon = toolbar.iconSize().width()
    total = TOOLBAR_MARGINS
    for action in toolbar.actions():
        if action.isSeparator():
            total += SEPARATOR
            continue
        widget = toolbar.widgetForAction(action)
        if isinstance(widget, QToolButton):
            total += icon + fm.horizontalAdvance(action.iconText()) + BUTTON_PADDING
        elif widget is not None:
            total += max(widget.sizeHint().width(), widget.minimumWidth(), 0)
    return total


def fit_toolbar(toolbar: QToolBar, window_width: int) -> None:
    """Text beside icons when ``window_width`` leaves room for it, else icons only."""
    wide = window_width >= wide_toolbar_width(toolbar)
    style = Qt.ToolButtonStyle.ToolButtonTextBesideIcon if wide else Qt.ToolButtonStyle.ToolButtonIconOnly
    if toolbar.toolButtonStyle() != style:
        toolbar.setToolButtonStyle(style)
