"""The window's refits use the evidence calibration (real widgets, demo project): the review's
history is told which bulk-accept plans were applied and scores them, images moved out of a
named cluster are never suggested its name again (undo takes the refusal back), a bulk accept
is still one undo step."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from suggest_window import name_and_settle, open_window, settle


def test_refits_use_the_evidence_calibration_and_the_history_scores_applied_plans(qtbot, tmp_path, monkeypatch):
    import pipeline.suggest as suggest

    real, calls = suggest.calibrated_suggestions, []

    def spy(prop, snapshot, **kw):
        calls.append((snapshot, kw))
        return real(prop, snapshot, **kw)

    monkeypatch.setattr(suggest, "calibrated_suggestions", spy)
    w = open_window(qtbot, tmp_path)
    name_and_settle(qtbot, w, {0: "14", 1: "17"})
    c, s, r = w.suggestions, w.session, w.review
    snapshot, kw = calls[-1]
    assert kw["evidence"] is True and kw["history"] is c._history and kw["prior"] is c.zero_shot
    assert kw["declined"] == {} and snapshot.shown == []
    plan = c.plan(0.0)
    assert len(plan) >= 2
    left_out = int(plan.groups[0].indices[0])
    left_class = plan.groups[0].class_id
    history = c._history
    before, depth, n_calls = dict(s.image_labels), r.undo_stack.count(), len(calls)
    scored, wrong = len(history), int((~history.right).sum())
    assert c.apply_plan(plan, exclude=[left_out])
    assert r.undo_stack.count() == depth + 1  # one undo step
    settle(qtbot, w)
    told = [(snap, k) for snap, k in calls[n_calls:] if snap.shown]
    assert len(told) == 1  # the next refit, and only it, is told the plan's images
    snap, k = told[0]
    assert sorted(snap.shown) == sorted(plan.indices.tolist())
    assert snap.declined == {left_out: {left_class}} and k["declined"] is snap.declined
    assert len(history) - scored == len(plan)  # each shown image scored against what became of it
    assert int((~history.right).sum()) - wrong == 1  # the left-out one: refused; the accepted ones: right
    assert c.image_suggestion(left_out)[0] != left_class  # refused: never suggested again
    w.act("undo").trigger()
    qtbot.waitUntil(lambda: dict(s.image_labels) == before)
    assert r.undo_stack.count() == depth + 1 and r.undo_stack.index() == depth


def test_images_moved_out_of_a_named_cluster_are_never_suggested_its_name_again(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    name_and_settle(qtbot, w, {0: "14", 1: "17", 2: "13"})
    c, s, r = w.suggestions, w.session, w.review
    moved = s.members(0)[:2].tolist()
    assert all(c.image_suggestion(i)[0] == "14" for i in moved)
    assert r.move(moved, None)
    settle(qtbot, w)
    assert {i: c.declined.get(i) for i in moved} == {i: {"14"} for i in moved}
    assert all(c.image_suggestion(i)[0] not in (None, "14") for i in moved)
    assert not any(g.class_id == "14" and set(moved) & set(g.indices.tolist()) for g in c.plan(0.0).groups)
    w.act("undo").trigger()  # the move is undone: so is the refusal
    qtbot.waitUntil(lambda: all(s.assignments[i] == 0 for i in moved))
    assert not any(i in c.declined for i in moved)
    w.act("redo").trigger()
    qtbot.waitUntil(lambda: all(s.assignments[i] != 0 for i in moved))
    assert {i: c.declined.get(i) for i in moved} == {i: {"14"} for i in moved}


def test_accept_up_to_here_leaves_the_rest_of_the_strip_out_without_refusing_it(qtbot, tmp_path):
    from PySide6.QtCore import Qt

    w = open_window(qtbot, tmp_path)
    name_and_settle(qtbot, w, {0: "14", 1: "17"})
    c, s, r = w.suggestions, w.session, w.review
    w.act("bulk_accept").trigger()
    dlg = w.suggest_ui.dialog
    qtbot.waitUntil(lambda: dlg.isVisible())
    dlg.set_threshold(1)
    class_id, view, model = max(dlg.strips, key=lambda strip: strip[2].rowCount())
    order = [model.image_index(row) for row in range(model.rowCount())]
    assert len(order) >= 3
    rect = view.visualRect(model.index(1))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, rect.center())
    assert dlg.cuts == {class_id: order[1]}  # accept up to here: the first one only
    assert set(order[1:]).isdisjoint(dlg.taken()) and order[0] in dlg.taken()
    depth = r.undo_stack.count()
    dlg.apply_button.click()
    qtbot.waitUntil(lambda: s.image_labels.get(order[0]) == class_id)
    assert r.undo_stack.count() == depth + 1
    assert all(i not in s.image_labels for i in order[1:])
    assert all(class_id not in c.declined.get(i, set()) for i in order[1:])  # cut off, not refused
