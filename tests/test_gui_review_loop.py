"""End-to-end review loop on real widgets (offscreen): open a generated folder, run the
pipeline, merge, split, move, reject, name, accept, undo/redo, kill and reopen, export."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QMessageBox

from gui.dialogs.class_picker import ClassPicker
from gui.models.cluster_list_model import CLUSTER_ID_ROLE
from gui.main_window import MainWindow
from gui_demo_project import shown_window
from gui.dialogs.review_dialogs import SplitDialog
from gui.settings import SessionStore
from pipeline.io.demo import write_demo_folder
from pipeline.review import ReviewSession

N_PER_CLASS = 6
N_CLASSES = 13


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "signs"
    write_demo_folder(folder, n_per_class=N_PER_CLASS, size=32)
    return folder


@pytest.fixture
def store(tmp_path) -> SessionStore:
    return SessionStore(tmp_path / "store")


def make_window(qtbot, store) -> MainWindow:
    return shown_window(qtbot, store, activate=True)


def key(window, key, modifier=Qt.KeyboardModifier.NoModifier, widget=None):
    """Press a key in the main window (re-activated first: a closed dialog may still be active offscreen)."""
    if QApplication.activeWindow() is not window:
        window.activateWindow()
        QApplication.setActiveWindow(window) if hasattr(QApplication, "setActiveWindow") else None
    QTest.keyClick(widget or window.clusters.table, key, modifier)


def click_cluster_row(window, qtbot, row, modifier=Qt.KeyboardModifier.NoModifier):
    table = window.clusters.table
    rect = table.visualRect(window.clusters.cluster_model.index(row, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def click_grid_row(window, qtbot, row, modifier=Qt.KeyboardModifier.NoModifier):
    rect = window.clusters.grid.visualRect(window.clusters.thumb_model.index(row))
    qtbot.mouseClick(window.clusters.grid.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def run_via_menu(window, qtbot, folder, monkeypatch, k=N_CLASSES):
    """File > Open folder, choose the hog-kmeans preset with k in the settings dialog, click Run."""
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **kw: str(folder))
    window.act("open_folder").trigger()
    dlg = window.settings_dialog
    assert dlg is not None and dlg.isVisible()
    dlg.preset.setCurrentIndex(dlg.preset.findData("hog-kmeans"))
    dlg.auto_k.setChecked(False)
    dlg.k.setValue(k)
    failed = []
    window.job_failed.connect(lambda name, msg: failed.append(msg))
    qtbot.waitExposed(dlg)
    qtbot.mouseClick(dlg.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert not dlg.isVisible(), dlg.error.text()
    qtbot.waitUntil(lambda: window.session is not None or bool(failed), timeout=120_000)
    assert not failed, window.last_error


def table_ids(window) -> list[int]:
    p = window.clusters.cluster_model
    return [int(p.data(p.index(r, 0), CLUSTER_ID_ROLE)) for r in range(p.rowCount())]


def test_full_review_loop(qtbot, demo_dir, store, monkeypatch, tmp_path):
    w = make_window(qtbot, store)
    run_via_menu(w, qtbot, demo_dir, monkeypatch)
    s = w.session
    n_images = N_PER_CLASS * N_CLASSES
    assert len(s) == n_images
    assert w.clusters.cluster_model.rowCount() == N_CLASSES
    assert w.review.current is not None
    assert w.clusters.thumb_model.rowCount() == s.size(w.review.current)
    # Grid rows are ordered by distance to the cluster center (outliers last).
    d = w.review.stats.distance[w.clusters.thumb_model.indices()]
    assert np.all(np.diff(d) >= -1e-6)
    assert "78 images" in w.counts_label.text()

    # --- merge two clusters (click, Ctrl+click, M)
    click_cluster_row(w, qtbot, 0)
    click_cluster_row(w, qtbot, 1, Qt.KeyboardModifier.ControlModifier)
    a, b = w.review.selected[:2]
    size_ab = s.size(a) + s.size(b)
    key(w, Qt.Key.Key_M)
    qtbot.waitUntil(lambda: w.clusters.cluster_model.rowCount() == N_CLASSES - 1)
    merged = min(a, b)
    assert s.size(merged) == size_ab and not s.has_cluster(max(a, b))
    assert w.review.current == merged and w.clusters.thumb_model.rowCount() == size_ab

    # --- undo / redo with the keyboard
    key(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.clusters.cluster_model.rowCount() == N_CLASSES)
    assert s.has_cluster(max(a, b))
    key(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: w.clusters.cluster_model.rowCount() == N_CLASSES - 1)
    assert w.review.undo_stack.count() == 1

    # --- split the merged cluster back into 2 parts (S, dialog, k-means in the model thread)
    w.review.select([merged])
    key(w, Qt.Key.Key_S)
    dlg = w.clusters.dialog
    assert isinstance(dlg, SplitDialog) and dlg.isVisible()
    dlg.parts.setValue(2)
    with qtbot.waitSignal(w.job_finished, timeout=60_000):
        dlg.accept()
    qtbot.waitUntil(lambda: w.clusters.cluster_model.rowCount() == N_CLASSES)
    assert w.review.undo_stack.count() == 2
    assert sum(s.size(c) for c in w.review.selected) == size_ab

    # --- move two images of the shown cluster to a new cluster (click, Ctrl+click, N)
    cid = w.review.current
    click_grid_row(w, qtbot, 0)
    click_grid_row(w, qtbot, 1, Qt.KeyboardModifier.ControlModifier)
    moving = w.review.selected_images
    assert len(moving) == 2
    key(w, Qt.Key.Key_N, widget=w.clusters.grid)
    qtbot.waitUntil(lambda: w.clusters.cluster_model.rowCount() == N_CLASSES + 1)
    new_cid = s.cluster_of(moving[0])
    assert new_cid not in (cid,) and s.cluster_of(moving[1]) == new_cid
    assert w.review.current == cid  # the reviewer stays on the cluster they were cleaning

    # --- move one image to an existing cluster through the move dialog (V)
    click_grid_row(w, qtbot, 0)
    img = w.review.selected_images[0]
    key(w, Qt.Key.Key_V, widget=w.clusters.grid)
    mdlg = w.clusters.dialog
    mdlg.select_cluster(new_cid)
    mdlg.accept()
    qtbot.waitUntil(lambda: s.cluster_of(img) == new_cid)

    # --- reject an image (X) and un-reject it again (X)
    click_grid_row(w, qtbot, 0)
    rej = w.review.selected_images[0]
    key(w, Qt.Key.Key_X, widget=w.clusters.grid)
    qtbot.waitUntil(lambda: rej in s.rejected)
    qtbot.waitUntil(lambda: "1 rejected" in w.counts_label.text())

    # --- name the shown cluster through the searchable picker (L, type, Enter)
    w.review.select([cid])
    key(w, Qt.Key.Key_L)
    picker = w.clusters.dialog
    assert isinstance(picker, ClassPicker)
    QTest.keyClicks(picker.search, "stop")
    assert picker.chosen() == "14"
    QTest.keyClick(picker.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: s.cluster_names.get(cid) == "14")

    # --- accept the cluster (A) -> moves on to the next one
    click_cluster_row(w, qtbot, 0)
    acc = w.review.current
    key(w, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: acc in s.accepted)
    qtbot.waitUntil(lambda: w.review.current == table_ids(w)[1])
    n_steps = w.review.undo_stack.count()
    assert n_steps == 7

    # --- the autosaved file holds exactly the current state
    saved = ReviewSession.load(store.session_path(demo_dir))
    assert np.array_equal(saved.assignments, s.assignments)
    assert saved.cluster_names == s.cluster_names and saved.rejected == s.rejected and saved.accepted == s.accepted

    # --- "kill" the app (no close, no extra save) and reopen the folder in a new window
    w2 = make_window(qtbot, store)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **kw: str(demo_dir))
    with qtbot.waitSignal(w2.session_installed, timeout=10_000):
        w2.act("open_folder").trigger()  # cached project: restored, no settings dialog, no pipeline run
    assert w2.settings_dialog is None
    s2 = w2.session
    assert np.array_equal(s2.assignments, s.assignments)
    assert s2.cluster_names == s.cluster_names and s2.rejected == s.rejected and s2.accepted == s.accepted
    assert sorted(table_ids(w2)) == sorted(s.cluster_ids())
    assert str(demo_dir.resolve()) in store.recent_folders()

    # --- export the CSV through the menu action and check every row
    out = tmp_path / "labels.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **kw: (str(out), "CSV (*.csv)"))
    w2.act("export_csv").trigger()
    assert out.is_file()
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == n_images
    for i, row in enumerate(rows):
        assert row["path"] == s2.paths[i]
        assert int(row["cluster_id"]) == s2.cluster_of(i)
        cls = s2.class_of_image(i)
        assert row["class_id"] == (cls or "")
        assert row["class_name"] == (w2.review.taxonomy.name_of(cls) if cls else "")
        assert row["original_label"] == Path(s2.paths[i]).parent.name
        assert row["changed"] == ("yes" if s2.is_changed(i) else "no")
        assert row["reviewed"] == ("yes" if s2.is_reviewed(i) else "no")
    stop_rows = [r for r in rows if r["class_id"] == "14"]
    assert stop_rows and all(r["class_name"] == "Stop" for r in stop_rows)
    assert rows[rej]["class_id"] == ""  # rejected: no class

    # --- the export refuses to overwrite silently: "No" keeps the file, a direct call refuses
    before = out.read_bytes()
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **kw: asked.append(a) or QMessageBox.StandardButton.No)
    w2.act("export_csv").trigger()
    assert asked and out.read_bytes() == before
    assert not w2.review.export_csv_to(out)
    assert w2.error_banner.isVisible() and "already exists" in w2.last_error

    # --- folder-tree export (copies) runs in the worker with progress
    tree = tmp_path / "tree"
    with qtbot.waitSignal(w2.job_finished, timeout=30_000):
        w2.review.export_tree_to(tree, "copy")
    assert (tree / "14_Stop").is_dir() or any(p.name.startswith("14") for p in tree.iterdir())
    assert sum(1 for p in tree.rglob("*.png")) == n_images


def test_dendrogram_cut_merges_in_one_undo_step(qtbot, demo_dir, store, monkeypatch):
    w = make_window(qtbot, store)
    w.projects.run_in_process = False  # the in-thread path (the other tests use the child process)
    run_via_menu(w, qtbot, demo_dir, monkeypatch)
    s = w.session
    w.clusters.tabs.setCurrentWidget(w.clusters.dendrogram)
    # The dendrogram is painted a moment after the table (ClustersPage.tree.soon()): wait for it,
    # or the cut below previews the tree of nothing and the next paint clears it.
    qtbot.waitUntil(lambda: w.clusters.dendrogram.linkage is not None
                    and sorted(w.clusters.dendrogram.ids) == sorted(s.cluster_ids()))
    heights = w.clusters.dendrogram.linkage[:, 2]
    cut = float(np.sort(heights)[3]) + 1e-9  # merges the 4 closest pairs/chains
    w.clusters.dendrogram.set_cut(cut)
    groups = w.clusters.dendrogram.pending_groups()
    expected = N_CLASSES - sum(len(g) - 1 for g in groups)
    assert expected < N_CLASSES
    qtbot.mouseClick(w.clusters.dendrogram.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(s.cluster_ids()) == expected)
    assert w.review.undo_stack.count() == 1
    w.act("undo").trigger()
    qtbot.waitUntil(lambda: len(s.cluster_ids()) == N_CLASSES)

    # Clicking a branch selects the clusters under it.
    order = w.clusters.dendrogram.leaf_order()
    got = w.clusters.dendrogram.branch_at(0.0, 5.0)
    assert got == [order[0]]
    root = int(np.argmax(w.clusters.dendrogram._dcoord[:, 1]))
    ic = w.clusters.dendrogram._icoord[root]
    top = float(w.clusters.dendrogram._dcoord[root, 1])
    assert sorted(w.clusters.dendrogram.branch_at(top, (ic[1] + ic[2]) / 2)) == sorted(order)
    # A real mouse click on a branch (the plot's viewport, through pyqtgraph's scene) selects
    # the clusters under it, in the controller and in the table.
    dendro = w.clusters.dendrogram
    w.review.select([order[0]])
    links = [r for r in range(len(dendro._dcoord)) if r != root]
    row = max(links, key=lambda r: len(dendro.branch_at(float(dendro._dcoord[r, 1]),
                                                         (dendro._icoord[r][1] + dendro._icoord[r][2]) / 2)))
    height = float(dendro._dcoord[row, 1])
    leaf_pos = (dendro._icoord[row][1] + dendro._icoord[row][2]) / 2
    expected = sorted(dendro.branch_at(height, leaf_pos))
    assert 2 <= len(expected) < N_CLASSES
    qtbot.waitUntil(lambda: dendro.plot.isVisible() and dendro.plot.viewport().width() > 50)
    vb = dendro.plot.getViewBox()
    pos = dendro.plot.mapFromScene(vb.mapViewToScene(QPointF(height, leaf_pos)))
    clicked = []
    dendro.clusters_clicked.connect(clicked.append)
    qtbot.mouseClick(dendro.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: bool(clicked), timeout=5000)
    assert sorted(clicked[0]) == expected
    assert sorted(w.review.selected) == expected
    assert sorted(w.clusters.table_selection()) == expected
    assert w.review.current in expected


def test_failed_run_is_shown_not_raised(qtbot, store, tmp_path):
    from pipeline.config import get_preset

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    w = make_window(qtbot, store)
    with qtbot.waitSignal(w.job_failed, timeout=30_000):
        w.projects.open_folder(empty, config=get_preset("hog-kmeans").with_k(3))
    assert w.error_banner.isVisible()
    assert "failed" in w.last_error
    assert w.session is None and w.isVisible()
    assert not w.progress_panel.isVisible()


def test_cancel_stops_a_running_job(qtbot, store):
    import time as _time

    from pipeline.core.progress import report

    w = make_window(qtbot, store)

    def slow(progress, cancel):
        for i in range(2000):
            cancel.raise_if_cancelled()
            report(progress, "working", i, 2000)
            _time.sleep(0.005)
        return "finished"

    got = []
    job = w.jobs.start("Slow job", slow, got.append, name="slow")
    qtbot.waitUntil(lambda: w.progress_panel.bar.value() > 0, timeout=10_000)
    assert w.progress_panel.isVisible() and "working" in w.progress_panel.stage.text()
    assert "elapsed" in w.progress_panel.times.text()
    with qtbot.waitSignal(w.job_failed, timeout=10_000) as blocker:
        qtbot.mouseClick(w.progress_panel.cancel, Qt.MouseButton.LeftButton)
    assert blocker.args == ["slow", "cancelled"]
    assert got == [] and job is not None


def test_open_saved_session_file_and_drop(qtbot, demo_dir, store, monkeypatch, tmp_path):
    w = make_window(qtbot, store)
    run_via_menu(w, qtbot, demo_dir, monkeypatch)
    cid = w.session.cluster_ids()[0]
    w.review.name([cid], "13")
    copy = tmp_path / "my-review.json"
    w.review.save_session_to(copy)
    w.close()

    w2 = make_window(qtbot, store)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **kw: (str(copy), ""))
    with qtbot.waitSignal(w2.session_installed, timeout=10_000):
        w2.act("open_session").trigger()
    assert w2.session.cluster_names[cid] == "13"
    # Edits now autosave into the opened file.
    w2.review.name([cid], "14")
    assert ReviewSession.load(copy).cluster_names[cid] == "14"
    # Dropping a non-image file shows an error instead of failing.
    w2.projects.open_path(tmp_path / "nothing.txt")
    assert w2.error_banner.isVisible()


def test_cancel_a_pipeline_running_in_its_process(qtbot, demo_dir, store):
    import os
    import re

    from pipeline.config import get_preset

    w = make_window(qtbot, store)
    assert w.projects.run_in_process
    job = w.projects.run_pipeline(demo_dir, get_preset("hog-kmeans").with_k(N_CLASSES))
    pids = []
    job.progress.connect(lambda p: pids.extend(int(m) for m in re.findall(r"pipeline process (\d+) running",
                                                                        p.message or "")))
    qtbot.waitUntil(lambda: bool(pids), timeout=60_000)  # the child reported itself: it really runs
    pid = pids[0]
    assert pid != os.getpid()
    os.kill(pid, 0)  # alive (raises if not)
    assert w.act("cancel").isEnabled()
    with qtbot.waitSignal(w.job_failed, timeout=60_000) as blocker:
        w.act("cancel").trigger()
    assert blocker.args == ["pipeline", "cancelled"]
    assert job.done and w.session is None and not w.jobs.busy()
    assert not store.has_project(demo_dir)
    with pytest.raises(ProcessLookupError):  # the child is gone (joined or terminated)
        os.kill(pid, 0)
