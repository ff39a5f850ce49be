"""The window says what it did and why it cannot: status messages for edits, undo and redo
(which jump to the cluster they touched), reasons for keys that cannot apply, Esc, the
locked old review while a new folder runs, the first settings of a new folder, an empty
folder refused before the settings dialog, error texts without class names, busy progress."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from gui_demo_project import shown_window
from gui.settings import SessionStore
from pipeline.config import DEFAULT_PRESET
from pipeline.core.items import ImageItem
from pipeline.core.progress import Progress
from pipeline.project.store import ProjectData
from pipeline.review import ReviewSession

N_PER = 6


def write_project(root: Path, store: SessionStore, name: str = "signs") -> Path:
    """A stored project of three separated blobs (clusters 0, 1, 2) with real PNG files."""
    folder = root / name
    folder.mkdir()
    rng = np.random.default_rng(0)
    paths, labels = [], []
    for c in range(3):
        for i in range(N_PER):
            p = folder / f"c{c}_{i}.png"
            Image.new("RGB", (16, 16), (80 * c, 40 + 10 * i, 200 - 60 * c)).save(p)
            paths.append(str(p))
            labels.append(str(c))
    feats = np.concatenate([np.eye(3, 4)[c] * 10 + rng.normal(size=(N_PER, 4)) for c in range(3)]).astype(np.float32)
    images = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths])
    data = ProjectData(str(folder.resolve()), [ImageItem(p, g) for p, g in zip(paths, labels)], feats, images,
                       {"name": "hog-kmeans", "k": 3})
    store.save_project(data)
    session = ReviewSession.from_result(data.folder, data.config, paths, labels, np.repeat(np.arange(3), N_PER))
    session.save(store.session_path(folder))
    return folder


@pytest.fixture
def store(tmp_path) -> SessionStore:
    return SessionStore(tmp_path / "store")


@pytest.fixture
def window(qtbot, store):
    return shown_window(qtbot, store, activate=True)


@pytest.fixture
def opened(qtbot, window, store, tmp_path):
    folder = write_project(tmp_path, store)
    assert window.projects.restore_project(folder)
    qtbot.waitUntil(lambda: window.review.current is not None)
    return window


def message(w) -> str:
    return w.status_line.message()


def test_undo_and_redo_say_which_edit_and_select_its_clusters(qtbot, opened):
    w, r = opened, opened.review
    assert r.merge([0, 1])
    assert "Merge clusters 0, 1" in message(w) and "Ctrl+Z" in message(w)
    qtbot.waitUntil(lambda: r.session.has_cluster(0) and not r.session.has_cluster(1))
    r.select([2])
    assert r.selected == [2]
    w.act("undo").trigger()
    assert message(w).startswith("Undone: Merge clusters 0, 1")
    qtbot.waitUntil(lambda: r.selected == [0, 1])
    assert r.current == 0 and r.session.has_cluster(1)
    assert w.clusters.table_selection() and sorted(w.clusters.table_selection()) == [0, 1]
    r.select([2])
    w.act("redo").trigger()
    assert message(w).startswith("Redone: Merge clusters 0, 1")
    qtbot.waitUntil(lambda: r.selected == [0])


def test_every_edit_posts_what_it_did(qtbot, opened):
    w, r = opened, opened.review
    assert r.name([2], "14")
    assert "Name cluster 2 as 14" in message(w)
    assert r.accept([2])
    assert "Accept cluster 2" in message(w)
    qtbot.waitUntil(lambda: r.current is not None)
    r.select([0])
    qtbot.waitUntil(lambda: w.clusters.thumb_model.rowCount() == N_PER)
    w.clusters.grid.setCurrentIndex(w.clusters.thumb_model.index(0))
    assert len(r.selected_images) == 1
    n_before = len(r.session.cluster_ids())
    w.act("move_new").trigger()
    assert message(w).startswith("Moved 1 image to a new cluster #3")
    qtbot.waitUntil(lambda: len(r.session.cluster_ids()) == n_before + 1)


def test_a_key_that_cannot_apply_says_why(qtbot, opened):
    w, r = opened, opened.review
    assert r.selected_images == [] and not w.act("move_new").isEnabled()
    n_before = len(r.session.cluster_ids())
    QTest.keyClick(w.clusters.table, Qt.Key.Key_N)
    assert "new cluster" in message(w) and "select images in the grid first" in message(w)
    assert len(r.session.cluster_ids()) == n_before
    r.select([0])
    QTest.keyClick(w.clusters.table, Qt.Key.Key_M)
    assert "select at least two clusters" in message(w)
    w.say("")
    QTest.keyClick(w.clusters.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "nothing to undo" in message(w)


def test_escape_clears_the_image_then_the_cluster_selection(qtbot, opened):
    w, r = opened, opened.review
    r.select([1])
    qtbot.waitUntil(lambda: w.clusters.thumb_model.rowCount() == N_PER)
    w.clusters.grid.setFocus()
    w.clusters.grid.selectAll()
    assert len(r.selected_images) == N_PER
    QTest.keyClick(w.clusters.grid, Qt.Key.Key_Escape)
    assert r.selected_images == [] and not w.clusters.grid.selectionModel().selectedIndexes()
    assert message(w) == "Image selection cleared" and r.selected == [1]
    QTest.keyClick(w.clusters.grid, Qt.Key.Key_Escape)
    assert r.selected == [] and w.clusters.table_selection() == []
    assert message(w) == "Cluster selection cleared"
    QTest.keyClick(w.clusters.table, Qt.Key.Key_Escape)
    assert "nothing is selected" in message(w)


def test_the_old_review_is_locked_while_a_new_folder_runs(qtbot, opened, tmp_path, monkeypatch):
    import gui.controllers.project as project_module
    from pipeline.config import get_preset

    w = opened
    other = tmp_path / "other"
    other.mkdir()
    Image.new("RGB", (8, 8)).save(other / "a.png")
    started = threading.Event()

    def slow_run(config, folder, source, store_root, progress, cancel):
        started.set()
        while not cancel.cancelled:
            cancel._event.wait(0.02)
        cancel.raise_if_cancelled()

    monkeypatch.setattr(project_module, "run_and_store_in_process", slow_run)
    w.projects.run_pipeline(other, get_preset("hog-kmeans").with_k(3))
    qtbot.waitUntil(started.is_set)
    assert "running on other" in w.windowTitle() and "signs" in w.windowTitle()
    assert w.run_notice.isVisible() and "read-only" in w.run_notice.text()
    assert "read-only while the new run goes" in w.review.read_only
    assert not w.review.name([0], "14") and w.session.cluster_names.get(0) is None  # refused, with the reason
    assert "read-only" in w.last_error
    for action_id in ("name", "accept", "export_csv", "save_as", "undo", "merge", "move_new", "run"):
        assert not w.act(action_id).isEnabled(), action_id
    QTest.keyClick(w, Qt.Key.Key_A)
    assert "locked" in message(w)
    w.cancel_job()
    qtbot.waitUntil(lambda: not w.jobs.busy(), timeout=10_000)
    assert w.windowTitle() == "Cluster Review — signs"
    assert w.review.read_only == "" and not w.run_notice.isVisible()
    assert w.act("export_csv").isEnabled()


def test_a_new_folder_starts_from_the_recommended_preset(qtbot, opened, tmp_path, monkeypatch):
    w = opened
    new = tmp_path / "new"
    new.mkdir()
    Image.new("RGB", (8, 8)).save(new / "a.png")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **kw: str(new))
    w.act("open_folder").trigger()
    dlg = w.settings_dialog
    assert dlg is not None and dlg.isVisible()
    assert dlg.preset.currentData() == DEFAULT_PRESET
    assert dlg.k.value() == 43  # one cluster per class of the (GTSRB) taxonomy
    assert "Custom" not in dlg.description.text()
    dlg.k.setValue(12)
    assert dlg.preset.currentData() is None
    assert dlg.description.text() == f"Custom settings, changed from the {DEFAULT_PRESET} preset."
    dlg.reject()
    # re-running the open folder starts from the settings it was made with
    dlg2 = w.ask_settings(Path(w.session.folder))
    assert dlg2.preset.currentData() == "hog-kmeans" and dlg2.k.value() == 3
    dlg2.reject()


def test_an_empty_folder_is_refused_before_the_settings_dialog(qtbot, window, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "notes.txt").write_text("no images")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **kw: str(empty))
    window.act("open_folder").trigger()
    assert window.settings_dialog is None
    assert not window.jobs.busy()
    assert window.last_error.startswith("No images in empty")
    assert window.error_banner.isVisible()


def test_error_texts_name_no_exception_class(qtbot, window):
    window.show_error("Running best on x failed: SourceError: no images found in /x")
    assert window.last_error == "Running best on x failed: no images found in /x"
    assert "Error" not in window.error_banner.message.text()

    def boom(progress, cancel):
        raise KeyError()

    with qtbot.waitSignal(window.job_failed, timeout=10_000):
        window.jobs.start("Exporting", boom, lambda _: None, name="export")
    assert "KeyError" not in window.last_error and "unexpected error" in window.last_error
    assert "KeyError" in window.error_banner.details.toPlainText()  # the class stays in the details


def test_progress_shows_busy_and_elapsed_for_stages_that_cannot_count(qtbot, window):
    panel = window.progress_panel
    panel.start("Running best on GTSRB")
    panel.update_progress(Progress("clustering: ward linkage", 0, 1))
    assert panel.bar.maximum() == 0  # a busy bar, not 0 %
    assert panel.times.text().startswith("busy 0s · elapsed")
    panel.update_progress(Progress("extracting features", 10, 100))
    assert panel.bar.maximum() == 1000 and panel.bar.value() == 100
    panel._stage_t0 -= 2.0  # two seconds into the stage at 10 %: 18 s left
    panel._tick()
    assert panel.times.text().endswith("18s left")
    assert Progress("reducing", 0, 1).indeterminate and Progress("x", 0, 0).indeterminate
    assert not Progress("x", 1, 1).indeterminate and not Progress("x", 0, 5).indeterminate
    panel.stop()


def test_a_finished_run_is_installed_with_statistics_from_the_model_thread(qtbot, window, store, tmp_path,
                                                                            monkeypatch):
    import gui.controllers.project as project_module
    from gui.controllers.review import ReviewController
    from pipeline.config import get_preset

    folder = write_project(tmp_path, store, "done")
    monkeypatch.setattr(project_module, "run_and_store_in_process", lambda *a, **kw: None)  # result is stored
    import gui.main_window as main_window_module

    ui_thread = []
    monkeypatch.setattr(ReviewController, "compute_stats", lambda self: ui_thread.append("stats"))
    monkeypatch.setattr(main_window_module, "counts_text", lambda s: ui_thread.append("counts") or "")
    monkeypatch.setattr(main_window_module, "can_find_suspects", lambda s: ui_thread.append("labels") or False)
    with qtbot.waitSignal(window.session_installed, timeout=20_000):
        window.projects.run_pipeline(folder, get_preset("hog-kmeans").with_k(3))
    assert ui_thread == []  # all three came from the model thread
    assert window.counts_label.text().startswith(f"{3 * N_PER} images")
    assert window.act("suspects").isEnabled()  # labels 0, 1, 2 allow a mislabel search
    assert window.review.stats is not None and len(window.review.stats.distance) == 3 * N_PER
    assert window.windowTitle() == "Cluster Review — done"


def test_the_application_keeps_installed_projects_out_of_full_collections(qtbot, opened, store, tmp_path,
                                                                           monkeypatch):
    import gc

    import gui.controllers.project as project_module
    from pipeline.config import get_preset

    folder = write_project(tmp_path, store, "again")
    monkeypatch.setattr(project_module, "run_and_store_in_process", lambda *a, **kw: None)
    monkeypatch.setattr(opened, "freeze_gc_after_install", True)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        with qtbot.waitSignal(opened.session_installed, timeout=20_000):
            opened.projects.run_pipeline(folder, get_preset("hog-kmeans").with_k(3))
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
