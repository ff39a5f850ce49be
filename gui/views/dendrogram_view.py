"""Dendrogram over the cluster centers (pyqtgraph) and the k-selection score plot.

The dendrogram is drawn sideways: leaves (clusters) top to bottom, merge height to the
right. Clicking a branch selects every cluster under it; the vertical cut line
previews a coarser clustering (branches under the cut are coloured by group) and
"Apply cut" asks the window to merge each group, as one undoable step.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget
from scipy.cluster.hierarchy import fcluster, leaves_list
from superqt.utils import signals_blocked

pg.setConfigOptions(antialias=True, background="w", foreground="k")


def dendrogram_coords(linkage: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(icoord, dcoord, leaves)`` as ``scipy.cluster.hierarchy.dendrogram(no_plot=True)`` gives them
    (leaf slot ``p`` at 5 + 10 p, one row per link, in linkage order rather than scipy's drawing order),
    from the C ``leaves_list`` and one pass over the links: scipy's own walk is a Python recursion
    that takes ~0.1 s for a 1,000-leaf tree."""
    z = np.asarray(linkage, dtype=float)
    n = len(z) + 1
    leaves = leaves_list(z)
    x = np.empty(2 * n - 1)
    x[leaves] = 5.0 + 10.0 * np.arange(n)
    h = np.zeros(2 * n - 1)
    h[n:] = z[:, 2]
    left, right = z[:, 0].astype(np.int64), z[:, 1].astype(np.int64)
    xs = x.tolist()
    for i, (a, b) in enumerate(zip(left.tolist(), right.tolist())):  # children come before their parent
        xs[n + i] = (xs[a] + xs[b]) / 2.0
    x = np.asarray(xs)
    icoord = np.stack([x[left], x[left], x[right], x[right]], axis=1)
    dcoord = np.stack([h[left], z[:, 2], z[:, 2], h[right]], axis=1)
    return icoord, dcoord, leaves

#: Above this many leaves the tree's lines are drawn without antialiasing: a 1,000-leaf tree's
#: 6,000 antialiased segments cost ~30 ms per repaint, and its lines are a pixel apart anyway.
ANTIALIAS_UP_TO = 300

_PALETTE = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
    (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
]


def cut_groups(linkage: np.ndarray, ids: Sequence[int], height: float) -> list[list[int]]:
    """Clusters (by id) that fall together below a cut at ``height``; singletons omitted."""
    if linkage is None or len(ids) < 2:
        return []
    flat = fcluster(linkage, t=height, criterion="distance")
    groups: dict[int, list[int]] = {}
    for cid, g in zip(ids, flat):
        groups.setdefault(int(g), []).append(int(cid))
    return sorted((sorted(v) for v in groups.values() if len(v) > 1), key=lambda g: g[0])


class DendrogramView(QWidget):
    """Emits :attr:`clusters_clicked` with the ids under a clicked branch and
    :attr:`cut_requested` with the groups to merge when the cut is applied."""

    clusters_clicked = Signal(list)
    cut_requested = Signal(list)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", "merge height (ward, cluster centers)")
        self.plot.getViewBox().setMouseEnabled(x=False, y=True)
        layout.addWidget(self.plot, 1)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 0, 6, 4)
        self.cut_info = QLabel("Drag the red line to preview a cut")
        self.apply_button = QPushButton("Apply cut")
        self.apply_button.setToolTip("Merge the clusters under the cut line (one undo step)")
        self.apply_button.setEnabled(False)
        bar.addWidget(self.cut_info, 1)
        bar.addWidget(self.apply_button)
        layout.addLayout(bar)
        self.lines = pg.PlotCurveItem(pen=pg.mkPen((90, 90, 90), width=1.2), connect="pairs")
        self.group_lines = pg.PlotCurveItem(pen=pg.mkPen((31, 119, 180), width=2.2), connect="pairs")
        self.selected = pg.ScatterPlotItem(size=9, brush=pg.mkBrush(255, 176, 0), pen=pg.mkPen("k"))
        self.cut_line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen((214, 39, 40), width=2),
                                        hoverPen=pg.mkPen((214, 39, 40), width=4))
        for item in (self.lines, self.group_lines, self.selected, self.cut_line):
            self.plot.addItem(item)
        self.cut_line.hide()
        self.cut_line.sigPositionChanged.connect(self._preview_cut)
        self.apply_button.clicked.connect(self.apply_cut)
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self.plot.getViewBox().sigYRangeChanged.connect(lambda *_: self._apply_ticks())
        self.linkage: Optional[np.ndarray] = None
        self.ids: list[int] = []
        self._icoord = np.zeros((0, 4))
        self._dcoord = np.zeros((0, 4))
        self._leaf_order: list[int] = []
        self._groups: list[list[int]] = []
        self._ticks: list[tuple[float, str]] = []

    # -- data ------------------------------------------------------------------------
    def set_data(self, linkage: Optional[np.ndarray], ids: Sequence[int], labels: Sequence[str]) -> None:
        """``linkage`` over clusters ``ids`` (rows in that order); ``labels`` name the leaves."""
        self.ids = [int(c) for c in ids]
        self.linkage = linkage
        self._groups = []
        self.apply_button.setEnabled(False)
        if linkage is None or len(self.ids) < 2:
            self.lines.setData([], [])
            self.group_lines.setData([], [])
            self.selected.setData([], [])
            self.cut_line.hide()
            self.cut_info.setText("Needs at least two clusters")
            self._ticks = []
            self._apply_ticks()
            return
        self._icoord, self._dcoord, leaves = dendrogram_coords(linkage)
        self._leaf_order = [self.ids[j] for j in leaves.tolist()]
        x, y = self._segments(np.arange(len(self._icoord)))
        self.lines.setData(x, y, antialias=len(self.ids) <= ANTIALIAS_UP_TO)
        label_of = dict(zip(self.ids, labels))
        self._ticks = [(5.0 + 10.0 * p, label_of[cid]) for p, cid in enumerate(self._leaf_order)]
        self._apply_ticks()
        top = float(self._dcoord.max()) if len(self._dcoord) else 1.0
        self.plot.setXRange(0, top * 1.05, padding=0.02)
        self.plot.setYRange(0, 10.0 * len(self.ids), padding=0.01)
        self.cut_line.setBounds([0, top * 1.05])
        self.cut_line.show()
        with signals_blocked(self.cut_line):
            self.cut_line.setValue(0.0)
        self.group_lines.setData([], [])
        self.cut_info.setText("Drag the red line to preview a cut")

    def _apply_ticks(self) -> None:
        """Label every leaf when there is room (>= 13 px each), else every n-th one."""
        if not self._ticks:
            self.plot.getAxis("left").setTicks([[]])
            return
        vb = self.plot.getViewBox()
        height = max(1.0, float(vb.height() or self.plot.height()))
        lo, hi = vb.viewRange()[1]
        visible = max(1.0, min(len(self._ticks), (hi - lo) / 10.0))  # leaves are 10 units apart
        stride = max(1, int(np.ceil(13.0 * visible / height)))
        self.plot.getAxis("left").setTicks([self._ticks[::stride]])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._apply_ticks()

    def _segments(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs of points for the three segments of each link in ``rows`` (height on x)."""
        if len(rows) == 0:
            return np.zeros(0), np.zeros(0)
        ic, dc = self._icoord[rows], self._dcoord[rows]
        xs = np.stack([dc[:, 0], dc[:, 1], dc[:, 1], dc[:, 2], dc[:, 2], dc[:, 3]], axis=1).ravel()
        ys = np.stack([ic[:, 0], ic[:, 1], ic[:, 1], ic[:, 2], ic[:, 2], ic[:, 3]], axis=1).ravel()
        return xs, ys

    def leaf_order(self) -> list[int]:
        return list(self._leaf_order)

    def set_selected(self, cids: Sequence[int]) -> None:
        slot = {c: p for p, c in enumerate(self._leaf_order)} if len(cids) > 8 else None
        pos = [(0.0, 5.0 + 10.0 * (slot[c] if slot is not None else self._leaf_order.index(c)))
               for c in cids if (c in slot if slot is not None else c in self._leaf_order)]
        self.selected.setData([p[0] for p in pos], [p[1] for p in pos])

    # -- interaction -----------------------------------------------------------------
    def branch_at(self, height: float, leaf_pos: float) -> list[int]:
        """Cluster ids under the link nearest to (``height``, ``leaf_pos``) in plot coordinates."""
        if not len(self._icoord):
            return []
        span_x = max(float(self._dcoord.max()), 1e-9)
        if height < 0.02 * span_x:  # on a leaf: that cluster alone
            j = int(np.clip(round((leaf_pos - 5.0) / 10.0), 0, len(self._leaf_order) - 1))
            return [self._leaf_order[j]]
        best, best_d = None, np.inf
        for r, (ic, dc) in enumerate(zip(self._icoord, self._dcoord)):
            lo, hi = ic[1], ic[2]
            dy = 0.0 if lo <= leaf_pos <= hi else min(abs(leaf_pos - lo), abs(leaf_pos - hi)) / 10.0
            dx = abs(height - dc[1]) / span_x if height <= dc[1] else 2.0 * (height - dc[1]) / span_x
            d = dx + dy
            if d < best_d:
                best, best_d = r, d
        return [self._leaf_order[p] for p in sorted(self._leaf_positions(best))]

    def _leaf_positions(self, row: int) -> list[int]:
        """Leaf slots (0..K-1, top to bottom) under dendrogram link ``row``."""
        centers = {
            (round((ic[1] + ic[2]) / 2.0, 6), round(float(dc[1]), 9)): r
            for r, (ic, dc) in enumerate(zip(self._icoord, self._dcoord))
        }
        out: list[int] = []
        stack = [row]
        while stack:
            r = stack.pop()
            ic, dc = self._icoord[r], self._dcoord[r]
            for x, y in ((ic[0], dc[0]), (ic[3], dc[3])):
                if y == 0.0:
                    out.append(int(round((x - 5.0) / 10.0)))
                else:
                    child = centers.get((round(x, 6), round(float(y), 9)))
                    if child is not None:
                        stack.append(child)
        return out

    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not len(self._icoord):
            return
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        cids = self.branch_at(p.x(), p.y())
        if cids:
            self.clusters_clicked.emit(cids)

    def set_cut(self, height: float) -> None:
        self.cut_line.setValue(height)

    def _preview_cut(self) -> None:
        h = float(self.cut_line.value())
        self._groups = cut_groups(self.linkage, self.ids, h) if h > 0 else []
        rows = np.flatnonzero(self._dcoord[:, 1] <= h) if h > 0 else np.zeros(0, int)
        x, y = self._segments(rows)
        self.group_lines.setData(x, y)
        n_after = len(self.ids) - sum(len(g) - 1 for g in self._groups)
        if self._groups:
            self.cut_info.setText(f"Cut at {h:.3g}: {len(self.ids)} → {n_after} clusters")
        else:
            self.cut_info.setText("Drag the red line to the right to merge close clusters")
        self.apply_button.setEnabled(bool(self._groups))

    def pending_groups(self) -> list[list[int]]:
        return [list(g) for g in self._groups]

    def apply_cut(self) -> None:
        if self._groups:
            self.cut_requested.emit(self.pending_groups())


class KScorePlot(QWidget):
    """Scores per candidate k from an automatic k choice, with the chosen k marked."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.setContentsMargins(6, 4, 6, 0)
        self.info = QLabel("k was fixed: no scores to show")
        self.which = QComboBox()
        top.addWidget(self.info, 1)
        top.addWidget(self.which)
        layout.addLayout(top)
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "k (number of clusters)")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        layout.addWidget(self.plot, 1)
        self.curve = self.plot.plot([], [], pen=pg.mkPen((31, 119, 180), width=2), symbol="o", symbolSize=5,
                                    symbolBrush=(31, 119, 180))
        self.best = pg.InfiniteLine(angle=90, pen=pg.mkPen((214, 39, 40), width=1.5, style=Qt.PenStyle.DashLine))
        self.plot.addItem(self.best)
        self.best.hide()
        self.selection: Optional[dict] = None
        self.which.currentTextChanged.connect(self._draw)

    def set_selection(self, selection: Optional[dict]) -> None:
        """``selection``: ``{"criterion", "ks", "scores": {name: [...]}, "best_k"}`` or ``None``."""
        self.selection = selection
        with signals_blocked(self.which):
            self.which.clear()
            if selection:
                self.which.addItems(list(selection["scores"]))
                self.which.setCurrentText(selection["criterion"])
        self.which.setVisible(bool(selection))
        self._draw()

    def has_scores(self) -> bool:
        return bool(self.selection)

    def _draw(self, *_) -> None:
        sel = self.selection
        if not sel:
            self.curve.setData([], [])
            self.best.hide()
            self.info.setText("k was fixed: no scores to show")
            return
        name = self.which.currentText() or sel["criterion"]
        ks = np.asarray(sel["ks"], dtype=float)
        ys = np.asarray(sel["scores"].get(name, []), dtype=float)
        ok = np.isfinite(ys)
        self.curve.setData(ks[ok], ys[ok])
        self.plot.setLabel("left", name)
        self.best.setValue(float(sel["best_k"]))
        self.best.show()
        self.info.setText(f"k = {sel['best_k']} chosen by {sel['criterion']} over {int(ks.min())}–{int(ks.max())}")
