"""Class suggestions in the window (real widgets, demo project): the Suggestion column after a
name, accepting a suggestion (one undo step), the refit off the UI thread, Next on the review
queue's top item, the suggestion badges and the "Disagreeing first" grid order, the Map tab
colouring from the same suggestions."""
from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gui.models.cluster_list_model import COL_SUGGESTION
from gui.models.thumbnail_model import SUGGEST_ROLE

from suggest_window import name_and_settle, open_window, settle


def column_text(w, cid: int) -> str:
    m = w.clusters.cluster_model
    return m.data(m.index(m.row_of(cid), COL_SUGGESTION)) or ""


def test_suggestion_column_fills_after_naming_a_cluster(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    settle(qtbot, w)
    assert not w.suggestions.has_suggestions()  # nothing decided: nothing to suggest yet
    assert all(column_text(w, c) == "" for c in w.session.cluster_ids())
    name_and_settle(qtbot, w, {0: "14"})
    tax = w.review.taxonomy
    m = w.clusters.cluster_model
    for cid in (1, 2, 3):  # every unnamed cluster shows a percentage, and its class in words when wide enough
        text = column_text(w, cid)
        assert text.split()[0].endswith("%"), text
        assert tax.name_of("14") in m.data(m.index(m.row_of(cid), COL_SUGGESTION), Qt.ItemDataRole.ToolTipRole)
        assert (tax.name_of("14") in text) == m.suggestion_names
    w.resize(1600, 1000)
    w.clusters.setSizes([900, 700])  # a wide table: the column has room for the class name
    qtbot.waitUntil(lambda: m.suggestion_names and tax.name_of("14") in column_text(w, 1))
    header = w.clusters.table.horizontalHeader()
    assert header.length() <= w.clusters.table.viewport().width() + header.sectionSize(COL_SUGGESTION)
    assert column_text(w, 0) == ""  # the named cluster agrees with its suggestion: no mark
    assert m.data(m.index(m.row_of(1), COL_SUGGESTION), Qt.ItemDataRole.DecorationRole) is not None  # pictogram


def test_refit_runs_off_the_ui_thread(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    name_and_settle(qtbot, w, {0: "14"})
    threads = w.suggestions.worker_threads
    assert threads and threading.get_ident() not in threads
    # a burst of edits is debounced into fewer refits than edits, and the last state wins
    before = len(threads)
    for cid, k in ((1, "17"), (2, "13"), (3, "1")):
        w.review.name([cid], k)
        QTest.qWait(5)
    settle(qtbot, w)
    assert len(threads) - before < 3
    assert set(w.suggestions.suggestions.classes) == {"14", "17", "13", "1"}


def test_accept_suggestion_names_the_cluster_and_undo_restores(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    name_and_settle(qtbot, w, {0: "14", 1: "17"})
    s, r = w.session, w.review
    r.select([3])
    qtbot.waitUntil(lambda: r.selected == [3])
    expected = w.suggestions.cluster_suggestion(3)[0]
    assert expected in ("14", "17")
    assert "accepts" in w.clusters.center_view.suggestion.text()
    depth = r.undo_stack.count()
    w.activateWindow()
    QTest.keyClick(w.clusters.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Accept suggestion
    qtbot.waitUntil(lambda: s.cluster_names.get(3) == expected)
    assert r.undo_stack.count() == depth + 1
    assert "Accept suggestion" in w.status_line.text()
    w.act("undo").trigger()
    qtbot.waitUntil(lambda: 3 not in s.cluster_names)


def test_next_goes_to_the_review_queue_top(qtbot, tmp_path):
    from pipeline.suggest import review_queue

    w = open_window(qtbot, tmp_path)
    name_and_settle(qtbot, w, {0: "14"})
    top = review_queue(w.session, w.suggestions.suggestions, features=w.review.project.features)[0]
    w.act("queue_next").trigger()
    if top.kind == "cluster":
        qtbot.waitUntil(lambda: w.review.selected == [top.cluster_id])
    else:
        dlg = w.suggest_ui.dialog
        assert dlg is not None and set(dlg.plan.indices.tolist()) == set(top.indices.tolist())
    # with every cluster named but one, the only cluster item is that one (or an accept page for it)
    name_and_settle(qtbot, w, {1: "17", 2: "13"})
    item = w.suggestions.queue_top()
    w.act("queue_next").trigger()
    if item.kind == "cluster":
        assert item.cluster_id == 3
        qtbot.waitUntil(lambda: w.review.selected == [3])
    else:
        assert set(item.indices.tolist()) <= set(w.session.members(3).tolist())
        qtbot.waitUntil(lambda: w.suggest_ui.dialog is not None and w.suggest_ui.dialog.isVisible())


def test_disagreeing_images_get_badges_and_come_first(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    s, r, page = w.session, w.review, w.clusters
    assert r.move([6, 7], 0)  # two "17" signs into the "14" cluster
    name_and_settle(qtbot, w, {0: "14", 1: "17", 2: "13"})
    bad = w.suggestions.disagreeing_in(0)
    assert bad and bad <= {6, 7}
    assert "⚠" in column_text(w, 0)  # the table marks the named cluster
    r.select([0])
    qtbot.waitUntil(lambda: r.current == 0 and page.thumb_model.rowCount() == s.size(0))
    tm = page.thumb_model
    badges = {tm.image_index(row): tm.data(tm.index(row), SUGGEST_ROLE) for row in range(tm.rowCount())}
    assert {i for i, b in badges.items() if b} == bad
    assert all(badges[i] == r.taxonomy.name_of("17") for i in bad)
    w.suggest_ui.first_box.setChecked(True)  # the grid order "Disagreeing first"
    qtbot.waitUntil(lambda: {tm.image_index(k) for k in range(len(bad))} == bad)
    w.suggest_ui.first_box.setChecked(False)
    qtbot.waitUntil(lambda: list(tm.indices()) == list(r.stats.members[0]))


def test_map_colours_by_the_controllers_suggestions(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    name_and_settle(qtbot, w, {0: "14", 1: "17"})
    w.review_tabs.setCurrentWidget(w.map)
    qtbot.waitUntil(lambda: w.map.layout_xy is not None, timeout=60_000)
    w.map.set_color_by("suggestion")
    assert w.map.suggestions is w.suggestions.suggestions  # one implementation, shared
    code = w.review.taxonomy.ids().index("14")
    assert np.mean(w.map.codes[w.session.members(0)] == code) > 0.8


def test_zero_shot_suggestions_from_pictograms_before_any_decision(qtbot, tmp_path):
    """A real stored run (HOG, k-means): the window learns the drawn GTSRB pictograms in the
    background and suggests classes before anything is named, better than chance."""
    from demo_project import make_demo_project
    from demo_project import open_window as open_stored

    folder, store_root = make_demo_project(tmp_path)
    w = open_stored(qtbot, folder, store_root)
    c = w.suggestions
    qtbot.waitUntil(lambda: c.zero_shot is not None or not c.zero_shot_running(), timeout=240_000)  # a loaded machine
    assert c.zero_shot is not None, w.status_line.text()
    assert c.zero_shot_source == "drawn pictograms"
    qtbot.waitUntil(lambda: c.has_suggestions() and not c.busy(), timeout=30_000)
    assert c.suggestions is c.zero_shot and not c.calibrated
    s = w.session
    truth = np.asarray(s.given_labels, dtype=object)  # the demo folder's class folders
    pred = np.asarray(c.suggestions.classes, dtype=object)[c.suggestions.top]
    chance = 1.0 / len(c.suggestions.classes)
    print(f"zero-shot top-1 {np.mean(pred == truth):.3f} over {len(pred)} images, chance {chance:.3f}")
    assert np.mean(pred == truth) > 2 * chance
    assert any(column_text(w, cid) for cid in s.cluster_ids())  # the table shows them
    # the first decision replaces them with propagated suggestions
    cid = s.cluster_ids()[0]
    name_and_settle(qtbot, w, {cid: s.majority_label(cid)})
    assert c.suggestions is not c.zero_shot


def test_a_running_refit_gives_way_to_a_foreground_job_and_runs_again_after(qtbot, tmp_path, monkeypatch):
    """The first refit builds the k-NN graph (tens of seconds at 40,000 images): opening a
    folder or searching for suspects must not queue behind it."""
    import time

    import gui.controllers.suggestions as controller_module
    from pipeline.core.progress import check_cancel

    w = open_window(qtbot, tmp_path)
    settle(qtbot, w)
    c = w.suggestions
    real_job = controller_module.suggestion_job
    calls = []

    def slow_job(*args, **kwargs):
        inner = real_job(*args, **kwargs)

        def job(progress, cancel):
            calls.append("started")
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < 30 and len(calls) == 1:  # only the first one is slow
                check_cancel(cancel)
                time.sleep(0.01)
            return inner(progress, cancel)
        return job

    monkeypatch.setattr(controller_module, "suggestion_job", slow_job)
    cid = w.review.session.cluster_ids()[0]
    assert w.review.name([cid], w.review.taxonomy.ids()[0])
    qtbot.waitUntil(lambda: c._job is not None and bool(calls), timeout=10_000)
    done = []
    t0 = time.perf_counter()
    assert w.jobs.start("foreground", lambda progress, cancel: 42, done.append) is not None
    qtbot.waitUntil(lambda: done == [42], timeout=10_000)
    assert time.perf_counter() - t0 < 10  # not behind the 30 s refit
    settle(qtbot, w)  # rescheduled after the foreground job, and finished
    assert len(calls) >= 2 and c.computed_for == c.generation
