"""List model + delegate for the member grid of one cluster.

The model holds only image indices; pixmaps come from a :class:`ThumbnailLoader` on
demand (the view asks only for visible rows, since all items share one size), so a
10,000-image cluster costs an index array and the thumbnails actually seen.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
import json

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from gui.views.thumbnail_loader import ThumbnailLoader

IMAGE_INDEX_ROLE = Qt.ItemDataRole.UserRole + 1
FLAGS_ROLE = Qt.ItemDataRole.UserRole + 2
BADGE_ROLE = Qt.ItemDataRole.UserRole + 3  # (given label text, disagrees with the cluster) or None
SUGGEST_ROLE = Qt.ItemDataRole.UserRole + 4  # short text of a suggestion that differs from the cluster's name, or None
#: Everything the delegate draws, in one call: (pixmap, flags, badge, suggestion). A grid of several
#: hundred tiles crosses from C++ into Python once per tile instead of once per role.
PAINT_ROLE = Qt.ItemDataRole.UserRole + 5
_DECORATION, _PAINT, _IMAGE = int(Qt.ItemDataRole.DecorationRole), int(PAINT_ROLE), int(IMAGE_INDEX_ROLE)
_FLAGS, _BADGE, _SUGGEST = int(FLAGS_ROLE), int(BADGE_ROLE), int(SUGGEST_ROLE)
_TOOLTIP, _SIZE_HINT = int(Qt.ItemDataRole.ToolTipRole), int(Qt.ItemDataRole.SizeHintRole)
_ITEM_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
#: Drag payload of grid thumbnails: a JSON list of image indices.
IMAGES_MIME = "application/x-cluster-review-images"

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
        badge_of: Optional[Callable[[int], Optional[tuple[str, bool]]]] = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.loader = loader
        self.flags_of = flags_of
        self.tooltip_of = tooltip_of
        self.badge_of = badge_of
        #: ``suggest_of(image)``: short text of its suggestion where it differs from the cluster's name, else None
        self.suggest_of: Optional[Callable[[int], Optional[str]]] = None
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
            self.dataChanged.emit(self.index(0), self.index(len(self._indices) - 1), [FLAGS_ROLE, BADGE_ROLE, SUGGEST_ROLE])

    # -- Qt model API -------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._indices)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = index.row()
        if row < 0 or row >= len(self._indices):
            return None
        img = int(self._indices[row])
        role = int(role)
        if role == _PAINT:
            return self.paint_data(row)
        if role == _DECORATION:
            pix = self.loader.request(img, self.thumb_size)
            return pix if pix is not None else self._placeholder_pixmap()
        if role == _IMAGE:
            return img
        if role == _FLAGS:
            return self.flags_of(img) if self.flags_of else frozenset()
        if role == _BADGE:
            return self.badge_of(img) if self.badge_of else None
        if role == _SUGGEST:
            return self.suggest_of(img) if self.suggest_of else None
        if role == _TOOLTIP:
            return self.tooltip_of(img) if self.tooltip_of else self.loader.paths[img]
        if role == _SIZE_HINT:
            return QSize(self.thumb_size + 8, self.thumb_size + 8)
        return None

    def paint_data(self, row: int) -> tuple:
        """What a tile shows (:data:`PAINT_ROLE`): (pixmap or placeholder, flags, badge, suggestion)."""
        img = int(self._indices[row])
        pix = self.loader.request(img, self.thumb_size)
        return (pix if pix is not None else self._placeholder_pixmap(),
                self.flags_of(img) if self.flags_of else frozenset(),
                self.badge_of(img) if self.badge_of else None,
                self.suggest_of(img) if self.suggest_of else None)

    def flags(self, index: QModelIndex):
        return _ITEM_FLAGS

    # -- dragging thumbnails (onto a cluster row: see the Clusters page) ------------
    def mimeTypes(self) -> list[str]:
        return [IMAGES_MIME]

    def mimeData(self, indexes) -> QMimeData:
        data = QMimeData()
        images = sorted({self.image_index(i.row()) for i in indexes if i.isValid()})
        data.setData(IMAGES_MIME, json.dumps(images).encode("ascii"))
        return data

    def supportedDragActions(self):
        return Qt.DropAction.MoveAction

    def reload_pixmaps(self) -> None:
        """Ask the view to fetch every thumbnail again (after the loader's cache was reset)."""
        self._placeholder = None
        if len(self._indices):
            self.dataChanged.emit(self.index(0), self.index(len(self._indices) - 1), [Qt.ItemDataRole.DecorationRole])

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


def images_from_mime(data: QMimeData) -> list[int]:
    """The image indices a grid drag carries (``[]`` for anything else)."""
    if data is None or not data.hasFormat(IMAGES_MIME):
        return []
    try:
        values = json.loads(bytes(data.data(IMAGES_MIME)).decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return []
    return [int(v) for v in values if isinstance(v, int)]


REJECT_RED = QColor(220, 50, 47)
BADGE_BG, BADGE_ODD = QColor(20, 22, 26, 200), QColor(230, 120, 0, 230)
BADGE_SUGGEST = QColor(70, 110, 230, 235)
_CHANGED_DOT, _REVIEWED_DOT = QColor(255, 176, 0), QColor(38, 166, 91)


_BADGES: dict[tuple, QPixmap] = {}


def badge_pixmap(text: str, background: QColor, pixel_size: int, max_width: int, dpr: float) -> QPixmap:
    """A label badge (white bold text on ``background``, elided to ``max_width``), drawn once per look.

    A grid of several hundred thumbnails repaints its badges on every scroll; drawing them from
    this cache instead of laying out the text each time keeps a repaint to a few milliseconds.
    """
    key = (text, background.rgba(), pixel_size, max_width, dpr)
    pix = _BADGES.get(key)
    if pix is not None:
        return pix
    font = QFont()
    font.setPixelSize(pixel_size)
    font.setBold(True)
    metrics = QFontMetrics(font)
    width, height = max(1, min(metrics.horizontalAdvance(text) + 6, max_width)), metrics.height()
    pix = QPixmap(max(1, round(width * dpr)), max(1, round(height * dpr)))
    pix.setDevicePixelRatio(dpr)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.fillRect(QRect(0, 0, width, height), background)
    p.setFont(font)
    p.setPen(QColor("white"))
    p.drawText(QRect(0, 0, width, height), Qt.AlignmentFlag.AlignCenter,
               metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(1, width - 2)))
    p.end()
    if len(_BADGES) > 4096:
        _BADGES.clear()
    _BADGES[key] = pix
    return pix


class ThumbnailDelegate(QStyledItemDelegate):
    """Draws the thumbnail centered in its cell, a selection frame and status badges.

    A rejected image keeps its pixels visible: a red frame, a small cross in the
    top-right corner and a red tint over the bottom fifth only. The given label (when
    the folder has labels) is a small text badge at the bottom left, orange where it
    differs from the cluster's name or majority. A suggestion that differs from the
    cluster's name is a blue "→ class" badge at the bottom right.
    """

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return index.data(Qt.ItemDataRole.SizeHintRole) or QSize(72, 72)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        paint_tile(painter, option.rect, bool(option.state & QStyle.StateFlag.State_Selected),
                   option.palette.highlight(), index.data(PAINT_ROLE) or (None, frozenset(), None, None))
        painter.restore()


def paint_tile(painter: QPainter, cell: QRect, selected: bool, highlight: QBrush, data: tuple) -> None:
    """Draw one tile in ``cell``: ``data`` as :meth:`ThumbnailModel.paint_data` gives it.

    Sets the pen and brush it draws with and leaves them set (the grid paints tiles in one pass;
    the delegate saves and restores the painter around it).
    """
    pix, flags, label, suggestion = data
    rect = cell.adjusted(2, 2, -2, -2)
    if selected:
        painter.fillRect(cell, highlight)
    image_rect = rect
    if isinstance(pix, QPixmap):
        w, h = pix.width(), pix.height()
        x, y = rect.x() + (rect.width() - w) // 2, rect.y() + (rect.height() - h) // 2
        painter.drawPixmap(x, y, pix)
        image_rect = QRect(x, y, w, h)
    if flags:
        if REJECTED in flags:
            _paint_rejected(painter, image_rect)
        badge = 10
        if CHANGED in flags:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(_CHANGED_DOT)
            painter.drawEllipse(rect.right() - badge - (16 if REJECTED in flags else 0), rect.top() + 1, badge, badge)
        if REVIEWED in flags:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(_REVIEWED_DOT)
            painter.drawEllipse(rect.left() + 1, rect.top() + 1, badge, badge)
    if label or suggestion:
        dpr, size = painter.device().devicePixelRatioF(), max(8, min(11, rect.height() // 6))
        if label:
            badge_pix = badge_pixmap(label[0], BADGE_ODD if label[1] else BADGE_BG, size, rect.width() - 2, dpr)
            painter.drawPixmap(rect.left() + 1, rect.bottom() - round(badge_pix.height() / dpr), badge_pix)
        if suggestion:
            badge_pix = badge_pixmap(f"→{suggestion}", BADGE_SUGGEST, size, rect.width() // 2 + 6, dpr)
            painter.drawPixmap(rect.right() - round(badge_pix.width() / dpr),
                               rect.bottom() - round(badge_pix.height() / dpr), badge_pix)
    if selected:
        painter.setPen(QPen(highlight.color().lighter(130), 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(cell.adjusted(1, 1, -1, -1))


def _paint_rejected(painter: QPainter, r: QRect) -> None:
    band = max(3, r.height() // 5)
    painter.fillRect(QRect(r.left(), r.bottom() - band + 1, r.width(), band), QColor(220, 50, 47, 110))
    painter.setPen(QPen(REJECT_RED, 2))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(r.adjusted(1, 1, -1, -1))
    side = max(9, min(16, r.width() // 4))
    corner = QRect(r.right() - side, r.top(), side + 1, side + 1)
    painter.fillRect(corner, REJECT_RED)
    painter.setPen(QPen(QColor("white"), 2))
    inner = corner.adjusted(3, 3, -3, -3)
    painter.drawLine(inner.topLeft(), inner.bottomRight())
    painter.drawLine(inner.topRight(), inner.bottomLeft())
