"""The thumbnail grid paints its visible tiles itself: where Qt puts them, the delegate's pixels, visible
rows only; the turn queue lets due timers run before a late step; jobs reach the model thread after
their start is shown."""
from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QItemSelectionModel, QSize, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QAbstractItemView, QApplication, QListView

from gui.controllers.turns import TurnQueue
from gui.jobs.runner import START_DELAY_MS, JobRunner
from gui.models.thumbnail_model import REJECTED, REVIEWED, ThumbnailModel
from gui.views.thumbnail_grid import ThumbnailGrid, thumbnail_grid
from gui.views.thumbnail_loader import ThumbnailLoader

N = 230


def _grid(qtbot, grid_class=ThumbnailGrid, thumb=48, spacing=3, width=420, selection=None):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (N, 24, 24, 3), dtype=np.uint8)
    loader = ThumbnailLoader([f"img_{i}.png" for i in range(N)], images)
    model = ThumbnailModel(loader, flags_of=lambda i: frozenset({REJECTED}) if i % 7 == 0 else
                           frozenset({REVIEWED}) if i % 5 == 0 else frozenset(),
                           badge_of=lambda i: (f"class {i % 4}", i % 3 == 0))
    model.suggest_of = lambda i: "stop" if i % 11 == 0 else None
    model.thumb_size = thumb
    view = thumbnail_grid(thumb, selection or QAbstractItemView.SelectionMode.ExtendedSelection, spacing=spacing)
    if grid_class is not ThumbnailGrid:  # the same settings on a plain list view (Qt's own paint)
        plain = QListView()
        for name in ("viewMode", "flow", "isWrapping", "movement", "resizeMode", "uniformItemSizes",
                     "selectionMode", "spacing", "gridSize", "palette"):
            value = getattr(view, name)()
            setter = "setWrapping" if name == "isWrapping" else "set" + name[0].upper() + name[1:]
            getattr(plain, setter)(value)
        plain.setItemDelegate(view.itemDelegate())
        view.itemDelegate().setParent(plain)
        view = plain
    view.resize(width, 300)
    view.setModel(model)
    qtbot.addWidget(view)
    model.set_indices(np.arange(N))
    view.show()
    qtbot.waitExposed(view)
    return view, model, loader


def _all_loaded(qtbot, model, loader, rows):
    qtbot.waitUntil(lambda: all(loader.cached(model.image_index(r), model.thumb_size) is not None for r in rows),
                    timeout=10_000)


@pytest.mark.parametrize("thumb,spacing,width", [(48, 3, 420), (64, 0, 333), (96, 3, 250), (48, 3, 60)])
def test_tile_layout_is_where_qt_puts_every_tile(qtbot, thumb, spacing, width):
    view, model, loader = _grid(qtbot, thumb=thumb, spacing=spacing, width=width)
    for scroll in (0, view.verticalScrollBar().maximum() // 2, view.verticalScrollBar().maximum()):
        view.verticalScrollBar().setValue(scroll)
        QApplication.processEvents()
        layout = view.tile_rects(N)
        for row in range(N):
            assert layout.rect(row) == view.visualRect(model.index(row)), (row, scroll)
        top, bottom = 0, view.viewport().height() - 1
        rows = layout.rows_in(top, bottom, N)
        seen = [r for r in range(N) if view.visualRect(model.index(r)).intersects(view.viewport().rect())]
        assert set(seen) <= set(rows)  # every visible tile is painted ...
        assert len(rows) <= len(seen) + 2 * layout.cols  # ... and at most a line more on each side
    loader.shutdown()


def test_grid_draws_the_same_pixels_as_the_delegate(qtbot):
    shots = []
    for grid_class in (ThumbnailGrid, QListView):
        view, model, loader = _grid(qtbot, grid_class=grid_class)
        assert isinstance(view, ThumbnailGrid) == (grid_class is ThumbnailGrid)
        view.selectionModel().select(model.index(3), QItemSelectionModel.SelectionFlag.Select)
        view.selectionModel().select(model.index(14), QItemSelectionModel.SelectionFlag.Select)
        _all_loaded(qtbot, model, loader, range(40))
        QApplication.processEvents()
        shots.append(view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32))
        loader.shutdown()
    ours, qts = shots
    assert ours.size() == qts.size()
    assert ours == qts  # the tiles, badges, rejected marks and selection frames, pixel for pixel


def test_grid_asks_only_for_the_tiles_it_shows(qtbot):
    view, model, loader = _grid(qtbot, thumb=48, width=300)
    asked = []
    original = model.paint_data
    model.paint_data = lambda row: asked.append(row) or original(row)
    view.viewport().grab()
    layout = view.tile_rects(N)
    shown = view.viewport().height() // layout.dy + 2
    assert asked and len(set(asked)) <= shown * layout.cols < N
    loader.shutdown()


def test_a_late_turn_lets_the_timers_that_are_due_run_first(qtbot):
    order = []
    turns = TurnQueue()

    def hog():
        order.append("hog")
        end = time.perf_counter() + 0.03  # a 30 ms paint or timer that holds the loop
        while time.perf_counter() < end:
            pass

    QTimer.singleShot(0, hog)
    turns.add(lambda: order.append("step"))
    QTimer.singleShot(0, lambda: order.append("tick"))
    qtbot.waitUntil(lambda: "step" in order and "tick" in order, timeout=2000)
    assert order == ["hog", "tick", "step"]
    # On time, a step runs in the first turn; a queue that keeps arriving late still runs.
    order.clear()
    turns.add(lambda: order.append("on time"))
    qtbot.waitUntil(lambda: order == ["on time"], timeout=2000)


def test_a_job_reaches_the_model_thread_after_its_start_is_shown(qtbot):
    runner = JobRunner(warm_up=False)
    began, done = [], []
    t0 = time.perf_counter()
    job = runner.start("t", lambda progress, cancel: began.append(time.perf_counter()) or 7, done.append)
    assert job is not None and runner.busy()  # counted at once ...
    assert runner.start("again", lambda p, c: 0, done.append) is None  # ... so a second start is refused
    qtbot.waitUntil(lambda: done == [7], timeout=5000)
    assert began[0] - t0 >= 0.9 * START_DELAY_MS / 1000.0
    # Shut down before the hand-over: the job never runs, and nothing hangs.
    late = runner.start("late", lambda p, c: began.append("late"), done.append)
    assert late is not None
    runner.shutdown()
    qtbot.wait(2 * START_DELAY_MS)
    assert "late" not in began
