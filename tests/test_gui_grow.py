"""Grow a named cluster in its dialog (real widgets, demo project): the undecided images nearest
to it in order; one click on the first that does not belong moves every image before it in,
as one undo step."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt

from pipeline.suggest import grow_candidates

from suggest_window import name_and_settle, open_window


def test_grow_accepts_the_prefix_before_the_first_wrong_image(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    s, r = w.session, w.review
    assert r.move([6, 7, 8], None)  # three "17" signs split off into a new cluster
    name_and_settle(qtbot, w, {1: "17"})
    r.select([2])  # an unnamed cluster: Grow says to name it first
    qtbot.waitUntil(lambda: r.current == 2)
    assert w.suggest_ui.grow() is None
    assert "named cluster" in w.status_line.text()
    r.select([1])
    qtbot.waitUntil(lambda: r.current == 1)
    w.act("grow").trigger()
    dlg = w.suggest_ui.dialog
    qtbot.waitUntil(lambda: dlg is not None and dlg.isVisible())
    expected = grow_candidates(s, w.review.project.features, 1, dlg.count.value())
    assert list(dlg.candidates) == list(expected)
    assert set(expected[:3].tolist()) == {6, 7, 8}  # the split-off "17" signs are nearest
    size, depth = s.size(1), r.undo_stack.count()
    rect = dlg.grid.visualRect(dlg.model.index(3))  # the first that does not belong
    qtbot.mouseClick(dlg.grid.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    qtbot.waitUntil(lambda: s.size(1) == size + 3)
    assert {6, 7, 8} <= set(s.members(1).tolist())
    assert r.undo_stack.count() == depth + 1
    assert "Grow" in w.status_line.text() and "3 images moved in" in w.status_line.text()
    assert not {6, 7, 8} & set(dlg.candidates.tolist())  # the list refills from what is left
    w.act("undo").trigger()
    qtbot.waitUntil(lambda: s.size(1) == size)
