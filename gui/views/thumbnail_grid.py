"""The thumbnail grid every page and dialog shows: a wrapping list view painted by the thumbnail delegate."""
from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QAbstractItemView, QListView

from gui.models.thumbnail_model import ThumbnailDelegate

GRID_BACKGROUND = "QListView { background: #1f2023; }"


def thumbnail_grid(thumb: int, selection: QAbstractItemView.SelectionMode, *, spacing: int = 3) -> QListView:
    """A static, wrapping icon grid of ``thumb``-pixel cells with the given selection mode (no model yet)."""
    g = QListView()
    # List mode wrapping left to right on a fixed grid: the same cells as icon mode, whose layout asks the
    # (Python) model for every cell's index (~50 ms at the first paint of a 2,000-image cluster).
    g.setViewMode(QListView.ViewMode.ListMode)
    g.setFlow(QListView.Flow.LeftToRight)
    g.setWrapping(True)
    g.setMovement(QListView.Movement.Static)
    g.setResizeMode(QListView.ResizeMode.Adjust)
    g.setUniformItemSizes(True)
    g.setSelectionMode(selection)
    g.setSpacing(spacing)
    g.setGridSize(QSize(thumb + 8, thumb + 8))
    g.setItemDelegate(ThumbnailDelegate(g))
    g.setStyleSheet(GRID_BACKGROUND)
    return g


__all__ = ["GRID_BACKGROUND", "thumbnail_grid"]
