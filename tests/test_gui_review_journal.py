"""The window's review controllers on the SQLite store: undo after reopening, read-only while another
controller holds the project, a damaged review offering its last good copy, and the re-run question."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QMessageBox, QWidget

from gui.controllers.project import ProjectController
from gui.controllers.review import ReviewController
from gui.dialogs import file_prompts
from gui.jobs.runner import JobRunner
from gui.settings import SessionStore
from pipeline.core.items import ImageItem
from pipeline.project.sessions import load_project_session
from pipeline.project.store import ProjectData
from pipeline.review import ReviewSession, Taxonomy
from pipeline.review.session_db import SessionDB

N_PER = 8


@pytest.fixture
def project(tmp_path):
    """A stored project: three blobs of 8 images as clusters 0, 1, 2, its review in the store's database."""
    store = SessionStore(tmp_path / "store")
    folder = tmp_path / "signs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    feats = np.concatenate([c + rng.normal(size=(N_PER, 4)) for c in np.eye(3, 4) * 10]).astype(np.float32)
    labels = [lab for lab in "abc" for _ in range(N_PER)]
    paths = [str(folder / f"img_{i}.png") for i in range(len(labels))]
    data = ProjectData(str(folder), [ImageItem(p, g) for p, g in zip(paths, labels)], feats,
                       np.zeros((len(labels), 8, 8, 3), np.uint8), {"seed": 0})
    store.save_project(data)
    session = ReviewSession.from_result(str(folder), {"seed": 0}, paths, labels, np.repeat(np.arange(3), N_PER))
    SessionDB.create(store.new_session_path(folder, "run"), session).close()
    runner = JobRunner(warm_up=False)
    yield store, folder, runner
    runner.shutdown()


def open_controller(store, folder, runner) -> ReviewController:
    session, path = load_project_session(store, folder)
    ctl = ReviewController(runner, Taxonomy.gtsrb())
    ctl.install(store.load_project(folder), session, path)
    return ctl


def test_undo_after_reopening_undoes_the_last_edit_of_the_previous_run(qtbot, project):
    store, folder, runner = project
    ctl = open_controller(store, folder, runner)
    assert not ctl.read_only and ctl.undo_stack.count() == 0
    assert ctl.merge([0, 1])
    assert ctl.name([2], "c")
    ctl.teardown()  # the window closes

    again = open_controller(store, folder, runner)
    s = again.session
    assert s.cluster_ids() == [0, 2] and s.cluster_names == {2: "c"}
    assert again.undo_stack.count() == 2 and again.undo_stack.canUndo()
    assert again.undo_stack.undoText() == "Name cluster 2 as c"
    assert again.undo()  # Ctrl+Z
    assert s.cluster_names == {}
    assert ReviewSession.load(store.session_path(folder)).cluster_names == {}  # stored at once
    assert again.undo()
    assert s.cluster_ids() == [0, 1, 2]
    assert again.redo()
    assert s.cluster_ids() == [0, 2]
    again.teardown()

    # the redo step survives a reopen too
    third = open_controller(store, folder, runner)
    assert third.undo_stack.count() == 2 and third.undo_stack.index() == 1
    assert third.undo_stack.canRedo() and third.redo()
    assert third.session.cluster_names == {2: "c"}
    assert ReviewSession.load(store.session_path(folder)).cluster_names == {2: "c"}
    third.teardown()


def test_second_controller_is_read_only_with_the_holder_named(qtbot, project):
    store, folder, runner = project
    first = open_controller(store, folder, runner)
    errors = []
    second = ReviewController(runner, Taxonomy.gtsrb())
    second.error.connect(lambda msg, details: errors.append(msg))
    session, path = load_project_session(store, folder)
    second.install(store.load_project(folder), session, path)
    assert second.read_only and "read-only" in second.read_only
    assert f"process {__import__('os').getpid()}" in second.read_only
    assert errors and errors[0] == second.read_only  # shown when it opens
    assert not second.merge([0, 1])  # edits are refused, with the reason
    assert second.session.cluster_ids() == [0, 1, 2] and len(errors) == 2
    assert first.merge([0, 1])  # the holder edits as before
    second.teardown()
    first.teardown()
    # once the holder closed, the next window edits
    third = open_controller(store, folder, runner)
    assert not third.read_only and third.name([0], "a")
    third.teardown()


def test_a_damaged_review_offers_the_last_good_copy(qtbot, project):
    store, folder, runner = project
    ctl = open_controller(store, folder, runner)  # opening kept a good copy
    ctl.merge([0, 1])
    ctl.teardown()
    path = store.session_path(folder)
    raw = bytearray(path.read_bytes())
    path.write_bytes(bytes(raw[: len(raw) // 2]))  # truncated by a crash of the disk or a sync tool

    projects = ProjectController(store, runner)
    offered, loaded = [], []
    projects.damaged.connect(lambda f, text: offered.append((f, text)))
    projects.loaded.connect(lambda *args: loaded.append(args))
    assert not projects.restore_project(folder)
    assert offered and "is damaged" in offered[0][1] and "last good copy" in offered[0][1]
    assert projects.recover(folder)
    data, session, new_path, _ = loaded[-1]
    assert new_path != path and path in store.archived_sessions(folder)  # the damaged file is kept
    assert session.cluster_ids() == [0, 1, 2]  # the state when it was last opened


def test_rerun_question_says_the_old_review_is_kept(qtbot, monkeypatch):
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda parent, title, text: asked.append(text) or QMessageBox.StandardButton.No)
    parent = QWidget()
    qtbot.addWidget(parent)
    assert not file_prompts.confirm_rerun(parent)
    assert "kept in the project's history" in asked[0] and ".bak" not in asked[0]


def test_a_second_window_shows_the_project_read_only(qtbot, project):
    from gui.actions import SPECS, disabled_reason
    from gui.main_window import MainWindow

    store, folder, runner = project
    windows = []
    for _ in range(2):
        w = MainWindow(store=store)
        qtbot.addWidget(w)
        with qtbot.waitSignal(w.session_installed, timeout=10_000):
            assert w.projects.restore_project(folder)
        windows.append(w)
    first, second = windows
    assert not first.review.read_only and second.review.read_only
    assert "read-only" in second.last_error  # the banner says who holds it
    second.review.select([0, 1])
    second.update_actions()
    assert not second.act("merge").isEnabled() and not second.act("run").isEnabled()
    assert second.act("export_csv").isEnabled()  # reading and exporting still work
    assert "read-only" in disabled_reason(SPECS["merge"], second.action_state())
    first.review.select([0, 1])
    first.update_actions()
    assert first.act("merge").isEnabled()
    for w in windows:
        w.close()


def test_history_dialog_goes_to_any_state_and_reopens_an_earlier_review(qtbot, project):
    from gui.main_window import MainWindow

    store, folder, runner = project
    first_file = store.session_path(folder)
    w = MainWindow(store=store)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.session_installed, timeout=10_000):
        assert w.projects.restore_project(folder)
    r = w.review
    assert r.merge([0, 1]) and r.name([2], "c") and r.undo()  # the name is undone: grey in the history
    w.act("history").trigger()
    dlg = w.dialog
    assert dlg is not None and dlg.isVisible()
    rows = [dlg.edits.topLevelItem(i) for i in range(dlg.edits.topLevelItemCount())]
    assert [row.text(3) for row in rows] == ["Name cluster 2 as c", "Merge clusters 0, 1 into 0   ← current state",
                                             "The clusters as the pipeline run produced them (before any edit)"]
    assert rows[0].foreground(3).color() != rows[1].foreground(3).color()  # undone: shown differently
    assert dlg.archived.topLevelItemCount() == 0  # no earlier review yet
    dlg.edits.setCurrentItem(rows[0])
    with qtbot.waitSignal(r.flushed, timeout=5000):
        dlg.go_button.click()
    assert r.session.cluster_names == {2: "c"} and r.session.cluster_ids() == [0, 2]
    assert r.undo_stack.count() == 2 and r.undo_stack.index() == 2
    assert ReviewSession.load(store.session_path(folder)).cluster_names == {2: "c"}

    # a re-run made a new review; the first one is listed and can be reopened (as a copy)
    w.review.teardown()
    session = ReviewSession.from_result(str(folder), {}, r.project.items and [it.path for it in r.project.items],
                                        None, np.zeros(3 * N_PER, int))
    SessionDB.create(store.new_session_path(folder, "run"), session).close()
    with qtbot.waitSignal(w.session_installed, timeout=10_000):
        assert w.projects.restore_project(folder)
    assert w.session.cluster_ids() == [0]
    w.act("history").trigger()
    dlg = w.dialog
    assert dlg.archived.topLevelItemCount() == 1 and dlg.archived.topLevelItem(0).text(0) == first_file.name
    dlg.archived.setCurrentItem(dlg.archived.topLevelItem(0))
    with qtbot.waitSignal(w.session_installed, timeout=10_000):
        dlg.reopen_button.click()
    assert w.session.cluster_names == {2: "c"} and w.session.cluster_ids() == [0, 2]
    assert len(store.session_files(folder)) == 3  # nothing was overwritten
    w.close()


def test_a_damaged_review_without_a_good_copy_asks_for_a_new_run_and_keeps_the_file(qtbot, project):
    store, folder, runner = project
    path = store.session_path(folder)  # never opened: no good copy yet
    path.write_bytes(path.read_bytes()[:2000])
    projects = ProjectController(store, runner)
    errors, asked = [], []
    projects.error.connect(lambda msg, details: errors.append(msg))
    projects.settings_needed.connect(asked.append)
    assert not projects.restore_project(folder)
    assert errors and "is damaged" in errors[0] and "start over" in errors[0]
    assert asked == [folder]
    assert path.is_file()  # kept; a new run adds a new file beside it
