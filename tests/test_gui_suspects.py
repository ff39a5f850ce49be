"""The Suspects view: ranking, one-key decisions, undo/redo, autosave and CSV export."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QUndoStack
from PySide6.QtTest import QTest

from gui.models.suspects_model import (
    ACCEPTED,
    COL_DECISION,
    FILTER_UNDECIDED,
    KEPT,
    REJECTED,
    RELABELED,
    UNDECIDED,
    SuspectsModel,
    class_pixmap,
)
from gui.views.suspects_view import SuspectsView
from gui.jobs.suspects_job import can_find_suspects, labelled_images, suspects_job
from pipeline.config import get_preset
from pipeline.io.demo import render_signs
from pipeline.mislabels import MislabelFinder
from pipeline.core.progress import CancelToken, Cancelled
from pipeline.review import Autosaver, ReviewSession, Taxonomy, export_csv

CLASSES = ["1", "2", "12", "13", "14", "17", "18", "38"]
N_PER_CLASS = 20
N_FLIPS = 16  # 10% of 160


@pytest.fixture(scope="module")
def labelled_set():
    """Synthetic signs with 10% of the labels flipped, their features and the true labels."""
    from pipeline.run import compute_features

    images, truth = render_signs(N_PER_CLASS, seed=0, size=32, classes=CLASSES)
    config = get_preset("hog-kmeans")
    config.pca = 30
    features = compute_features(config, images)
    rng = np.random.default_rng(0)
    flipped = rng.choice(len(truth), N_FLIPS, replace=False)
    noisy = list(truth)
    for i in flipped:
        others = [c for c in CLASSES if c != truth[i]]
        noisy[i] = others[int(rng.integers(len(others)))]
    # A near-duplicate of image 0 carrying another label (a duplicate conflict) ...
    images = np.concatenate([images, images[:1]])
    features = np.vstack([features, features[:1] + 1e-4])
    truth.append(truth[0])
    noisy.append(next(c for c in CLASSES if c != truth[0]))
    flipped = list(flipped) + [len(truth) - 1]
    # ... and a far-away image that fits no class (an outlier).
    far = rng.normal(size=features.shape[1]).astype(np.float32)
    images = np.concatenate([images, rng.integers(0, 255, (1,) + images.shape[1:], dtype=np.uint8)])
    features = np.vstack([features, 3 * far / np.linalg.norm(far)])
    truth.append(truth[1])
    noisy.append(truth[1])
    return images, features, truth, noisy, set(int(i) for i in flipped)


@pytest.fixture(scope="module")
def report(labelled_set):
    _, features, _, noisy, _ = labelled_set
    return MislabelFinder(cv=3, seed=0).fit(features, noisy)


def assert_rendered(image: QImage, width: int, height: int, min_colors: int = 20) -> None:
    """``image`` has the widget's size and real content: many distinct colours, not one flat fill."""
    assert not image.isNull() and image.width() >= width and image.height() >= height
    step = max(1, min(image.width(), image.height()) // 40)
    colors = {image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)}
    assert len(colors) >= min_colors, len(colors)


def _session(tmp_path: Path, noisy) -> ReviewSession:
    paths = [str(tmp_path / f"img_{i:03d}.png") for i in range(len(noisy))]  # thumbnails use the array
    return ReviewSession("demo", {}, paths, noisy, np.zeros(len(noisy), dtype=np.int64))


def _view(qtbot, session, report, images, stack, **kw) -> SuspectsView:
    view = SuspectsView(session, report, Taxonomy.gtsrb(), stack, images=images, **kw)
    qtbot.addWidget(view)
    view.resize(1250, 640)
    view.show()
    qtbot.waitExposed(view)
    return view


def _press(view: SuspectsView, key) -> None:
    view.table.setFocus()
    QTest.keyClick(view.table, key)


def _csv_rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_flipped_labels_rank_first_and_model_lists_them(qtbot, tmp_path, labelled_set, report):
    images, _, truth, noisy, flipped = labelled_set
    top = [int(i) for i in report.ranked(N_FLIPS)]
    assert len(set(top) & flipped) >= N_FLIPS // 2  # 13 of 16 measured with this seed
    assert int(report.ranked()[0]) in flipped

    session = _session(tmp_path, noisy)
    model = SuspectsModel(session, report, Taxonomy.gtsrb())
    entries = model.entries().tolist()
    assert entries == sorted(entries, key=lambda e: -report.score[e])  # worst first
    assert set(top) & flipped <= set(entries)
    first = entries[0]
    assert model.data(model.index(0, 0)) == "1"
    assert model.data(model.index(0, 2)).startswith(f"{noisy[first]} · ")  # given: id · GTSRB name
    assert model.data(model.index(0, COL_DECISION)) == "—"
    # No pictograms in the default taxonomy: a text badge is drawn instead.
    badge = class_pixmap(Taxonomy.gtsrb(), noisy[first], 40)
    assert badge.width() == 40 and not badge.toImage().isNull()


def test_keys_decide_undo_redo_autosave_and_export(qtbot, tmp_path, labelled_set, report):
    images, _, truth, noisy, flipped = labelled_set
    session = _session(tmp_path, noisy)
    stack = QUndoStack()
    autosave = tmp_path / "session.json"
    saver = Autosaver(session, autosave)
    view = _view(qtbot, session, report, images, stack)
    m = view.model

    # The view opens on the worst suspect.
    e0 = view.selected_entries()[0]
    assert e0 == m.entries()[0]
    i0 = int(m.indices[e0])
    suggested0 = m.suggested_ids[e0]
    assert suggested0 != noisy[i0]

    _press(view, Qt.Key.Key_A)  # accept the suggestion
    assert session.class_of_image(i0) == suggested0 and session.is_reviewed(i0)
    assert m.decision(e0) == ACCEPTED
    e1 = view.selected_entries()[0]
    assert e1 != e0 and m.decision(e1) == UNDECIDED  # moved on to the next undecided suspect
    i1 = int(m.indices[e1])

    _press(view, Qt.Key.Key_K)  # keep the given label
    assert session.class_of_image(i1) == noisy[i1] and i1 in session.reviewed
    assert m.decision(e1) == KEPT
    e2 = view.selected_entries()[0]
    i2 = int(m.indices[e2])

    _press(view, Qt.Key.Key_R)  # reject
    assert i2 in session.rejected and session.class_of_image(i2) is None
    assert m.decision(e2) == REJECTED
    e3 = view.selected_entries()[0]
    i3 = int(m.indices[e3])

    _press(view, Qt.Key.Key_C)  # choose another class in the picker
    dlg = view.picker
    assert dlg is not None and dlg.isVisible()
    other = next(c for c in ("4", "19", "35") if c not in (noisy[i3], m.suggested_ids[e3]))
    dlg.search.setText(other)
    QTest.keyClick(dlg.search, Qt.Key.Key_Return)
    assert session.class_of_image(i3) == other and m.decision(e3) == RELABELED
    assert stack.count() == 4
    assert autosave.is_file() and ReviewSession.load(autosave).image_labels[i3] == other

    out = tmp_path / "labels.csv"
    export_csv(session, out, Taxonomy.gtsrb())
    rows = _csv_rows(out)
    assert (rows[i0]["changed"], rows[i0]["class_id"], rows[i0]["reviewed"]) == ("yes", suggested0, "yes")
    assert (rows[i1]["changed"], rows[i1]["class_id"], rows[i1]["reviewed"]) == ("no", noisy[i1], "yes")
    assert (rows[i2]["changed"], rows[i2]["rejected"], rows[i2]["class_id"]) == ("yes", "yes", "")
    assert (rows[i3]["changed"], rows[i3]["class_id"]) == ("yes", other)
    untouched = [r for k, r in enumerate(rows) if k not in (i0, i1, i2, i3)]
    assert all(r["changed"] == "no" and r["reviewed"] == "no" for r in untouched)

    # Undo all four through the stack, then redo them.
    for _ in range(4):
        stack.undo()
    assert [m.decision(e) for e in (e0, e1, e2, e3)] == [UNDECIDED] * 4
    assert not session.image_labels and not session.rejected and not session.reviewed
    assert ReviewSession.load(autosave).image_labels == {}
    for _ in range(4):
        stack.redo()
    assert [m.decision(e) for e in (e0, e1, e2, e3)] == [ACCEPTED, KEPT, REJECTED, RELABELED]
    assert view.counts.text().startswith("<b>4</b> of")

    # Rejecting an accepted image drops its label override; accepting it again un-rejects.
    assert view.reject_images([e0])
    assert session.class_of_image(i0) is None and i0 not in session.image_labels
    assert view.accept_suggestion([e0])
    assert session.class_of_image(i0) == suggested0 and i0 not in session.rejected
    saver.close()


def test_multi_select_is_one_undo_step_and_filters(qtbot, tmp_path, labelled_set, report):
    images, _, truth, noisy, flipped = labelled_set
    session = _session(tmp_path, noisy)
    stack = QUndoStack()
    view = _view(qtbot, session, report, images, stack)
    m = view.model
    view.select_rows([0, 1, 2])
    chosen = view.selected_entries()
    assert len(chosen) == 3
    _press(view, Qt.Key.Key_A)
    assert stack.count() == 1
    assert all(m.decision(e) == ACCEPTED for e in chosen)
    assert all(session.class_of_image(int(m.indices[e])) == m.suggested_ids[e] for e in chosen)
    assert view.selected_entries()[0] == m.entries()[3]
    stack.undo()
    assert all(m.decision(e) == UNDECIDED for e in chosen) and not session.image_labels

    # Undecided filter: decided rows leave the list, undo brings them back.
    view.set_filter(FILTER_UNDECIDED)
    n = m.rowCount()
    first = view.selected_entries()[0]
    _press(view, Qt.Key.Key_Delete)
    assert m.rowCount() == n - 1 and m.row_of_entry(first) is None
    assert view.selected_entries() and m.decision(view.selected_entries()[0]) == UNDECIDED
    stack.undo()
    assert m.rowCount() == n and m.row_of_entry(first) is not None

    # Outlier and duplicate-conflict filters show only those suspects.
    view.set_filter("outliers")
    outliers = set(report.outliers.tolist())
    assert len(images) - 1 in outliers
    assert m.entries().tolist() == [e for e in m.suspects.tolist() if e in outliers]
    view.set_filter("conflicts")
    in_conflict = {a for a, b, _ in report.near_duplicate_conflicts} | {b for a, b, _ in report.near_duplicate_conflicts}
    assert {0, len(images) - 2} <= in_conflict
    assert m.entries().tolist() == [e for e in m.suspects.tolist() if e in in_conflict]
    view.detach()  # the view no longer follows the session
    e = int(m.suspects[0])
    session.apply(session.reject([int(m.indices[e])]))
    assert m.decision(e) == UNDECIDED


def test_window_shortcuts_do_not_steal_the_keys(qtbot, tmp_path, labelled_set, report):
    """A window-wide shortcut on A (the main window's "Accept cluster") must not win over the table."""
    from PySide6.QtGui import QAction, QKeySequence
    from PySide6.QtWidgets import QMainWindow

    images, _, _, noisy, _ = labelled_set
    session = _session(tmp_path, noisy)
    stack = QUndoStack()
    win = QMainWindow()
    qtbot.addWidget(win)
    fired = []
    act = QAction("Accept cluster", win)
    act.setShortcut(QKeySequence("A"))
    act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    act.triggered.connect(lambda: fired.append(1))
    win.addAction(act)
    view = SuspectsView(session, report, Taxonomy.gtsrb(), stack, images=images)
    win.setCentralWidget(view)
    win.show()
    qtbot.waitExposed(win)
    view.table.setFocus()
    QTest.keyClick(view.table, Qt.Key.Key_A)
    assert stack.count() == 1 and not fired


def test_worker_job_scores_labelled_images_and_cancels(tmp_path, labelled_set):
    _, features, _, noisy, flipped = labelled_set
    labels = list(noisy)
    labels[5] = None  # one unlabelled image is left out
    session = ReviewSession("demo", {"seed": 0}, [f"{i}.png" for i in range(len(labels))], labels,
                            np.arange(len(labels)) % 8)
    assert can_find_suspects(session)
    assert not can_find_suspects(ReviewSession("x", {}, ["a", "b", "c"], ["1", "1", None], [0, 0, 0]))
    run = suspects_job(session, features, finder=MislabelFinder(cv=3))
    seen = []
    result = run(seen.append, CancelToken())
    assert len(result.report) == len(labels) - 1 and 5 not in result.indices.tolist()
    assert np.array_equal(result.indices, labelled_images(session))
    assert seen and seen[-1].stage == "scoring"
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        suspects_job(session, features)(None, token)


def test_screenshot(qtbot, tmp_path, labelled_set, report):
    """Render the view after a few decisions into tmp_path and check the picture has content."""
    images, _, _, noisy, _ = labelled_set
    session = _session(tmp_path, noisy)
    stack = QUndoStack()
    view = _view(qtbot, session, report, images, stack)
    view.accept_suggestion([view.model.entry(0)])
    view.keep_label([view.model.entry(1)])
    view.reject_images([view.model.entry(3)])
    view.select_entry(view.model.entry(2))
    qtbot.waitUntil(lambda: view.loader.idle(), timeout=5000)
    view.loader._drain()
    shot = tmp_path / "suspects.png"
    assert view.grab().save(str(shot))
    image = QImage(str(shot))
    assert_rendered(image, view.width(), view.height())
    # the large picture shows the selected suspect's image (not a blank label)
    picture = view.picture.pixmap()
    assert picture is not None and not picture.isNull()
    assert_rendered(picture.toImage(), 32, 32, min_colors=8)


def test_pictograms_come_from_the_taxonomy_icons(qtbot, tmp_path, labelled_set, report):
    from PIL import Image

    images, _, _, noisy, _ = labelled_set
    icon = tmp_path / "red.png"
    Image.new("RGB", (60, 60), (220, 0, 0)).save(icon)
    (tmp_path / "classes.csv").write_text("id,name,icon\n" + "".join(
        f"{c},Class {c},{icon.name}\n" for c in CLASSES), encoding="utf-8")
    taxonomy = Taxonomy.load_csv(tmp_path / "classes.csv")
    pix = class_pixmap(taxonomy, "13", 40)
    assert pix.width() == 40 and pix.toImage().pixelColor(20, 20).red() > 200
    session = _session(tmp_path, noisy)
    view = SuspectsView(session, report, taxonomy, QUndoStack(), images=images)
    qtbot.addWidget(view)
    assert view.given_card.picture.pixmap().toImage().pixelColor(44, 44).red() > 200
    assert view.given_card.name.text().startswith(f"{noisy[view.model.entry(0)]} · Class ")
    view.detach()


def test_gtsrb_pictograms(qtbot, gtsrb_dir):
    pix = class_pixmap(Taxonomy.gtsrb(gtsrb_dir), "14", 64)  # the stop sign: mostly red
    img = pix.toImage()
    assert img.width() == 64 and img.pixelColor(32, 20).red() > 150


def test_main_window_finds_and_reviews_suspects(qtbot, tmp_path, labelled_set):
    """Review > Find mislabeled images… runs on the model thread and fills the Suspects tab;
    decisions share the window's undo stack, autosave and export."""
    from PIL import Image

    from gui.main_window import MainWindow
    from pipeline.project.store import ProjectData
    from gui.settings import SessionStore
    from pipeline.core.items import ImageItem

    images, features, _, noisy, flipped = labelled_set
    folder = tmp_path / "signs"
    folder.mkdir()
    paths = []
    for i, img in enumerate(images):
        p = folder / f"{i:03d}.png"
        Image.fromarray(img).save(p)
        paths.append(str(p))
    store = SessionStore(tmp_path / "store")
    data = ProjectData(str(folder.resolve()), [ImageItem(p, lab) for p, lab in zip(paths, noisy)], features,
                       images, {"name": "hog-kmeans", "seed": 0})
    store.save_project(data)
    clusters = [CLASSES.index(lab) for lab in noisy]  # clusters = given labels (a "reviewed" start)
    ReviewSession.from_result(data.folder, data.config, paths, noisy, clusters).save(store.session_path(folder))

    w = MainWindow(store=store)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    assert not w.act("suspects").isEnabled()
    assert w.projects.restore_project(folder)
    assert w.act("suspects").isEnabled() and w.act("suspects").shortcut().toString() == "Ctrl+Shift+M"
    finished = []
    w.job_finished.connect(finished.append)
    w.act("suspects").trigger()
    qtbot.waitUntil(lambda: "suspects" in finished, timeout=60_000)
    view = w.suspects.view
    assert view is not None and w.review_tabs.currentWidget() is w.suspects
    # cluster actions are off while the Suspects tab is shown, on again on the Clusters tab
    assert not (w.act("reject").isEnabled() or w.act("accept").isEnabled() or w.act("merge").isEnabled())
    w.review_tabs.setCurrentIndex(0)
    w.review_tabs.setCurrentWidget(w.suspects)
    assert not w.act("reject").isEnabled()
    top = [int(view.model.indices[e]) for e in view.model.entries()[:N_FLIPS]]
    assert len(set(top) & flipped) >= N_FLIPS // 2

    # "A" is also the window's Accept-cluster shortcut: on the Suspects table it accepts the suggestion.
    w.activateWindow()
    e0 = view.selected_entries()[0]
    i0 = int(view.model.indices[e0])
    view.table.setFocus()
    QTest.keyClick(view.table, Qt.Key.Key_A)
    assert w.session.class_of_image(i0) == view.model.suggested_ids[e0]
    assert not w.session.accepted and w.review.undo_stack.count() == 1
    assert ReviewSession.load(store.session_path(folder)).image_labels == {i0: view.model.suggested_ids[e0]}
    w.act("undo").trigger()
    assert not w.session.image_labels and view.model.decision(e0) == UNDECIDED
    w.act("redo").trigger()
    out = tmp_path / "labels.csv"
    export_csv(w.session, out, w.review.taxonomy)
    row = _csv_rows(out)[i0]
    assert (row["changed"], row["class_id"], row["reviewed"]) == ("yes", view.model.suggested_ids[e0], "yes")

    shot = tmp_path / "suspects_window.png"
    assert w.grab().save(str(shot))
    assert_rendered(QImage(str(shot)), w.width(), w.height())

    # Closing the window drops the view and its session listener.
    w.close()
    assert w.suspects.view is None and view._listening is False


def _store_labelled_project(tmp_path, labelled_set):
    from PIL import Image

    from gui.settings import SessionStore
    from pipeline.core.items import ImageItem
    from pipeline.project.store import ProjectData

    images, features, _, noisy, _ = labelled_set
    folder = tmp_path / "signs"
    folder.mkdir(exist_ok=True)
    paths = []
    for i, img in enumerate(images):
        p = folder / f"{i:03d}.png"
        if not p.exists():
            Image.fromarray(img).save(p)
        paths.append(str(p))
    store = SessionStore(tmp_path / "store")
    data = ProjectData(str(folder.resolve()), [ImageItem(p, lab) for p, lab in zip(paths, noisy)], features,
                       images, {"name": "hog-kmeans", "seed": 0}, timings={"total": 1.5})
    store.save_project(data)
    clusters = [CLASSES.index(lab) for lab in noisy]
    ReviewSession.from_result(data.folder, data.config, paths, noisy, clusters).save(store.session_path(folder))
    return folder, store


def test_suspects_cache_round_trip_key_and_damage(tmp_path, labelled_set, report):
    from pipeline.project.suspects_cache import clear_suspects, load_suspects, save_suspects, suspects_key

    _, features, _, noisy, _ = labelled_set
    indices = np.arange(len(noisy))
    key = suspects_key(features, indices, noisy, {"seed": 0}, {"total": 1.0})
    path = save_suspects(tmp_path, report, indices, key)
    assert path.name == "suspects.npz" and not list(tmp_path.glob("*.tmp*"))
    loaded, idx = load_suspects(tmp_path, key)
    assert np.array_equal(idx, indices) and loaded.classes == report.classes
    for name in ("given", "suggested", "score", "confidence", "flagged", "probabilities", "outliers"):
        assert np.array_equal(getattr(loaded, name), getattr(report, name)), name
    assert loaded.near_duplicate_conflicts == [(int(i), int(j), float(d)) for i, j, d in report.near_duplicate_conflicts]
    # Another run (timings), other features or other labels: another key, nothing loaded.
    assert suspects_key(features, indices, noisy, {"seed": 0}, {"total": 2.0}) != key
    assert suspects_key(features + 1, indices, noisy, {"seed": 0}, {"total": 1.0}) != key
    assert suspects_key(features, indices, noisy[::-1], {"seed": 0}, {"total": 1.0}) != key
    assert load_suspects(tmp_path, "other") is None
    path.write_bytes(path.read_bytes()[:100])  # a damaged file is ignored, never raised
    assert load_suspects(tmp_path, key) is None
    assert clear_suspects(tmp_path) and load_suspects(tmp_path, key) is None


def test_suspects_list_comes_back_when_the_project_is_reopened(qtbot, tmp_path, labelled_set):
    from gui_demo_project import open_project_window

    folder, store = _store_labelled_project(tmp_path, labelled_set)

    def open_window():
        return open_project_window(qtbot, store, folder)

    w = open_window()
    assert w.suspects.view is None
    finished = []
    w.job_finished.connect(finished.append)
    w.act("suspects").trigger()
    qtbot.waitUntil(lambda: "suspects" in finished, timeout=60_000)
    first = w.suspects.view
    ranked = [int(first.model.indices[e]) for e in first.model.entries()]
    assert (store.project_dir(folder) / "suspects.npz").is_file()
    w.close()

    # Reopened: the list is there at once (no job), on its tab, while the window shows the Clusters tab.
    w2 = open_window()
    qtbot.waitUntil(lambda: w2.suspects.view is not None, timeout=10_000)  # read on a helper thread
    view = w2.suspects.view
    assert w2.review_tabs.currentWidget() is w2.clusters
    assert [int(view.model.indices[e]) for e in view.model.entries()] == ranked
    w2.close()

    # A re-run writes the project's arrays and timings again: the saved list no longer applies.
    data = store.load_project(folder)
    data.timings = {"total": 9.0}
    store.save_project(data)
    w3 = open_window()
    assert w3.suspects.restoring is not None
    qtbot.waitUntil(lambda: w3.suspects.restoring is None, timeout=10_000)  # read and found stale
    assert not (store.project_dir(folder) / "suspects.npz").exists()  # the stale list is dropped
    assert w3.suspects.view is None and w3.suspects.currentIndex() == 0
    w3.close()


def test_auto_contrast_reaches_the_suspects_thumbnails(qtbot, tmp_path, labelled_set, report):
    images, _, _, noisy, _ = labelled_set
    session = _session(tmp_path, noisy)
    dark = (np.asarray(images) * 0.1).astype(np.uint8)
    view = _view(qtbot, session, report, dark, QUndoStack())
    m = view.model
    image = int(m.indices[m.entry(0)])

    def thumb_max():
        pix = view.loader.cached(image, m.thumb_size)
        return None if pix is None else max(QImage.pixelColor(pix.toImage(), x, y).value()
                                            for x in range(pix.width()) for y in range(pix.height()))

    m.index(0, 1).data(Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: thumb_max() is not None, timeout=10_000)
    before = thumb_max()
    view.set_auto_contrast(True)
    assert view.loader.cached(image, m.thumb_size) is None  # the cache was dropped
    m.index(0, 1).data(Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: thumb_max() is not None, timeout=10_000)
    assert before < 40 and thumb_max() > 200
