"""The window fits a small screen: its minimum size fits 1024 x 640 in every state (welcome,
a review, a run with a long stage, a long error), it opens no larger than the screen, the
toolbar shows text beside its icons only when wide, long texts elide (full text in the
tooltip) instead of widening the window, and wrapped texts are not cut."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication

from gui_demo_project import shown_window
from gui.widgets.window_fit import initial_size, wide_toolbar_width
from gui.settings import SessionStore
from pipeline.core.progress import Progress
from tests.test_gui_feedback import write_project

SMALL = QSize(1024, 640)


@pytest.fixture
def store(tmp_path) -> SessionStore:
    return SessionStore(tmp_path / "store")


@pytest.fixture
def window(qtbot, store):
    return shown_window(qtbot, store)


def fits(w, size: QSize = SMALL) -> bool:
    hint = w.minimumSizeHint().expandedTo(w.minimumSize())
    return hint.width() <= size.width() and hint.height() <= size.height()


def test_minimum_size_fits_1024x640_in_every_state(qtbot, window, store, tmp_path):
    w = window
    assert fits(w), w.minimumSizeHint()
    folder = write_project(tmp_path, store)
    assert w.projects.restore_project(folder)
    qtbot.waitUntil(lambda: w.review.current is not None)
    assert fits(w), w.minimumSizeHint()
    w.progress_panel.start("Running best on a folder with a really rather long name " * 3)
    w.progress_panel.update_progress(Progress("clustering: ward linkage", 0, 1, "ward on a 10-NN graph " * 5))
    w.show_error("Cannot restore the project: " + "a very long reason that goes on and on " * 10)
    w.say("A status message that is far longer than any status bar could ever show in one line " * 4)
    QApplication.processEvents()
    assert fits(w), w.minimumSizeHint()
    w.error_banner.details_button.setChecked(True)  # the traceback shown as well
    assert fits(w), w.minimumSizeHint()
    w.resize(SMALL)
    QApplication.processEvents()
    assert w.width() <= SMALL.width() and w.height() <= SMALL.height()
    # nothing in the status bar overlaps: message, progress panel and counts side by side
    bar = w.statusBar()
    line, panel, counts = w.status_line.geometry(), w.progress_panel.geometry(), w.counts_label.geometry()
    assert line.right() < panel.left() and panel.right() < counts.left() and counts.right() <= bar.width()
    cancel = w.progress_panel.cancel.geometry()
    assert w.progress_panel.times.geometry().right() < cancel.left()
    assert w.status_line.toolTip().startswith("A status message")  # the whole text, though elided


def test_a_mislabel_search_result_fits_too(qtbot, window, store, tmp_path):
    w = window
    folder = write_project(tmp_path, store)
    assert w.projects.restore_project(folder)
    w.suspects.find()
    qtbot.waitUntil(lambda: w.suspects.view is not None, timeout=60_000)
    assert w.review_tabs.currentWidget() is w.suspects
    w.show_error("Something went wrong", "Traceback (most recent call last):\n  ...")
    w.error_banner.details_button.setChecked(True)
    QApplication.processEvents()
    assert fits(w), w.minimumSizeHint()
    w.resize(SMALL)
    QApplication.processEvents()
    assert w.suspects.view.isVisible()


def test_window_opens_within_the_screen():
    free = QApplication.primaryScreen().availableGeometry()
    size = initial_size()
    assert size.width() <= free.width() and size.height() <= free.height()
    assert size.width() <= 1440 and size.height() <= 900


def test_toolbar_shows_text_beside_icons_only_when_wide(qtbot, window):
    w = window
    w.resize(1000, 640)
    qtbot.waitUntil(lambda: w.toolbar.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly)
    assert wide_toolbar_width(w.toolbar) > 1000
    w.resize(wide_toolbar_width(w.toolbar) + 20, 700)
    qtbot.waitUntil(lambda: w.toolbar.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    # with text, every toolbar action fits: none is pushed into the overflow menu
    qtbot.waitUntil(lambda: all(w.toolbar.widgetForAction(a).isVisible() for a in w.toolbar.actions()
                                if not a.isSeparator() and w.toolbar.widgetForAction(a) is not None))


def test_recent_folders_keep_the_folder_name_visible(qtbot, window, store, tmp_path):
    deep = tmp_path / ("a_long_parent_folder_name_" * 6) / "the_folder"
    deep.mkdir(parents=True)
    store.add_recent(str(deep))
    window._update_recent()
    item = window.welcome.recent.item(0)
    assert item.text() == str(deep) and item.toolTip() == str(deep)
    assert window.welcome.recent.textElideMode() == Qt.TextElideMode.ElideMiddle
    # (with a horizontal scroll bar the list would scroll the long path instead of eliding it)
    assert window.welcome.recent.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    act = window.recent_menu.actions()[0]
    assert act.toolTip() == str(deep)
    assert act.text().endswith("the_folder") and "…" in act.text()


def test_suspects_intro_is_not_cut(qtbot, window, store, tmp_path):
    w = window
    folder = write_project(tmp_path, store)
    assert w.projects.restore_project(folder)
    w.resize(SMALL)
    w.review_tabs.setCurrentWidget(w.suspects)
    QApplication.processEvents()
    from PySide6.QtWidgets import QLabel

    intro = [lab for lab in w.suspects.widget(0).findChildren(QLabel) if "Find mislabeled" in lab.text()][0]
    assert intro.height() >= intro.heightForWidth(intro.width())
