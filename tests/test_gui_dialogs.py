"""The review dialogs and quick naming on real widgets: the Move dialog's names, pictures and
filter; the class picker on the cluster's majority; type-ahead naming; drag-to-move."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel

from gui.dialogs.class_picker import ClassPicker
from gui.dialogs.review_dialogs import NEW_CLUSTER, MoveDialog
from gui.models.cluster_list_model import CLUSTER_ID_ROLE
from gui.models.cluster_text import preselected_class
from gui.settings import SessionStore

from gui_demo_project import N_PER, make_project, open_project_window


@pytest.fixture
def window(qtbot, tmp_path):
    store = SessionStore(tmp_path / "store")
    folder, _ = make_project(tmp_path, store)
    return open_project_window(qtbot, store, folder)


def row_of(w, cid: int) -> int:
    p = w.clusters.cluster_model
    return next(r for r in range(p.rowCount()) if int(p.data(p.index(r, 0), CLUSTER_ID_ROLE)) == cid)


def select_images(w, rows):
    g, m = w.clusters.grid, w.clusters.thumb_model
    g.clearSelection()
    for r in rows:
        g.selectionModel().select(m.index(r), g.selectionModel().SelectionFlag.Select)
    return [m.image_index(r) for r in rows]


def non_blank(icon, size) -> int:
    """How many pixels of the icon are not transparent."""
    img: QImage = icon.pixmap(size).toImage()
    return sum(1 for y in range(img.height()) for x in range(img.width()) if img.pixelColor(x, y).alpha() > 0)


def test_move_dialog_shows_names_thumbnails_pictograms_and_filters(qtbot, window):
    w, s = window, window.session
    w.review.name([1], "17")
    qtbot.waitUntil(lambda: s.cluster_names.get(1) == "17")
    w.review.select([0])
    select_images(w, [0])
    w.act("move").trigger()
    dlg = w.clusters.dialog
    assert isinstance(dlg, MoveDialog) and dlg.isVisible()
    texts = [dlg.list.item(r).text() for r in range(dlg.list.count())]
    assert texts[0] == "New cluster" and "➕" not in texts[0] and not dlg.list.item(0).icon().isNull()
    # Every other cluster is listed with its name and size; the shown one (0) is not a target.
    assert dlg.shown_ids() == [None, 1, 2, 3]
    named = next(t for t in texts if t.startswith("#1 "))
    assert "No entry" in named and f"{N_PER} images" in named
    assert "unnamed" in next(t for t in texts if t.startswith("#2 "))
    # Each target row shows the medoid thumbnail; a named one also its class pictogram (right half).
    size = dlg.list.iconSize()
    unnamed_px, named_px = non_blank(dlg.list.item(2).icon(), size), non_blank(dlg.list.item(1).icon(), size)
    assert unnamed_px > 0.4 * size.height() ** 2  # the thumbnail
    assert named_px > unnamed_px + 0.3 * size.height() ** 2  # thumbnail + pictogram
    # Typing filters by name or id; Enter moves to the first match.
    QTest.keyClicks(dlg.search, "no entry")
    assert dlg.shown_ids() == [1]
    dlg.search.clear()
    QTest.keyClicks(dlg.search, "#3")
    assert dlg.shown_ids() == [3]
    dlg.search.clear()
    QTest.keyClicks(dlg.search, "new")
    assert dlg.shown_ids() == [None] and dlg.list.currentItem().data(Qt.ItemDataRole.UserRole) == NEW_CLUSTER
    dlg.search.clear()
    QTest.keyClicks(dlg.search, "2")
    img = w.review.selected_images[0]
    QTest.keyClick(dlg.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: s.cluster_of(img) == 2)


def test_class_picker_preselects_the_majority_label(qtbot, window):
    w, s = window, window.session
    # Cluster 1 holds six "17" images (one given-label "17" sits in cluster 0 by mistake).
    assert preselected_class(s, 1) == ("17", "majority of the given labels")
    w.review.select([1])
    w.act("name").trigger()
    picker = w.clusters.dialog
    assert isinstance(picker, ClassPicker)
    assert picker.chosen() == "17"
    assert "No entry" in "".join(lbl.text() for lbl in picker.findChildren(QLabel))
    QTest.keyClick(picker.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: s.cluster_names.get(1) == "17")
    # Once named, the picker opens on the name (not the majority).
    w.review.name([0], "13")
    qtbot.waitUntil(lambda: s.cluster_names.get(0) == "13")
    w.review.select([0])
    w.act("name").trigger()
    assert w.clusters.dialog.chosen() == "13"
    w.clusters.dialog.reject()


def test_class_picker_prefers_a_suggestion(window):
    import numpy as np

    from pipeline.suggest.propagation import Suggestions

    s = window.session
    n = len(s)
    proba = np.zeros((n, 2), np.float32)
    proba[:, 1] = 1.0
    sugg = Suggestions(["13", "38"], proba, np.ones(n, np.int64), np.full(n, 0.9, np.float32))
    cls, why = preselected_class(s, 1, sugg)
    assert cls == "38" and why.startswith("suggested")
    # The window's picker asks the page's suggestion source first (the majority would be "17").
    window.clusters.suggestions_of = lambda: sugg
    window.review.select([1])
    window.act("name").trigger()
    picker = window.clusters.dialog
    assert picker.chosen() == "38"
    assert "suggested (90%)" in "".join(lbl.text() for lbl in picker.findChildren(QLabel))
    picker.reject()


def test_type_ahead_on_the_table_names_the_cluster(qtbot, window):
    w, s = window, window.session
    w.activateWindow()
    w.review.select([2])
    table = w.clusters.table
    table.setFocus()
    QTest.keyClick(table, Qt.Key.Key_1)  # a class number: the picker opens filtered by it
    picker = w.clusters.dialog
    assert isinstance(picker, ClassPicker) and picker.isVisible()
    assert picker.search.text() == "1"
    QTest.keyClicks(picker.search, "4")
    assert picker.chosen() == "14", picker.search.text()
    QTest.keyClick(picker.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: s.cluster_names.get(2) == "14")
    # A letter bound to an action (M merges) never starts type-ahead.
    w.clusters.dialog = None
    w.review.select([3])
    assert not w.clusters.table_input.type_ahead("m")
    assert w.clusters.table_input.type_ahead("y") and isinstance(w.clusters.dialog, ClassPicker)
    assert w.clusters.dialog.search.text() == "y" and w.clusters.dialog.chosen() == "13"  # Yield
    w.clusters.dialog.reject()


def _send_drag(w, widget, pos: QPoint, mime):
    actions = Qt.DropAction.MoveAction
    enter = QDragEnterEvent(pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    move = QDragMoveEvent(pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, move)
    drop = QDropEvent(QPointF(pos), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return enter, move, drop


def test_dragging_thumbnails_onto_a_cluster_row_moves_them_in_one_undo_step(qtbot, window):
    w, s = window, window.session
    w.review.select([0])
    images = select_images(w, [0, 2])
    g = w.clusters.grid
    mime = w.clusters.thumb_model.mimeData(g.selectionModel().selectedIndexes())
    table = w.clusters.table
    target = 3
    rect = table.visualRect(w.clusters.cluster_model.index(row_of(w, target), 1))
    steps = w.review.undo_stack.index()
    said = []
    w.review.message.connect(lambda text, ms: said.append(text))
    enter, move, drop = _send_drag(w, table.viewport(), rect.center(), mime)
    assert enter.isAccepted() and move.isAccepted() and drop.isAccepted()
    assert "Drop to move 2 images to #3" in said
    qtbot.waitUntil(lambda: all(s.cluster_of(i) == target for i in images))
    assert w.review.undo_stack.index() == steps + 1
    assert s.size(0) == N_PER - 2 and s.size(target) == N_PER + 2
    w.review.undo_stack.undo()
    qtbot.waitUntil(lambda: all(s.cluster_of(i) == 0 for i in images))
    assert s.size(target) == N_PER
    # Dropping on the cluster the images come from (or outside any row) changes nothing.
    w.review.select([0])
    mime = w.clusters.thumb_model.mimeData([w.clusters.thumb_model.index(0)])
    own = table.visualRect(w.clusters.cluster_model.index(row_of(w, 0), 1))
    _, _, drop = _send_drag(w, table.viewport(), own.center(), mime)
    assert not drop.isAccepted() and w.review.undo_stack.index() == steps


def test_grid_starts_drags_of_the_selected_thumbnails(window):
    m = window.clusters.thumb_model
    assert m.flags(m.index(0)) & Qt.ItemFlag.ItemIsDragEnabled
    assert window.clusters.grid.dragEnabled()
    from gui.models.thumbnail_model import images_from_mime

    assert images_from_mime(m.mimeData([m.index(1), m.index(0)])) == sorted([m.image_index(0), m.image_index(1)])
