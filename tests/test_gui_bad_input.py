"""The window on the bad-input corpus: opening it lists what was left out, exports keep every
file name, and export failures (a full disk, moved images) are messages, not crashes."""
from __future__ import annotations

import csv
import io
import os

import pytest

pytest.importorskip("pytestqt")

from bad_corpus import NON_UTF8_NAME, write_bad_corpus
from gui.main_window import MainWindow
from gui.settings import SessionStore
from pipeline.config import get_preset
from pipeline.core.csvio import read_text


#: The corpus needs POSIX names (bytes, newlines), symbolic links and named pipes.
pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX file names, links and pipes")

@pytest.fixture
def opened(qtbot, tmp_path):
    corpus = write_bad_corpus(tmp_path / "corpus")
    w = MainWindow(store=SessionStore(tmp_path / "store"))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.projects.run_in_process = False  # the same run_and_store, on the window's job thread
    with qtbot.waitSignal(w.session_installed, timeout=120_000):
        w.projects.open_folder(corpus.root, config=get_preset("hog-kmeans").with_k(13))
    return w, corpus


def test_opening_the_corpus_shows_what_was_left_out(qtbot, opened):
    w, corpus = opened
    assert len(w.session) == corpus.n_good + len(corpus.readable)
    assert any(os.path.basename(p) == NON_UTF8_NAME for p in w.session.paths)
    qtbot.waitUntil(w.error_banner.isVisible, timeout=5_000)
    left_out = corpus.left_out
    assert f"{len(left_out)} files in corpus were left out" in w.error_banner.message.text()
    assert w.error_banner.details_button.isVisible()
    details = w.error_banner.details.toPlainText().splitlines()
    assert len(details) == len(left_out)
    shown = {line.split(": ", 1)[0] for line in details}
    assert {str(p) for p in left_out.values()} == shown  # these names are all plain UTF-8
    assert any(line.endswith("not an image type we read") and "drawing.svg" in line for line in details)
    assert any("loop: symbolic link loop" in line for line in details)


def test_exports_from_the_window_keep_names_and_report_failures(qtbot, opened, tmp_path, monkeypatch):
    w, corpus = opened
    w.error_banner.hide()
    target = tmp_path / "labels.csv"
    assert w.review.export_csv_to(target)
    rows = list(csv.DictReader(io.StringIO(read_text(target))))
    assert [r["path"] for r in rows] == w.session.paths
    assert not w.error_banner.isVisible()

    # a full disk: a plain message in the banner, the window goes on
    import gui.controllers.review_files as review_module  # the export commands live there

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "full.csv"))

    monkeypatch.setattr(review_module, "export_csv", full)
    assert not w.review.export_csv_to(tmp_path / "full.csv")
    assert "No space left on device" in w.error_banner.message.text() and w.error_banner.isVisible()
    monkeypatch.undo()

    # images that moved away: exported, with a warning that points at relink
    moved = corpus.readable["comma in name"]
    os.rename(moved, tmp_path / "away.png")
    try:
        w.error_banner.hide()
        assert w.review.export_csv_to(tmp_path / "again.csv")
        text = w.error_banner.message.text()
        assert w.error_banner.isVisible() and "1 of the images are no longer on disk" in text and "relink" in text
        # the folder tree cannot be made without the file: refused, nothing written
        # a job the install started (e.g. the Suspects list) may still hold the model thread under load
        qtbot.waitUntil(lambda: not w.review.runner.busy(), timeout=120_000)
        with qtbot.waitSignal(w.job_failed, timeout=20_000):
            assert w.review.export_tree_to(tmp_path / "tree") is not None
        assert "not found" in w.error_banner.message.text() and not (tmp_path / "tree").exists()
    finally:
        os.rename(tmp_path / "away.png", moved)

    qtbot.waitUntil(lambda: not w.review.runner.busy(), timeout=120_000)
    with qtbot.waitSignal(w.job_finished, timeout=60_000):
        assert w.review.export_tree_to(tmp_path / "tree") is not None
    written = {name for _, _, files in os.walk(tmp_path / "tree") for name in files}
    assert len(written) == len(w.session) and {NON_UTF8_NAME, "new\nline.png"} <= written


def test_relink_folder_action_reopens_the_moved_project(qtbot, tmp_path, monkeypatch):
    from gui.dialogs import file_prompts
    from pipeline.io.demo import DEMO_CLASSES, write_demo_folder
    from pipeline.project.run_and_store import run_and_store

    folder = tmp_path / "signs"
    write_demo_folder(folder, n_per_class=3, seed=4, size=32, classes=[c for c, _ in DEMO_CLASSES[:4]])
    store = SessionStore(tmp_path / "store")
    run_and_store(get_preset("hog-kmeans").with_k(4), str(folder.resolve()), str(folder.resolve()), str(store.root))
    w = MainWindow(store=store)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.session_installed, timeout=20_000):
        w.projects.open_folder(folder)
    assert w.review.push(w.session.name(w.session.cluster_ids()[0], "14"))  # a review decision, kept across the move
    assert w.act("relink").isEnabled()
    moved = tmp_path / "moved"
    os.rename(folder, moved)
    monkeypatch.setattr(file_prompts, "ask_folder", lambda parent: str(moved))
    with qtbot.waitSignal(w.session_installed, timeout=20_000):
        w.act("relink").trigger()
    assert w.session.folder == str(moved.resolve())
    assert all(os.path.isfile(p) for p in w.session.paths) and len(w.session) == 12
    assert "14" in w.session.cluster_names.values()
    # a folder without the images: a message, the review stays
    (tmp_path / "wrong").mkdir()
    monkeypatch.setattr(file_prompts, "ask_folder", lambda parent: str(tmp_path / "wrong"))
    w.act("relink").trigger()
    assert "Cannot relink" in w.error_banner.message.text() and w.session.folder == str(moved.resolve())
