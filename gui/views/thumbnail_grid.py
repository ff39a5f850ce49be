"""The thumbnail grid every page and dialog shows: a wrapping list view that paints its visible tiles itself."""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QAbstractItemView, QListView

from gui.models.thumbnail_model import ThumbnailDelegate, ThumbnailModel, paint_tile

#: The grid's dark background (a palette colour: a style sheet would route the view's frame and scroll
#: bars through the style-sheet style, a few milliseconds more on every repaint of a full grid).
GRID_BACKGROUND = QColor("#1f2023")


class ThumbnailGrid(QListView):
    """A list view whose paint draws the visible tiles in one Python pass.

    QListView's own paint crosses into Python for the delegate, ``flags`` and ``rowCount`` of every
    visible tile (about 100 µs each: 12 ms for a full screen, the largest part of the repaint that
    follows a new review's install). Here Qt is asked only where each tile is and whether it is
    selected; the tiles are drawn by the same :func:`paint_tile` as the delegate, which stays for
    drag pixmaps and for models other than :class:`ThumbnailModel`.
    """

    def paintEvent(self, event) -> None:
        model = self.model()
        if (not isinstance(model, ThumbnailModel) or not isinstance(self.itemDelegate(), ThumbnailDelegate)
                or self.isSelectionRectVisible() or self.dragDropMode() in (
                    QAbstractItemView.DragDropMode.DropOnly, QAbstractItemView.DragDropMode.DragDrop,
                    QAbstractItemView.DragDropMode.InternalMove)):
            super().paintEvent(event)
            return
        n = model.rowCount()
        if n == 0:
            return
        area = event.rect()
        tile = self.tile_rects(n)
        selection = self.selectionModel()
        index = model.index
        highlight = self.palette().brush(self._color_group(), QPalette.ColorRole.Highlight)
        painter = QPainter(self.viewport())
        try:
            for row in tile.rows_in(area.top(), area.bottom(), n):
                rect = tile.rect(row)
                if rect.intersects(area):
                    selected = selection is not None and selection.isSelected(index(row, 0))
                    paint_tile(painter, rect, selected, highlight, model.paint_data(row))
        finally:
            painter.end()

    def tile_rects(self, n: int) -> "TileLayout":
        """Where Qt puts the tiles now, from a few of its rects (the first two, and a binary search for the
        first tile of the second line; each ``visualRect`` costs ~17 µs). No grid hides rows."""
        index, visual = self.model().index, self.visualRect
        first = visual(index(0, 0))
        if n == 1:
            return TileLayout(first, 1, 0, 0)
        dx = visual(index(1, 0)).x() - first.x()
        lo, hi = 1, n  # the first row that starts a new line
        while lo < hi:
            mid = (lo + hi) // 2
            if visual(index(mid, 0)).y() == first.y():
                lo = mid + 1
            else:
                hi = mid
        cols = lo
        dy = visual(index(cols, 0)).y() - first.y() if cols < n else 0
        return TileLayout(first, cols, dx if cols > 1 else 0, dy)

    def _color_group(self) -> QPalette.ColorGroup:
        if not self.isEnabled():
            return QPalette.ColorGroup.Disabled
        return QPalette.ColorGroup.Active if self.isActiveWindow() else QPalette.ColorGroup.Inactive


class TileLayout:
    """Tiles row by row: ``cols`` per line, ``dx``/``dy`` apart, the first at ``first``."""

    def __init__(self, first: QRect, cols: int, dx: int, dy: int) -> None:
        self.x, self.y, self.w, self.h = first.x(), first.y(), first.width(), first.height()
        self.cols, self.dx, self.dy = max(1, cols), dx, dy

    def rect(self, row: int) -> QRect:
        line, col = divmod(row, self.cols)
        return QRect(self.x + col * self.dx, self.y + line * self.dy, self.w, self.h)

    def rows_in(self, top: int, bottom: int, n: int) -> range:
        """The rows whose line overlaps viewport heights ``top``..``bottom``."""
        if self.dy <= 0:
            return range(0, n)
        first_line = max(0, (top - self.y - self.h + 1) // self.dy)
        last_line = max(-1, (bottom - self.y) // self.dy)
        return range(min(n, first_line * self.cols), min(n, (last_line + 1) * self.cols))


def thumbnail_grid(thumb: int, selection: QAbstractItemView.SelectionMode, *, spacing: int = 3) -> ThumbnailGrid:
    """A static, wrapping icon grid of ``thumb``-pixel cells with the given selection mode (no model yet)."""
    g = ThumbnailGrid()
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
    palette = g.palette()
    palette.setColor(QPalette.ColorRole.Base, GRID_BACKGROUND)
    g.setPalette(palette)
    return g


__all__ = ["GRID_BACKGROUND", "ThumbnailGrid", "TileLayout", "thumbnail_grid"]
