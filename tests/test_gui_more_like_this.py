"""More like this (Shift+M) on real widgets: neighbours across clusters, moved into the query's
cluster through the controller (one undo step), the list recomputed after the edit."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from demo_project import make_demo_project, open_window, show_map
from gui.dialogs.more_like_this import MoreLikeThisDialog
from pipeline.similar import nearest_images


@pytest.fixture
def window(qtbot, tmp_path):
    folder, store_root = make_demo_project(tmp_path)
    return open_window(qtbot, folder, store_root)


def _given_classes(s):
    return np.array(s.given_labels)


def test_more_like_this_lists_neighbours_across_clusters_and_moves_them(qtbot, window):
    w = window
    s = w.session
    # Split a class over two clusters so there is something to gather: move half of the
    # query's classmates out of its cluster.
    given = _given_classes(s)
    cid = max(s.cluster_ids(), key=lambda c: s.label_counts(c).most_common(1)[0][1])
    cls = s.majority_label(cid)
    same = [int(i) for i in s.members(cid) if given[i] == cls]
    query, mates = same[0], same[1:]
    assert len(mates) >= 4
    assert w.review.move(mates[: len(mates) // 2], None)
    qtbot.waitUntil(lambda: s.cluster_of(mates[0]) != s.cluster_of(query))
    scattered = mates[: len(mates) // 2]
    # Shift+M on the grid's current image.
    w.review.select([s.cluster_of(query)])
    grid, model = w.clusters.grid, w.clusters.thumb_model
    grid.setFocus()
    grid.setCurrentIndex(model.index(model.row_of(query)))
    assert w.act("more_like_this").shortcut().toString() == "Shift+M"
    QTest.keyClick(grid, Qt.Key.Key_M, Qt.KeyboardModifier.ShiftModifier)
    dlg = w.more_dialog
    assert isinstance(dlg, MoreLikeThisDialog) and dlg.isVisible() and dlg.image == query
    shown = dlg.neighbours()
    own = set(s.members(s.cluster_of(query)).tolist())
    assert shown and not own & set(shown)  # images already in its cluster are hidden
    assert shown == nearest_images(w.review.project.features, query, dlg.count.value(), exclude=sorted(own)).tolist()
    # The nearest images gather the classmates the clustering (here: the move) split off.
    top = shown[: len(scattered) + 2]
    assert len(set(scattered) & set(top)) >= len(scattered) - 1
    assert not dlg.move_here.isEnabled()
    # Select the scattered classmates in the result grid and move them back.
    dlg.select_rows([shown.index(i) for i in scattered if i in shown])
    chosen = dlg.selected()
    assert dlg.move_here.isEnabled() and str(s.cluster_of(query)) in dlg.move_here.text().replace("#", "")
    steps = w.review.undo_stack.count()
    qtbot.mouseClick(dlg.move_here, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: all(s.cluster_of(i) == s.cluster_of(query) for i in chosen))
    assert w.review.undo_stack.count() == steps + 1
    qtbot.waitUntil(lambda: not set(chosen) & set(dlg.neighbours()))  # recomputed: the moved ones left the list
    # Unhiding the cluster's own images lists them too; undo (window key) puts the images back.
    dlg.hide_own.setChecked(False)
    assert set(chosen) <= set(dlg.neighbours())
    w.act("undo").trigger()
    qtbot.waitUntil(lambda: all(s.cluster_of(i) != s.cluster_of(query) for i in chosen))
    dlg.close()


def test_more_like_this_from_the_map_and_label(qtbot, window):
    w = window
    s = w.session
    m = show_map(qtbot, w)
    image = int(np.argmax(m.layout_xy[:, 1]))
    m.view.set_current(image)
    dlg = w.more_like_this()
    assert dlg is not None and dlg.image == image
    dlg.count.setValue(12)
    assert len(dlg.neighbours()) == 12
    dlg.select_rows([0, 1, 2])
    picked = dlg.selected()
    picker = dlg.label_selected()
    QTest.keyClicks(picker.search, "stop")
    QTest.keyClick(picker.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: all(s.image_labels.get(i) == "14" for i in picked))
    dlg.close()


def test_more_like_this_without_an_image_says_so(qtbot, window):
    w = window
    w.review.select([])
    w.clusters.grid.clearSelection()
    assert w.more_like_this() is None
    assert "select an image" in w.statusBar().currentMessage() or "select an image" in w.status_line.text()


def test_shift_m_in_the_full_size_viewer(qtbot, window):
    w = window
    w.review.select(w.review.display_order()[:1])
    viewer = w.clusters.view_image_row(2)
    assert viewer is not None
    qtbot.waitExposed(viewer)
    viewer.activateWindow()
    qtbot.waitUntil(viewer.isActiveWindow)
    viewer.step(1)
    QTest.keyClick(viewer, Qt.Key.Key_M, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: w.more_dialog is not None)
    assert w.more_dialog.image == viewer.image_index == w.clusters.thumb_model.image_index(3)
    w.more_dialog.close()
    viewer.close()


def test_thumbnail_context_menu_offers_more_like_this(qtbot, window):
    w = window
    grid = w.clusters.grid
    assert grid.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
    assert w.act("more_like_this") in grid.actions()
