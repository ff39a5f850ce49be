"""Accept every suggestion above X % in the dialog (real widgets, demo project): what each
threshold takes, the preview grouped by class, clicked thumbnails left out, one undo step
that a single undo restores completely."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt

from suggest_window import name_and_settle, open_window


def labels_state(s):
    return dict(s.image_labels), set(s.reviewed)


def click_thumbnail(qtbot, view, row):
    rect = view.visualRect(view.model().index(row))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())


def test_bulk_accept_is_one_undo_step_and_one_undo_restores_everything(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    name_and_settle(qtbot, w, {0: "14", 1: "17"})
    s, r = w.session, w.review
    before = labels_state(s)
    w.act("bulk_accept").trigger()
    dlg = w.suggest_ui.dialog
    qtbot.waitUntil(lambda: dlg.isVisible())
    assert "the whole set" in dlg.scope.text()
    assert "≥ 50%" in dlg.sizes.text()
    dlg.set_threshold(40)
    plan = dlg.plan
    sizes = w.suggestions.plan_sizes([0.4])
    assert len(plan) == sizes[0.4] > 0
    assert len(dlg.strips) == len(plan.groups) >= 1  # one strip per suggested class
    assert [c for c, _, _ in dlg.strips] == [g.class_id for g in plan.groups]
    planned = {int(i): g.class_id for g in plan.groups for i in g.indices.tolist()}
    depth = r.undo_stack.count()
    dlg.apply_button.click()
    qtbot.waitUntil(lambda: all(s.image_labels.get(i) == c for i, c in planned.items()))
    assert r.undo_stack.count() == depth + 1  # one undo step
    assert f"Accepted {len(planned)} suggestion" in w.status_line.text()
    assert not dlg.isVisible()
    w.act("undo").trigger()  # a single undo restores everything
    qtbot.waitUntil(lambda: labels_state(s) == before)
    assert r.undo_stack.index() == depth


def test_clicked_thumbnails_are_left_out(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    name_and_settle(qtbot, w, {0: "14", 1: "17"})
    s, r = w.session, w.review
    r.select([2, 3])
    qtbot.waitUntil(lambda: sorted(r.selected) == [2, 3])
    dlg = w.suggest_ui.bulk_accept()
    qtbot.waitUntil(lambda: dlg.isVisible())
    assert "2 selected clusters" in dlg.scope.text()
    dlg.set_threshold(1)
    assert set(dlg.plan.indices.tolist()) == set(s.members(2).tolist()) | set(s.members(3).tolist())
    _, view, model = dlg.strips[0]
    click_thumbnail(qtbot, view, 0)
    click_thumbnail(qtbot, view, 1)
    left_out = {model.image_index(0), model.image_index(1)}
    assert dlg.excluded == left_out
    click_thumbnail(qtbot, view, 1)  # a second click takes it back
    left_out = {model.image_index(0)}
    assert dlg.excluded == left_out
    assert "1 left out" in dlg.summary.text()
    taken = set(dlg.taken())
    assert dlg.apply()
    qtbot.waitUntil(lambda: taken <= set(s.image_labels))
    assert not left_out & set(s.image_labels)
    assert "1 left out" in w.status_line.text()
    # the left-out image's refused class is not offered for it again
    (image,) = left_out
    refused = w.suggestions.declined[image]
    assert all(image not in g.indices.tolist() for g in w.suggestions.plan(0.01).groups if g.class_id in refused)
