"""List model + delegate for the member grid of one cluster.

The model holds only image indices; pixmaps come from a :class:`ThumbnailLoader` on
demand (the view asks only for visible rows, since all items share one size), so a
10,000-image cluster costs an index array and the thumbnails actually seen.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from gui.views.thumbnail_loader import ThumbnailLoader

IMAGE_INDEX_ROLE = Qt.ItemDataRole.UserRole + 1
FLAGS_ROLE = Qt.ItemDataRole.UserRole + 2

# Flags shown as badges on a thumbnail.
REJECTED, CHANGED, REVIEWED = "rejected", "changed", "reviewed"


class ThumbnailModel(QAbstractListModel):
    """Rows are image indices (ordered by the caller, e.g. distance to the center)."""

    def __init__(
        self,
        loader: ThumbnailLoader,
        *,
        flags_of: Optional[Callable[[int], frozenset]] = None,
        tooltip_of: Optional[Callable[[int], str]] = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.loader = loader
        self.flags_of = flags_of
        self.tooltip_of = tooltip_of
        self.thumb_size = 64
        self._indices = np.zeros(0, dtype=np.int64)
        self._row_of: dict[int, int] = {}
        loader.loaded.connect(self._on_loaded)
        self._placeholder: Optional[QPixmap] = None
        self._loaded_rows: list[int] = []
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self._flush_loaded)

    # -- content ---------------------------------------------------------------
    def set_indices(self, indices: Sequence[int]) -> None:
        self.beginResetModel()
        self._loaded_rows = []
        self.loader.discard_pending()
        self._indices = np.asarray(indices, dtype=np.int64)
        self._row_of = {}
        self.endResetModel()

    def indices(self) -> np.ndarray:
        return self._indices

    def image_index(self, row: int) -> int:
        return int(self._indices[row])

    def row_of(self, image_index: int) -> Optional[int]:
        if not self._row_of and len(self._indices):
            self._row_of = {int(v): r for r, v in enumerate(self._indices)}
        return self._row_of.get(int(image_index))

    def set_thumb_size(self, size: int) -> None:
        if size == self.thumb_size:
            return
        self.layoutAboutToBeChanged.emit()
        self.thumb_size = int(size)
        self._placeholder = None
        self.loader.discard_pending()
        self.layoutChanged.emit()

    def refresh_flags(self) -> None:
        if len(self._indices):
            self.dataChanged.emit(self.index(0), self.index(len(self._indices) - 1), [FLAGS_ROLE])

    # -- Qt model API -------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._indices)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        img = int(self._indices[index.row()])
        if role == Qt.ItemDataRole.DecorationRole:
            pix = self.loader.request(img, self.thumb_size)
            return pix if pix is not None else self._placeholder_pixmap()
        if role == IMAGE_INDEX_ROLE:
            return img
        if role == FLAGS_ROLE:
            return self.flags_of(img) if self.flags_of else frozenset()
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip_of(img) if self.tooltip_of else self.loader.paths[img]
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(self.thumb_size + 8, self.thumb_size + 8)
        return None

    def flags(self, index: QModelIndex):
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def _placeholder_pixmap(self) -> QPixmap:
        if self._placeholder is None:
            pix = QPixmap(self.thumb_size, self.thumb_size)
            pix.fill(QColor(60, 63, 68))
            self._placeholder = pix
        return self._placeholder

    def _on_loaded(self, image_index: int, size: int) -> None:
        if size != self.thumb_size:
            return
        row = self.row_of(image_index)
        if row is not None:
            self._loaded_rows.append(row)
            if not self._flush_timer.isActive():
                self._flush_timer.start()

    def _flush_loaded(self) -> None:
        """One dataChanged per batch of arrived thumbnails instead of one per image."""
        rows, self._loaded_rows = self._loaded_rows, []
        if rows and len(self._indices):
            top, bottom = min(rows), min(max(rows), len(self._indices) - 1)
            self.dataChanged.emit(self.index(top), self.index(bottom), [Qt.ItemDataRole.DecorationRole])


class ThumbnailDelegate(QStyledItemDelegate):
    """Draws the thumbnail centered in its cell, a selection frame and status badges."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return index.data(Qt.ItemDataRole.SizeHintRole) or QSize(72, 72)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        rect: QRect = option.rect.adjusted(2, 2, -2, -2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(option.rect, option.palette.highlight())
        pix = index.data(Qt.ItemDataRole.DecorationRole)
        flags = index.data(FLAGS_ROLE) or frozenset()
        if isinstance(pix, QPixmap) and not pix.isNull():
            x = rect.x() + (rect.width() - pix.width()) // 2
            y = rect.y() + (rect.height() - pix.height()) // 2
            if REJECTED in flags:
                painter.setOpacity(0.35)
            painter.drawPixmap(x, y, pix)
            painter.setOpacity(1.0)
        if REJECTED in flags:
            pen = QPen(QColor(220, 50, 47), 3)
            painter.setPen(pen)
            painter.drawLine(rect.topLeft(), rect.bottomRight())
            painter.drawLine(rect.topRight(), rect.bottomLeft())
        badge = 10
        if CHANGED in flags:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(255, 176, 0))
            painter.drawEllipse(rect.right() - badge, rect.top() + 1, badge, badge)
        if REVIEWED in flags:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(38, 166, 91))
            painter.drawEllipse(rect.left() + 1, rect.top() + 1, badge, badge)
        if selected:
            painter.setPen(QPen(option.palette.highlight().color().lighter(130), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(option.rect.adjusted(1, 1, -1, -1))
        painter.restore()
