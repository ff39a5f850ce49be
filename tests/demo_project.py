"""A stored demo project (real pipeline run, in process) and a review window opened on it, for the map tests."""
from __future__ import annotations

from pathlib import Path

from pipeline.config import get_preset
from pipeline.io.demo import write_demo_folder
from pipeline.project.run_and_store import run_and_store

N_PER_CLASS = 8
N_CLASSES = 13


def make_demo_project(root: Path, n_per_class: int = N_PER_CLASS) -> tuple[Path, Path]:
    """Write the demo folder under ``root`` and store its clustered project; returns (folder, store root)."""
    folder = root / "signs"
    write_demo_folder(folder, n_per_class=n_per_class, size=32)
    store_root = root / "store"
    run_and_store(get_preset("hog-kmeans").with_k(N_CLASSES), str(folder.resolve()), str(folder.resolve()),
                  str(store_root))
    return folder.resolve(), store_root


def open_window(qtbot, folder: Path, store_root: Path, size=(1280, 800)):
    """A shown MainWindow with the stored project restored."""
    from gui.main_window import MainWindow
    from gui.settings import SessionStore

    w = MainWindow(store=SessionStore(store_root))
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    assert w.projects.restore_project(folder)
    return w


def show_map(qtbot, w, timeout: int = 120_000):
    """Switch to the Map tab and wait until its layout is shown."""
    w.review_tabs.setCurrentWidget(w.map)
    qtbot.waitUntil(lambda: w.map.layout_xy is not None, timeout=timeout)
    return w.map
