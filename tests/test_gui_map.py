"""The Map tab on real widgets (offscreen): layout through the job runner and its cache, colours,
lasso and rectangle selection with the mouse, cluster highlight, Move/Label through the
controller's undo stack, click and double-click."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from demo_project import make_demo_project, open_window, show_map
from gui.models.cluster_list_model import CLUSTER_ID_ROLE
from gui.views.embedding_map_view import points_in_polygon
from pipeline import embedding_map as em


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_demo_project(tmp_path_factory.mktemp("map"))


@pytest.fixture
def window(qtbot, project):
    folder, store_root = project
    return open_window(qtbot, folder, store_root)


def _mouse(widget, kind, pos: QPoint, button, buttons, modifiers=Qt.KeyboardModifier.NoModifier):
    local = QPointF(pos)
    ev = QMouseEvent(kind, local, QPointF(widget.mapToGlobal(pos)), button, buttons, modifiers)
    QApplication.sendEvent(widget, ev)


def drag(view, points: list[QPoint], modifiers=Qt.KeyboardModifier.NoModifier) -> list[QPointF]:
    """Press at points[0], move through the rest, release at the last; returns the data points the view saw."""
    vp = view.viewport()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    _mouse(vp, QEvent.Type.MouseButtonPress, points[0], left, left, modifiers)
    for p in points[1:]:
        QTest.qWait(12)  # pyqtgraph drops moves closer than its mouseRateLimit (100/s)
        _mouse(vp, QEvent.Type.MouseMove, p, none, left, modifiers)
    _mouse(vp, QEvent.Type.MouseButtonRelease, points[-1], left, none, modifiers)
    return [view.box.mapSceneToView(view.mapToScene(p)) for p in points]


def click_point(view, image: int, double: bool = False):
    pos = view.data_to_widget(*view.xy[image])
    vp, left, none = view.viewport(), Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    _mouse(vp, QEvent.Type.MouseButtonPress, pos, left, left)
    _mouse(vp, QEvent.Type.MouseButtonRelease, pos, left, none)
    if double:
        _mouse(vp, QEvent.Type.MouseButtonDblClick, pos, left, left)
        _mouse(vp, QEvent.Type.MouseButtonRelease, pos, left, none)


def test_map_lays_out_every_image_coloured_by_cluster_and_caches(qtbot, window, project, monkeypatch):
    w = window
    finished = []
    w.job_finished.connect(finished.append)
    m = show_map(qtbot, w)
    s = w.session
    assert "map" in finished
    assert m.view.point_count() == len(s) == m.layout_xy.shape[0]
    assert m.method == em.effective_method(em.default_method(), len(s))
    assert f"of {len(s):,} images" in m.info.text()
    # Colour by cluster: one colour per cluster, the same for all its members.
    brushes = [b.color().name() for b in m.view.scatter.data["brush"]]
    colour_of = {}
    for i, cid in enumerate(s.assignments.tolist()):
        colour_of.setdefault(cid, set()).add(brushes[i])
    assert all(len(c) == 1 for c in colour_of.values())
    assert len({next(iter(c)) for c in colour_of.values()}) == len(s.cluster_ids())
    assert m.legend.count() == len(s.cluster_ids())
    # The layout is cached in the project folder; a reopened project loads it without computing.
    pdir = w.store.project_dir(s.folder)
    assert len(list(pdir.glob("map-layout-*.npy"))) == 1
    shown = m.layout_xy.copy()
    monkeypatch.setattr(em, "compute_layout", lambda *a, **kw: pytest.fail("recomputed a cached layout"))
    folder, _ = project
    assert w.projects.restore_project(folder)
    assert w.map.layout_xy is None or w.review_tabs.currentWidget() is not w.map
    m = show_map(qtbot, w)
    np.testing.assert_array_equal(m.layout_xy, shown)


def test_colour_by_given_label_and_final_class(qtbot, window):
    w = window
    m = show_map(qtbot, w)
    s = w.session
    m.set_color_by("given")
    brushes = [b.color().name() for b in m.view.scatter.data["brush"]]
    for label in set(s.given_labels):
        members = [i for i, g in enumerate(s.given_labels) if g == label]
        assert len({brushes[i] for i in members}) == 1
    m.set_color_by("final")
    cid = s.cluster_ids()[0]
    assert w.review.name([cid], "14")
    qtbot.waitUntil(lambda: s.cluster_names.get(cid) == "14")
    qtbot.wait(50)  # the refresh after the edit recolours
    brushes = [b.color().name() for b in m.view.scatter.data["brush"]]
    final = s.final_classes()
    stop = {brushes[i] for i, f in enumerate(final) if f == "14"}
    assert len(stop) == 1 and any("Stop" in m.legend.item(r).text() for r in range(m.legend.count()))


def _box_around(view, xy: np.ndarray, frac: float = 0.35) -> list[QPoint]:
    """A pixel rectangle (as corner points) around the middle of the layout's bounding box."""
    lo, hi = xy.min(0), xy.max(0)
    mid, half = (lo + hi) / 2, (hi - lo) * frac / 2
    a, b = view.data_to_widget(mid[0] - half[0], mid[1] - half[1]), view.data_to_widget(mid[0] + half[0], mid[1] + half[1])
    return [a, QPoint(b.x(), a.y()), b, QPoint(a.x(), b.y())]


def test_lasso_and_rectangle_select_exactly_the_points_inside(qtbot, window):
    w = window
    m = show_map(qtbot, w)
    v, xy = m.view, m.layout_xy
    corners = _box_around(v, xy)
    # Freehand lasso: a triangle drawn through many intermediate mouse positions.
    a, b, c = corners[0], corners[1], QPoint((corners[2].x() + corners[3].x()) // 2, corners[2].y())
    path = [a + (b - a) * t / 10 for t in range(11)] + [b + (c - b) * t / 10 for t in range(1, 11)] + \
           [c + (a - c) * t / 10 for t in range(1, 10)]
    seen = drag(v, path)
    expected = np.flatnonzero(points_in_polygon(xy, np.array([[p.x(), p.y()] for p in seen])))
    assert 0 < len(expected) < len(xy)
    assert v.selected() == expected.tolist() == m.selected_images()
    assert m.move_button.isEnabled() and m.label_button.isEnabled()
    # Shift+drag: a rectangle from the press to the release point, whatever the path between.
    seen = drag(v, [corners[0], corners[1], corners[2]], Qt.KeyboardModifier.ShiftModifier)
    (x0, y0), (x1, y1) = (seen[0].x(), seen[0].y()), (seen[-1].x(), seen[-1].y())
    inside = (xy[:, 0] >= min(x0, x1)) & (xy[:, 0] <= max(x0, x1)) & (xy[:, 1] >= min(y0, y1)) & (xy[:, 1] <= max(y0, y1))
    assert v.selected() == np.flatnonzero(inside).tolist() and inside.any()
    # Ctrl adds a second lasso to the selection.
    before = set(v.selected())
    far = _box_around(v, xy, frac=0.95)
    seen = drag(v, [far[0], far[1], QPoint(far[1].x(), far[1].y() + 40), QPoint(far[0].x(), far[0].y() + 40)],
                Qt.KeyboardModifier.ControlModifier)
    added = set(np.flatnonzero(points_in_polygon(xy, np.array([[p.x(), p.y()] for p in seen]))).tolist())
    assert set(v.selected()) == before | added
    m.clear_button.click()
    assert v.selected() == [] and not m.move_button.isEnabled()


def test_selecting_clusters_in_the_table_highlights_their_points(qtbot, window):
    w = window
    m = show_map(qtbot, w)
    s, table, proxy = w.session, w.clusters.table, w.clusters.cluster_model
    w.review_tabs.setCurrentWidget(w.clusters)
    ids = [int(proxy.data(proxy.index(r, 0), CLUSTER_ID_ROLE)) for r in range(2)]
    for row, mod in ((0, Qt.KeyboardModifier.NoModifier), (1, Qt.KeyboardModifier.ControlModifier)):
        rect = table.visualRect(proxy.index(row, 1))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, mod, rect.center())
    assert sorted(w.review.selected) == sorted(ids)
    assert m.view.highlighted() == sorted(np.concatenate([s.members(c) for c in ids]).tolist())
    w.review.select([ids[1]])
    assert m.view.highlighted() == sorted(s.members(ids[1]).tolist())
    # Images selected in the grid are ringed on the map too.
    grid, model = w.clusters.grid, w.clusters.thumb_model
    for row, mod in ((0, Qt.KeyboardModifier.NoModifier), (2, Qt.KeyboardModifier.ControlModifier)):
        qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, mod, grid.visualRect(model.index(row)).center())
    assert m.view.marked() == sorted([model.image_index(0), model.image_index(2)]) == w.review.selected_images


def test_click_selects_the_cluster_and_double_click_shows_the_image(qtbot, window):
    w = window
    m = show_map(qtbot, w)
    s = w.session
    image = int(np.argmax(m.layout_xy[:, 0]))  # an extreme point: nothing else within the pick radius
    click_point(m.view, image)
    assert w.review.current == s.cluster_of(image) and m.view.current() == image
    assert m.view.marked() == [image]  # the clicked image keeps its ring after its cluster is selected
    assert m.view.highlighted() == sorted(s.members(s.cluster_of(image)).tolist())
    qtbot.wait(QApplication.doubleClickInterval() + 50)
    click_point(m.view, image, double=True)
    assert w.review_tabs.currentWidget() is w.clusters
    grid = w.clusters.grid
    assert w.clusters.thumb_model.image_index(grid.currentIndex().row()) == image


def test_map_selection_moves_and_labels_through_the_undo_stack(qtbot, window):
    w = window
    m = show_map(qtbot, w)
    s = w.session
    target = s.cluster_ids()[0]
    images = [i for i in range(len(s)) if s.cluster_of(i) != target][:5]
    before, steps = s.assignments.copy(), w.review.undo_stack.count()
    colours_before = [b.color().name() for b in m.view.scatter.data["brush"]]
    m.view.select(images)
    m.view.setFocus()
    dlg = m.move_selected()
    assert dlg is not None and dlg.isVisible()
    dlg.select_cluster(target)
    dlg.accept()
    qtbot.waitUntil(lambda: all(s.cluster_of(i) == target for i in images))
    st = w.review.undo_stack
    assert st.count() == steps + 1 and st.text(st.count() - 1).startswith("Move 5 images")
    qtbot.wait(50)
    brushes = [b.color().name() for b in m.view.scatter.data["brush"]]  # recoloured: now the target's colour
    assert len({brushes[i] for i in [*images, *s.members(target)[:3].tolist()]}) == 1
    others = [i for i in range(len(s)) if i not in images and s.cluster_of(i) != target]
    assert all(brushes[i] == colours_before[i] for i in others)  # every other cluster keeps its colour
    w.act("undo").trigger()
    qtbot.waitUntil(lambda: np.array_equal(s.assignments, before))
    # Label… gives the selected images a class of their own, one undo step.
    picker = m.label_selected()
    assert picker is not None
    QTest.keyClicks(picker.search, "stop")
    assert picker.chosen() == "14"
    QTest.keyClick(picker.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: all(s.image_labels.get(i) == "14" for i in images))
    w.act("undo").trigger()
    qtbot.waitUntil(lambda: not any(i in s.image_labels for i in images))
    assert m.view.selected() == sorted(images)  # the map selection survives edits


def test_cluster_keys_act_on_the_map_not_the_hidden_grid(qtbot, window):
    w = window
    show_map(qtbot, w)
    assert not w.act("move").isEnabled() and not w.act("reject").isEnabled()
    w.review_tabs.setCurrentWidget(w.clusters)
    w.update_actions()
    assert w.act("next").isEnabled()


def test_hover_shows_the_image_card(qtbot, window):
    w = window
    m = show_map(qtbot, w)
    s, v = w.session, m.view
    image = int(np.argmin(m.layout_xy[:, 1]))
    pos = v.data_to_widget(*v.xy[image])
    QTest.qWait(15)
    _mouse(v.viewport(), QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    qtbot.waitUntil(lambda: v.hover_index() == image and v.card.isVisible())
    from pathlib import Path

    assert Path(s.paths[image]).name in v.card_text.text()
    assert v.card_image.pixmap() is not None and not v.card_image.pixmap().isNull()
    QTest.qWait(15)
    _mouse(v.viewport(), QEvent.Type.MouseMove, QPoint(2, 2), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    qtbot.waitUntil(lambda: not v.card.isVisible() and v.hover_index() == -1)


def test_colour_by_suggestion_follows_the_decisions(qtbot, window):
    w = window
    m = show_map(qtbot, w)
    s, tax = w.session, w.review.taxonomy
    c = w.suggestions  # the window's SuggestionController refits after each edit; the map reads it
    finished = []
    c.ready.connect(lambda: finished.append("suggest"))
    # Name the two purest clusters with their majority class; the suggestions spread them.
    pure = sorted(s.cluster_ids(), key=lambda c: -(s.purity(c) or 0))[:2]
    for cid in pure:
        assert w.review.name([cid], s.majority_label(cid))
    qtbot.waitUntil(lambda: all(c in s.cluster_names for c in pure))
    m.set_color_by("suggestion")
    qtbot.waitUntil(lambda: "suggest" in finished and not c.busy() and m.suggestions is not None, timeout=60_000)
    assert set(m.suggestions.classes) == {s.cluster_names[c] for c in pure}
    for cid in pure:  # a named cluster's members are suggested its class
        members = s.members(cid)
        code = tax.ids().index(s.cluster_names[cid])
        assert np.mean(m.codes[members] == code) > 0.8
    assert (m.codes == -1).any()  # images unlike both named classes stay uncoloured
    # An edit makes the suggestions stale; they are recomputed on the job thread.
    n_jobs = finished.count("suggest")
    w.act("undo").trigger()
    qtbot.waitUntil(lambda: finished.count("suggest") > n_jobs and not c.busy(), timeout=60_000)
    assert len(m.suggestions.classes) == 1


def test_points_in_polygon_matches_qt():
    from PySide6.QtGui import QPolygonF

    rng = np.random.default_rng(1)
    pts = rng.uniform(-1.2, 1.2, size=(3000, 2))
    angles = np.linspace(0, 2 * np.pi, 17)[:-1]
    radii = np.where(np.arange(16) % 2, 0.4, 1.0)  # a star: concave, so the even-odd rule matters
    poly = np.column_stack([radii * np.cos(angles), radii * np.sin(angles)])
    qpoly = QPolygonF([QPointF(float(x), float(y)) for x, y in poly])
    expected = np.array([qpoly.containsPoint(QPointF(float(x), float(y)), Qt.FillRule.OddEvenFill) for x, y in pts])
    got = points_in_polygon(pts, poly)
    assert 300 < got.sum() < 2700 and np.array_equal(got, expected)
    assert not points_in_polygon(pts, poly[:2]).any()  # fewer than three vertices: nothing inside


def test_cancelling_the_layout_job_leaves_a_retry(qtbot, project, tmp_path):
    folder, store_root = project
    w = open_window(qtbot, folder, store_root)
    for old in w.store.project_dir(w.session.folder).glob("map-layout-*.npy"):
        old.unlink()  # no cache: the job really computes
    failed = []
    w.job_failed.connect(lambda name, msg: failed.append((name, msg)))
    w.review_tabs.setCurrentWidget(w.map)
    assert w.map.job is not None and w.jobs.busy()
    w.cancel_job()
    qtbot.waitUntil(lambda: bool(failed), timeout=60_000)
    assert failed[0] == ("map", "cancelled")
    assert w.map.layout_xy is None and "Show this tab again" in w.map.placeholder.text()
    qtbot.wait(100)
    assert w.map.job is None  # no automatic restart
    w.review_tabs.setCurrentWidget(w.clusters)
    w.review_tabs.setCurrentWidget(w.map)
    qtbot.waitUntil(lambda: w.map.layout_xy is not None, timeout=60_000)


def test_clicking_a_legend_entry_selects_its_images(qtbot, window):
    w = window
    m = show_map(qtbot, w)
    s = w.session
    legend = m.legend
    first, second = legend.item(0), legend.item(1)
    qtbot.mouseClick(legend.viewport(), Qt.MouseButton.LeftButton, pos=legend.visualItemRect(first).center())
    cid = first.data(Qt.ItemDataRole.UserRole)  # colour by cluster: the code is the cluster id
    assert m.view.selected() == sorted(s.members(cid).tolist())
    qtbot.mouseClick(legend.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     legend.visualItemRect(second).center())
    both = np.concatenate([s.members(cid), s.members(second.data(Qt.ItemDataRole.UserRole))])
    assert m.view.selected() == sorted(both.tolist())


def test_ctrl_a_and_esc_on_the_map(qtbot, window):
    w = window
    m = show_map(qtbot, w)
    m.view.setFocus()
    QTest.keyClick(m.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert m.view.selected() == list(range(len(w.session)))
    assert w.review.selected_images == []  # not the hidden Clusters grid
    QTest.keyClick(m.view, Qt.Key.Key_Escape)
    assert m.view.selected() == []
