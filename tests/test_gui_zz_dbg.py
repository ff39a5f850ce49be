from tests.test_gui_review_loop import make_window, run_via_menu, click_cluster_row, key, table_ids, demo_dir, store
from PySide6.QtCore import Qt
def test_dbg(qtbot, demo_dir, store, monkeypatch):
    w = make_window(qtbot, store)
    run_via_menu(w, qtbot, demo_dir, monkeypatch)
    click_cluster_row(w, qtbot, 0)
    acc = w.current_cid
    print("before", acc, table_ids(w), w.cluster_table.currentIndex().row())
    key(w, Qt.Key.Key_A)
    qtbot.wait(300)
    print("after", w.current_cid, table_ids(w), w.cluster_table.currentIndex().row(), w.session.accepted, w.selected_clusters())
    assert 0
