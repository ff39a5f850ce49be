"""A pyqtgraph scatter of the 2-D image layout: colours per category, hover card, click, lasso.

Left-drag draws a freehand lasso, Shift+left-drag a rectangle; Ctrl adds to the selection.
The wheel zooms, middle-drag pans, right-drag zooms by axis. A click selects the image
under the cursor (:attr:`image_clicked`), a double-click activates it
(:attr:`image_activated`). Highlighted points (a cluster chosen elsewhere) get a white
ring, selected ones a yellow ring; the base scatter is never rebuilt for either.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QGraphicsPathItem, QLabel, QVBoxLayout, QWidget
from superqt.utils import qthrottled

BACKGROUND = "#1f2023"
POINT_SIZE = 5
#: A click or hover picks the nearest point within this many pixels.
PICK_RADIUS_PX = 8


def points_in_polygon(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``xy`` inside ``polygon`` (even-odd rule; vertices as rows)."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    inside = np.zeros(len(xy), dtype=bool)
    if len(poly) < 3 or not len(xy):
        return inside
    (x0, y0), (x1, y1) = poly.min(0), poly.max(0)
    near = np.flatnonzero((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
    x, y = xy[near, 0], xy[near, 1]
    hit = np.zeros(len(near), dtype=bool)
    for (xa, ya), (xb, yb) in zip(poly, np.roll(poly, -1, axis=0)):
        if ya == yb:
            continue
        crosses = (ya > y) != (yb > y)
        x_at = xa + (y - ya) * (xb - xa) / (yb - ya)
        hit ^= crosses & (x < x_at)
    inside[near] = hit
    return inside


def category_colors(n: int) -> list[QColor]:
    """``n`` distinguishable colours on a dark background: 20 of Trubetskoy's distinct colours, then golden-ratio hues."""
    base = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6", "#bcf60c",
            "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#b03030", "#aaffc3", "#808000", "#ffd8b1",
            "#7b83ff", "#00c2a0"]
    out = [QColor(c) for c in base[:n]]
    h = 0.13
    while len(out) < n:
        h = (h + 0.618033988749895) % 1.0
        out.append(QColor.fromHsvF(h, 0.55 + 0.35 * ((len(out) // 7) % 2), 0.95))
    return out


class _MapViewBox(pg.ViewBox):
    """Left button drags and clicks go to the map view; other buttons keep pyqtgraph's pan/zoom."""

    def __init__(self, owner: "EmbeddingMapView") -> None:
        super().__init__(enableMenu=False)
        self._owner = owner

    def mouseDragEvent(self, ev, axis=None) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        pos = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            self._owner._drag_started(self.mapSceneToView(ev.buttonDownScenePos()), ev.modifiers())
        self._owner._drag_moved(pos)
        if ev.isFinish():
            self._owner._drag_finished()

    def mouseClickEvent(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            super().mouseClickEvent(ev)
        else:
            ev.accept()  # handled from the scene's sigMouseClicked (a point under the cursor takes the event)


class EmbeddingMapView(pg.PlotWidget):
    """The map widget; see the module docstring. Image indices are rows of the layout."""

    selection_changed = Signal(list)  # selected image indices (sorted)
    image_clicked = Signal(int)
    image_activated = Signal(int)  # double-click
    hovered = Signal(int)  # image under the cursor, -1 for none

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        self.box = _MapViewBox(self)
        super().__init__(parent, viewBox=self.box, background=BACKGROUND)
        self.setObjectName("embeddingMap")
        for axis in ("left", "bottom"):
            self.getPlotItem().hideAxis(axis)
        self.getPlotItem().setContentsMargins(2, 2, 2, 2)
        self.getPlotItem().hideButtons()  # the "A" (auto-range) button: the page has Fit
        self.setMouseTracking(True)
        self.xy = np.zeros((0, 2), dtype=np.float32)
        self._selected = np.zeros(0, dtype=np.int64)
        self._highlight = np.zeros(0, dtype=np.int64)
        self._current: Optional[int] = None
        self._rgba: Optional[np.ndarray] = None  # each point's colour as shown
        self._marked = np.zeros(0, dtype=np.int64)
        self._brushes: dict[int, QBrush] = {}
        self.scatter = pg.ScatterPlotItem(size=POINT_SIZE, pen=None, pxMode=True, hoverable=False)
        self.highlight_item = pg.ScatterPlotItem(size=POINT_SIZE + 4, pen=pg.mkPen("#ffffff", width=1.2), brush=None)
        self.selection_item = pg.ScatterPlotItem(size=POINT_SIZE + 5, pen=pg.mkPen("#ffd400", width=2), brush=None)
        self.current_item = pg.ScatterPlotItem(size=16, pen=pg.mkPen("#ff4081", width=2.5), brush=None)
        for item in (self.scatter, self.highlight_item, self.selection_item, self.current_item):
            self.addItem(item)
        self.lasso_item = QGraphicsPathItem()
        pen = QPen(QColor("#ffd400"), 1.5, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.lasso_item.setPen(pen)
        self.lasso_item.setBrush(QBrush(QColor(255, 212, 0, 40)))
        self.box.addItem(self.lasso_item, ignoreBounds=True)
        self._drag_points: list[tuple[float, float]] = []
        self._drag_rect = False
        self._drag_add = False
        #: Called for the hover card: image index -> (pixmap or None, text).
        self.card_of: Optional[Callable[[int], tuple[Optional[QPixmap], str]]] = None
        self.card = QFrame(self)
        self.card.setObjectName("mapHoverCard")
        self.card.setStyleSheet("QFrame#mapHoverCard { background: #2b2d31; border: 1px solid #555; }"
                                " QLabel { color: #eee; }")
        self.card.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        card_layout = QVBoxLayout(self.card)
        card_layout.setContentsMargins(5, 5, 5, 5)
        card_layout.setSpacing(3)
        self.card_image = QLabel()
        self.card_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.card_text = QLabel()
        card_layout.addWidget(self.card_image)
        card_layout.addWidget(self.card_text)
        self.card.hide()
        self._hover_index = -1
        self._hover_scene: Optional[QPointF] = None
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.scene().sigMouseClicked.connect(self._scene_clicked)
        self._update_hover = qthrottled(self._hover_now, timeout=30, parent=self)

    # ================================================================== content
    def set_layout(self, xy: np.ndarray, brushes: Optional[Sequence[QBrush]] = None) -> None:
        """Show these points (row ``i`` is image ``i``); clears highlight and selection."""
        self.xy = np.asarray(xy, dtype=np.float32).reshape(-1, 2)
        self._selected = np.zeros(0, dtype=np.int64)
        self._highlight = np.zeros(0, dtype=np.int64)
        self._current = None
        self._marked = np.zeros(0, dtype=np.int64)
        self._rgba = None
        self.scatter.setData(pos=self.xy, brush=list(brushes) if brushes is not None else pg.mkBrush("#8fa3bf"),
                             size=POINT_SIZE, pen=None)
        for item in (self.highlight_item, self.selection_item, self.current_item):
            item.setData([], [])
        self.fit()

    def set_colors(self, codes: np.ndarray, palette: Sequence[QColor], none_color: QColor = QColor(110, 110, 110)) -> None:
        """Colour point ``i`` with ``palette[codes[i]]`` (a negative code: ``none_color``).

        When only some points change colour (an edit moved a few images) only those are
        restyled: pyqtgraph looks every restyled point up in its symbol atlas, which costs
        a few hundred milliseconds for 40,000 points.
        """
        codes = np.asarray(codes, dtype=np.int64)
        if len(codes) != len(self.xy):
            raise ValueError(f"{len(codes)} colours for {len(self.xy)} points")
        brushes = [self._brush(c) for c in palette] + [self._brush(none_color)]
        colors = [b.color().rgba() for b in brushes]
        rgba = np.asarray(colors, dtype=np.int64)[codes] if len(codes) else np.zeros(0, dtype=np.int64)
        data = self.scatter.data
        if self._rgba is not None and len(self._rgba) == len(rgba) and len(data) == len(rgba):
            changed = np.flatnonzero(self._rgba != rgba)
            if len(changed) <= len(rgba) // 4:
                by_rgba = dict(zip(colors, brushes))
                for i in changed.tolist():
                    data["brush"][i] = by_rgba[int(rgba[i])]
                data["sourceRect"][changed] = 0
                self.scatter.updateSpots(data)
                self._rgba = rgba
                return
        self.scatter.setBrush([brushes[c] for c in codes.tolist()])  # -1 picks none_color
        self._rgba = rgba

    def _brush(self, color: QColor) -> QBrush:
        """One QBrush per colour (pyqtgraph's symbol atlas is keyed by the brush object)."""
        key = color.rgba()
        brush = self._brushes.get(key)
        if brush is None:
            brush = self._brushes[key] = QBrush(color)
        return brush

    def point_count(self) -> int:
        return len(self.xy)

    def fit(self) -> None:
        """Zoom to show every point."""
        if len(self.xy):
            self.box.autoRange(padding=0.04)

    # ================================================================== highlight / selection
    def set_highlight(self, indices: Sequence[int]) -> None:
        self._highlight = np.unique(np.asarray(indices, dtype=np.int64))
        self.highlight_item.setData(pos=self.xy[self._highlight]) if len(self._highlight) else self.highlight_item.setData([], [])

    def highlighted(self) -> list[int]:
        return self._highlight.tolist()

    def set_current(self, index: Optional[int]) -> None:
        """The clicked image (ringed pink; More like this starts from it)."""
        self._current = None if index is None or not 0 <= int(index) < len(self.xy) else int(index)
        self.set_marked([] if self._current is None else [self._current])

    def set_marked(self, indices: Sequence[int]) -> None:
        """Ring these images pink: the clicked one, or the images selected in the Clusters grid."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        self._marked = np.unique(idx[(idx >= 0) & (idx < len(self.xy))])
        if len(self._marked):
            self.current_item.setData(pos=self.xy[self._marked])
        else:
            self.current_item.setData([], [])

    def marked(self) -> list[int]:
        return self._marked.tolist()

    def current(self) -> Optional[int]:
        return self._current

    def select(self, indices: Sequence[int], add: bool = False) -> None:
        """Select these images (or add them to the selection); emits :attr:`selection_changed`."""
        new = np.asarray(indices, dtype=np.int64).reshape(-1)
        new = new[(new >= 0) & (new < len(self.xy))]
        self._selected = np.union1d(self._selected, new) if add else np.unique(new)
        if len(self._selected):
            self.selection_item.setData(pos=self.xy[self._selected])
        else:
            self.selection_item.setData([], [])
        self.selection_changed.emit(self._selected.tolist())

    def selected(self) -> list[int]:
        return self._selected.tolist()

    def select_polygon(self, polygon: Sequence[Sequence[float]], add: bool = False) -> list[int]:
        """Select the points inside ``polygon`` (data coordinates); returns the new selection."""
        self.select(np.flatnonzero(points_in_polygon(self.xy, np.asarray(polygon))), add=add)
        return self.selected()

    def select_rect(self, x0: float, y0: float, x1: float, y1: float, add: bool = False) -> list[int]:
        (xa, xb), (ya, yb) = sorted((x0, x1)), sorted((y0, y1))
        x, y = self.xy[:, 0], self.xy[:, 1]
        self.select(np.flatnonzero((x >= xa) & (x <= xb) & (y >= ya) & (y <= yb)), add=add)
        return self.selected()

    # ================================================================== coordinates and picking
    def data_to_widget(self, x: float, y: float) -> QPoint:
        """Where the data point (x, y) is on this widget (for tests and the hover card)."""
        scene = self.box.mapViewToScene(QPointF(float(x), float(y)))
        return self.mapFromScene(scene)

    def point_at(self, scene_pos: QPointF, radius_px: float = PICK_RADIUS_PX) -> Optional[int]:
        """The image nearest ``scene_pos`` within ``radius_px`` pixels, or ``None``."""
        if not len(self.xy):
            return None
        p = self.box.mapSceneToView(scene_pos)
        px, py = self.box.viewPixelSize()
        if px <= 0 or py <= 0:
            return None
        d = ((self.xy[:, 0] - p.x()) / px) ** 2 + ((self.xy[:, 1] - p.y()) / py) ** 2
        i = int(np.argmin(d))
        return i if d[i] <= radius_px ** 2 else None

    # ================================================================== mouse
    def _scene_clicked(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and self.box.sceneBoundingRect().contains(ev.scenePos()):
            self._clicked(ev.scenePos(), ev.modifiers(), ev.double())

    def _clicked(self, scene_pos: QPointF, modifiers, double: bool) -> None:
        i = self.point_at(scene_pos)
        if i is None:
            if not double and not modifiers & Qt.KeyboardModifier.ControlModifier:
                self.select([])
            return
        self.set_current(i)
        if double:
            self.image_activated.emit(i)
        else:
            self.image_clicked.emit(i)

    def _drag_started(self, start: QPointF, modifiers) -> None:
        self._drag_rect = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        self._drag_add = bool(modifiers & Qt.KeyboardModifier.ControlModifier)
        self._drag_points = [(start.x(), start.y())]

    def _drag_moved(self, pos: QPointF) -> None:
        if not self._drag_points:
            return
        if self._drag_rect:
            self._drag_points = [self._drag_points[0], (pos.x(), pos.y())]
        else:
            self._drag_points.append((pos.x(), pos.y()))
        self.lasso_item.setPath(self._drag_path())

    def _drag_finished(self) -> None:
        pts, self._drag_points = self._drag_points, []
        self.lasso_item.setPath(QPainterPath())
        if self._drag_rect and len(pts) == 2:
            (x0, y0), (x1, y1) = pts
            self.select_rect(x0, y0, x1, y1, add=self._drag_add)
        elif len(pts) >= 3:
            self.select_polygon(pts, add=self._drag_add)

    def _drag_path(self) -> QPainterPath:
        path = QPainterPath()
        pts = self._drag_points
        if self._drag_rect and len(pts) == 2:
            (x0, y0), (x1, y1) = pts
            pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        if pts:
            path.moveTo(*pts[0])
            for p in pts[1:]:
                path.lineTo(*p)
            path.closeSubpath()
        return path

    # ================================================================== hover card
    def _mouse_moved(self, scene_pos: QPointF) -> None:
        self._hover_scene = QPointF(scene_pos)
        self._update_hover()

    def _hover_now(self) -> None:
        scene_pos = self._hover_scene
        i = self.point_at(scene_pos) if scene_pos is not None and not self._drag_points else None
        index = -1 if i is None else i
        if index != self._hover_index:
            self._hover_index = index
            self.hovered.emit(index)
        if index < 0 or self.card_of is None:
            self.card.hide()
            return
        pix, text = self.card_of(index)
        self._show_card(pix, text, self.mapFromScene(scene_pos))

    def _show_card(self, pix: Optional[QPixmap], text: str, at: QPoint) -> None:
        if pix is not None and not pix.isNull():
            self.card_image.setPixmap(pix)
            self.card_image.show()
        else:
            self.card_image.hide()
        self.card_text.setText(text)
        self.card.adjustSize()
        x = at.x() + 14 if at.x() + 14 + self.card.width() < self.width() else at.x() - 14 - self.card.width()
        y = min(max(0, at.y() + 14), max(0, self.height() - self.card.height()))
        self.card.move(max(0, x), y)
        self.card.show()
        self.card.raise_()

    def hover_index(self) -> int:
        return self._hover_index

    def leaveEvent(self, event) -> None:
        self._hover_scene = None
        self.card.hide()
        if self._hover_index != -1:
            self._hover_index = -1
            self.hovered.emit(-1)
        super().leaveEvent(event)
