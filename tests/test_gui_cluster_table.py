"""The cluster table model orders its own rows and updates only the rows an edit touched,
ending where a model rebuilt from scratch ends (rows, order, figures, selection)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QTableView

from gui.models.cluster_list_model import CLUSTER_ID_ROLE, COL_NAME, COL_PURITY, COL_SIZE, ClusterListModel
from pipeline.review import ReviewSession, Taxonomy


def _session() -> ReviewSession:
    """Seven clusters of sizes 3..15 with some wrong given labels (purities differ)."""
    rng = np.random.default_rng(1)
    sizes = [3, 9, 5, 15, 7, 11, 13]
    assign = np.repeat(np.arange(len(sizes)), sizes)
    labels = [str(c) if rng.random() > 0.2 else str((c + 1) % 7) for c in assign]
    paths = [f"/x/img_{i}.png" for i in range(len(assign))]
    return ReviewSession.from_result("/x", {}, paths, labels, assign)


def _rows(model: ClusterListModel, proxy: ClusterListModel) -> list[tuple]:
    out = []
    for r in range(proxy.rowCount()):
        cells = tuple(proxy.data(proxy.index(r, c)) for c in range(proxy.columnCount()))
        out.append((proxy.data(proxy.index(r, 0), CLUSTER_ID_ROLE), cells))
    return out


def _fresh(session, column, order) -> tuple[ClusterListModel, ClusterListModel]:
    """The model, and what the table shows (the model itself: the table is its view, no proxy between)."""
    model = ClusterListModel(Taxonomy.gtsrb())
    model.set_session(session, None)
    model.sort(column, order)
    return model, model


@pytest.mark.parametrize("column, order", [(COL_SIZE, Qt.SortOrder.DescendingOrder),
                                           (COL_PURITY, Qt.SortOrder.AscendingOrder),
                                           (COL_NAME, Qt.SortOrder.AscendingOrder)])
def test_edits_update_touched_rows_like_a_rebuild(qtbot, column, order):
    s = _session()
    model, proxy = _fresh(s, column, order)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    keys = [model._sort_value(c, column) for c in model.cluster_ids()]
    assert keys == sorted(keys, reverse=order == Qt.SortOrder.DescendingOrder)
    row = model.row_of(5)
    view.selectionModel().select(proxy.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                 | QItemSelectionModel.SelectionFlag.Rows)

    def touched(edit):
        return set(edit.clusters) | set(np.union1d(edit.assign_before, edit.assign_after).tolist())

    steps = [s.merge([1, 3]), None, s.move(list(s.members(2)[:2]), 6), s.name(4, "14"), s.move(list(s.members(0)), None)]
    done = []
    for edit in steps:
        if edit is None:  # undo the last edit
            edit = done.pop()
            s.revert(edit)
        else:
            s.apply(edit)
            done.append(edit)
        model.refresh(None, touched(edit))
        _, rebuilt = _fresh(s, column, order)
        assert _rows(model, proxy) == _rows(None, rebuilt)
        selected = [proxy.data(i, CLUSTER_ID_ROLE) for i in view.selectionModel().selectedRows()]
        assert selected == [5]  # the selection follows its cluster through re-sorts


def test_header_sort_goes_through_the_model(qtbot):
    s = _session()
    model, proxy = _fresh(s, COL_SIZE, Qt.SortOrder.DescendingOrder)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(COL_SIZE, Qt.SortOrder.AscendingOrder)
    assert model.cluster_ids() == sorted(s.cluster_ids(), key=s.size)
    view.sortByColumn(COL_SIZE, Qt.SortOrder.DescendingOrder)
    assert model.cluster_ids() == sorted(s.cluster_ids(), key=s.size, reverse=True)
    assert [proxy.data(proxy.index(r, 0), CLUSTER_ID_ROLE) for r in range(proxy.rowCount())] == model.cluster_ids()


def test_suggestion_sort_lists_the_named_clusters_most_images_disagree_with_first(qtbot):
    from gui.models.cluster_list_model import COL_SUGGESTION

    s = _session()
    for cid in (1, 3, 5):
        s.apply(s.name(cid, str(cid)))
    bad = {1: 2, 3: 6, 5: 0}  # "⚠ N differ" of the named clusters
    conf = {0: 0.9, 2: 0.3, 4: 0.6, 6: 0.95, 1: 0.8, 3: 0.7, 5: 0.99}
    model = ClusterListModel(Taxonomy.gtsrb())
    model.suggestion_of = lambda cid: (str(cid), conf[cid], bad.get(cid, 0))
    model.set_session(s, None)
    model.sort(COL_SUGGESTION, Qt.SortOrder.DescendingOrder)
    assert model.cluster_ids() == [3, 1, 5, 6, 0, 4, 2]  # then every other cluster by confidence
