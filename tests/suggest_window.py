"""Shared setup of the suggestion window tests: the demo project in a shown window, and a
wait for the background refit that follows an edit."""
from __future__ import annotations

from gui.main_window import MainWindow
from gui.settings import SessionStore

from gui_demo_project import make_project, open_project_window


def open_window(qtbot, tmp_path) -> MainWindow:
    store = SessionStore(tmp_path / "store")
    folder, _ = make_project(tmp_path, store)
    w = open_project_window(qtbot, store, folder)
    qtbot.waitUntil(lambda: w.session is not None)
    return w


def settle(qtbot, w, timeout: int = 30_000) -> None:
    """Wait until the edits so far are flushed and the suggestions refit for the latest state."""
    c = w.suggestions
    qtbot.wait(1)  # the review controller flushes (and so schedules the refit) on the next turn
    qtbot.waitUntil(lambda: c.suggestions is not None and not c.busy(), timeout=timeout)


def name_and_settle(qtbot, w, names: dict) -> None:
    for cid, class_id in names.items():
        assert w.review.name([cid], class_id)
    settle(qtbot, w)
