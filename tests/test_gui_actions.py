"""The action table: menus, toolbar, welcome page and F1 help are built from it and cover
every action; enablement follows the window's state."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu

from gui import actions as table
from gui.actions import ACTIONS, ActionState, update_enabled
from gui.dialogs.help_dialog import HelpDialog
from gui.main_window import MainWindow
from gui.settings import SessionStore


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(store=SessionStore(tmp_path / "store"))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def menu_actions(menu: QMenu) -> list:
    out = []
    for act in menu.actions():
        out.append(act)
        if act.menu() is not None:
            out += menu_actions(act.menu())
    return out


def test_table_is_well_formed():
    ids = [s.id for s in ACTIONS]
    assert len(ids) == len(set(ids))
    keys = [QKeySequence(k).toString() for s in ACTIONS for k in s.keys]
    assert len(keys) == len(set(keys)), "a shortcut bound twice"
    assert {s.menu for s in ACTIONS if s.menu} <= set(table.MENUS)
    slots = [s.toolbar for s in ACTIONS if s.toolbar is not None]
    assert len(slots) == len(set(slots))


def test_menus_toolbar_and_help_come_from_the_table(window):
    acts = window.actions_by_id
    assert set(acts) == {s.id for s in ACTIONS}
    # every action is in exactly the menu the table names, in table order
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    assert list(menus) == list(table.MENUS)
    for title, menu in menus.items():
        placed = [a for a in menu_actions(menu) if a in acts.values()]
        expected = [acts[s.id] for s in ACTIONS if s.menu == title]
        assert placed == expected, title
    assert window.recent_menu in [a.menu() for a in menus["&File"].actions()]
    # the toolbar holds the slotted actions, sorted by slot, with separators between the tens
    on_bar = [a for a in window.toolbar.actions() if a in acts.values()]
    assert on_bar == [acts[i] for _, i in sorted((s.toolbar, s.id) for s in ACTIONS if s.toolbar is not None)]
    separators = sum(1 for a in window.toolbar.actions() if a.isSeparator())
    assert separators == len({s.toolbar // 10 for s in ACTIONS if s.toolbar is not None}) - 1
    # keys, tips and icons are as declared
    for spec in ACTIONS:
        act = acts[spec.id]
        assert [k.toString() for k in act.shortcuts()] == [QKeySequence(k).toString() for k in spec.keys]
        assert act.statusTip() == spec.tip
        assert act.icon().isNull() == (spec.icon is None), spec.id
    # the F1 help lists every action that has keys, with those keys
    window.act("help").trigger()
    dlg = window.dialog
    assert isinstance(dlg, HelpDialog)
    rows = {dlg.table.item(r, 1).text(): dlg.table.item(r, 0).text() for r in range(dlg.table.rowCount())}
    for spec in ACTIONS:
        if spec.keys:
            text = spec.text.replace("&", "").rstrip(".…")
            assert rows.get(text) == ", ".join(QKeySequence(k).toString() for k in spec.keys), spec.id
    # the welcome page's buttons trigger the welcome actions
    assert [a.text() for a in table.welcome_actions(acts)] == [acts[s.id].text() for s in ACTIONS if s.welcome]


def test_enablement_follows_state(window):
    acts = window.actions_by_id
    update_enabled(acts, ActionState())
    enabled = {i for i, a in acts.items() if a.isEnabled()}
    assert {"open_folder", "open_session", "demo", "help", "quit"} <= enabled
    assert not enabled & {"run", "cancel", "merge", "split", "export_csv", "undo", "suspects", "reject"}

    update_enabled(acts, ActionState(has_session=True, has_project=True, n_clusters=1, has_current=True))
    assert acts["name"].isEnabled() and acts["accept"].isEnabled() and acts["split"].isEnabled()
    assert not acts["merge"].isEnabled() and not acts["reject"].isEnabled() and not acts["suspects"].isEnabled()
    update_enabled(acts, ActionState(has_session=True, n_clusters=2, n_images=3))
    assert acts["merge"].isEnabled() and acts["reject"].isEnabled() and acts["view"].isEnabled()

    update_enabled(acts, ActionState(has_session=True, has_project=True, busy=True, has_labels=True, has_current=True))
    assert acts["cancel"].isEnabled()
    assert not (acts["run"].isEnabled() or acts["split"].isEnabled() or acts["suspects"].isEnabled()
                or acts["open_folder"].isEnabled())

    update_enabled(acts, ActionState(can_undo=True))
    assert acts["undo"].isEnabled() and not acts["redo"].isEnabled()


def test_window_state_drives_enablement(qtbot, window):
    """A slow job makes the window busy: Cancel on, opening off; when it ends, back."""
    import threading

    release = threading.Event()

    def wait(progress, cancel):
        release.wait(10)

    window.update_actions()
    assert window.act("open_folder").isEnabled() and not window.act("cancel").isEnabled()
    job = window.jobs.start("Waiting", wait, lambda _: None, name="wait")
    assert job is not None
    assert window.act("cancel").isEnabled() and not window.act("open_folder").isEnabled()
    with qtbot.waitSignal(window.job_finished, timeout=10_000):
        release.set()
    assert not window.act("cancel").isEnabled() and window.act("open_folder").isEnabled()
