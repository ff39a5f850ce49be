"""Name siblings in the dialog (real widgets, demo project): dendrogram branches whose clusters all get
one class, a clicked cluster left out, named in one undo step (or merged), undone in one."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt

from suggest_window import name_and_settle, open_window, settle


def click_thumbnail(qtbot, view, row):
    rect = view.visualRect(view.model().index(row))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())


def _split_off(qtbot, w):
    """Half of the "14" and of the "17" signs in new clusters, beside their named halves."""
    r, s = w.review, w.session
    assert r.move([3, 4, 5], None) and r.move([9, 10, 11], None)
    settle(qtbot, w)
    new14, new17 = s.cluster_of(3), s.cluster_of(9)
    name_and_settle(qtbot, w, {0: "14", 1: "17"})
    qtbot.waitUntil(lambda: r.stats is not None and {new14, new17} <= set(r.stats.ids))
    return new14, new17


def test_siblings_are_named_in_one_undo_step_and_a_clicked_cluster_is_left_out(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    new14, new17 = _split_off(qtbot, w)
    s, r = w.session, w.review
    w.act("name_siblings").trigger()
    dlg = w.suggest_ui.dialog
    qtbot.waitUntil(lambda: dlg is not None and dlg.isVisible())
    assert "the whole set" in dlg.scope.text()
    dlg.set_threshold(20)  # the unnamed "13" and "1" clusters are suggested "17" at about 22 %: one branch with 17s
    assert [set(g.unnamed) for g in dlg.groups if g.class_id == "17"] == [{new17, 2, 3}]
    dlg.set_threshold(50)
    by_class = {g.class_id: g for g in dlg.groups}
    assert by_class["14"].unnamed == [new14] and 0 in by_class["14"].clusters
    assert by_class["17"].unnamed == [new17] and 1 in by_class["17"].clusters
    assert len(dlg.strips) == len(dlg.groups)
    row = [g.class_id for g in dlg.groups].index("17")
    click_thumbnail(qtbot, dlg.views[row], 0)  # leave the new "17" cluster out
    assert dlg.excluded == {new17} and new17 not in dlg.taken() and new14 in dlg.taken()
    depth = r.undo_stack.count()
    dlg.apply_button.click()
    qtbot.waitUntil(lambda: s.cluster_names.get(new14) == "14")
    assert new17 not in s.cluster_names
    assert all("17" in w.suggestions.declined.get(i, ()) for i in (9, 10, 11))  # left out: refused
    assert r.undo_stack.count() == depth + 1
    assert "Named" in w.status_line.text() and "sibling cluster" in w.status_line.text()
    assert not dlg.isVisible()
    w.act("undo").trigger()
    qtbot.waitUntil(lambda: new14 not in s.cluster_names)
    assert s.cluster_names == {0: "14", 1: "17"}


def test_merge_makes_each_branch_one_named_cluster(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    new14, new17 = _split_off(qtbot, w)
    s, r = w.session, w.review
    clusters_before = s.cluster_ids()
    dlg = w.suggest_ui.name_siblings(clusters=[0, new14])  # the selection only
    qtbot.waitUntil(lambda: dlg.isVisible())
    assert "2 selected clusters" in dlg.scope.text()
    dlg.set_threshold(50)
    assert [(g.class_id, g.unnamed) for g in dlg.groups] == [("14", [new14])]
    dlg.merge_box.setChecked(True)
    dlg.apply_button.click()
    qtbot.waitUntil(lambda: not s.has_cluster(new14))
    assert s.cluster_names.get(0) == "14" and {3, 4, 5} <= set(s.members(0).tolist())
    assert "Merged and named 1 sibling cluster" in w.status_line.text()
    w.act("undo").trigger()
    qtbot.waitUntil(lambda: s.has_cluster(new14))
    assert s.cluster_ids() == clusters_before and new14 not in s.cluster_names
