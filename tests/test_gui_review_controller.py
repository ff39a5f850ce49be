"""The review controller driven without any widget: selection, edits, coalesced refresh,
undo/redo, autosave, split on the job runner; and the split computation itself."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QApplication, QWidget

from gui.controllers.review import ReviewController
from gui.jobs.runner import JobRunner
from pipeline.clustering.split import MAX_WARD_SPLIT, split_cluster, split_method_for
from pipeline.core.items import ImageItem
from pipeline.core.progress import Cancelled, CancelToken
from pipeline.project.store import ProjectData
from pipeline.review import ReviewSession, Taxonomy

N_PER = 8


def _project(tmp_path):
    """Three well-separated blobs as clusters 0, 1, 2 (labels a, b, c)."""
    rng = np.random.default_rng(0)
    centers = np.eye(3, 4) * 10
    feats = np.concatenate([c + rng.normal(size=(N_PER, 4)) for c in centers]).astype(np.float32)
    labels = [lab for lab in "abc" for _ in range(N_PER)]
    paths = [str(tmp_path / f"img_{i}.png") for i in range(len(labels))]
    images = np.zeros((len(labels), 8, 8, 3), np.uint8)
    data = ProjectData(str(tmp_path), [ImageItem(p, g) for p, g in zip(paths, labels)], feats, images, {"seed": 0})
    session = ReviewSession.from_result(str(tmp_path), {"seed": 0}, paths, labels, np.repeat(np.arange(3), N_PER))
    return data, session


@pytest.fixture
def review(qtbot, tmp_path):
    runner = JobRunner(warm_up=False)
    ctl = ReviewController(runner, Taxonomy.gtsrb())
    data, session = _project(tmp_path)
    ctl.install(data, session, tmp_path / "session.json")
    yield ctl
    ctl.teardown()
    runner.shutdown()


def flushed(qtbot, review):
    return qtbot.waitSignal(review.flushed, timeout=5000)


def test_no_widget_is_needed(review):
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QWidget) and w.isVisible()]
    assert review.stats is not None and review.stats.ids == [0, 1, 2]


def test_selection_and_stepping_follow_display_order(qtbot, review):
    shown, selected = [], []
    review.current_changed.connect(lambda cid, keep: shown.append(cid))
    review.selection_changed.connect(selected.append)
    review.select([1])
    assert review.selected == [1] and review.current == 1 and shown == [1] and selected == [[1]]
    review.display_order = lambda: [2, 1, 0]  # e.g. the table sorted the other way
    review.step(1)
    assert review.current == 0
    review.step(1)  # at the end: stays
    assert review.current == 0
    review.step(-2)
    assert review.current == 2
    assert review.neighbour(1, 1) == 0 and review.neighbour(0, 1) == 0
    review.set_selection([0, 1], current=1)  # from a view: no echo
    assert review.current == 1 and selected[-1] == [2]


def test_merge_undo_redo_and_one_refresh_per_turn(qtbot, review, tmp_path):
    refreshes = []
    review.refreshed.connect(lambda changed, membership: refreshes.append((changed, membership)))
    review.select([0, 1])
    with flushed(qtbot, review):
        assert review.merge(review.selected)
    assert refreshes == [({0, 1}, True)]  # the clusters the merge touched
    assert review.session.cluster_ids() == [0, 2] and review.selected == [0] and review.current == 0
    assert review.stats.ids == [0, 2] and len(review.stats.members[0]) == 2 * N_PER
    assert ReviewSession.load(tmp_path / "session.json").cluster_ids() == [0, 2]  # autosaved
    with flushed(qtbot, review):
        review.undo_stack.undo()
    assert review.session.cluster_ids() == [0, 1, 2] and review.stats.ids == [0, 1, 2]
    # several edits in one event-loop turn: one refresh
    refreshes.clear()
    with flushed(qtbot, review):
        review.undo_stack.redo()
        review.name([2], "c")
        review.reject([0, 1])
    assert len(refreshes) == 1
    assert review.session.cluster_names == {2: "c"} and {0, 1} <= review.session.rejected
    assert review.undo_stack.count() == 3
    assert review.reject([0, 1])  # all rejected already: the mark is taken back
    assert not ({0, 1} & review.session.rejected)


def test_batch_is_one_undo_step_and_accept_moves_on(qtbot, review):
    review.select([0])
    with flushed(qtbot, review):
        assert review.name([0, 1, 2], "a")
    assert review.undo_stack.count() == 1 and set(review.session.cluster_names) == {0, 1, 2}
    with flushed(qtbot, review):
        review.undo_stack.undo()
    assert review.session.cluster_names == {}
    review.select([0])
    with flushed(qtbot, review):
        review.accept([0])
    assert 0 in review.session.accepted and review.current == 1  # on to the next cluster
    with flushed(qtbot, review):
        review.apply_cut([[1, 2], [0]])
    assert review.session.cluster_ids() == [0, 1] and review.undo_stack.count() == 2  # the undone naming is gone


def test_errors_and_empty_edits_are_reported_not_raised(qtbot, review):
    errors, messages = [], []
    review.error.connect(lambda m, d: errors.append(m))
    review.message.connect(lambda m, ms: messages.append(m))
    assert not review.merge([0])
    assert not review.merge([0, 99])
    assert errors
    assert not review.name([0], None)  # unnamed already: nothing to change
    assert "Nothing to change" in messages
    assert not review.move([], None)
    assert review.undo_stack.count() == 0


def test_move_keeps_the_reviewer_on_the_cluster(qtbot, review):
    review.select([0])
    with flushed(qtbot, review):
        assert review.move([0, 1], None)
    assert review.current == 0 and review.session.size(0) == N_PER - 2
    new = review.session.cluster_of(0)
    assert new not in (0, 1, 2) and review.session.cluster_of(1) == new


def test_split_runs_on_the_job_runner(qtbot, review):
    with flushed(qtbot, review):
        review.select([0])
        assert review.merge([0, 1])
    done = []
    review.runner.job_finished.connect(done.append)
    with flushed(qtbot, review):
        job = review.split(0, 2, "ward")
        assert job is not None
        qtbot.waitUntil(lambda: done == ["split"], timeout=20_000)
    ids = review.session.cluster_ids()
    assert len(ids) == 3 and review.undo_stack.count() == 2
    assert sorted(review.session.size(c) for c in review.selected) == [N_PER, N_PER]  # the blobs come apart
    errors = []
    review.error.connect(lambda m, d: errors.append(m))
    assert review.split(2, N_PER + 1) is None and "cannot split" in errors[-1]


def test_split_function(tmp_path):
    data, _ = _project(tmp_path)
    x = data.features[: 2 * N_PER]
    for method in ("kmeans", "ward"):
        labels = split_cluster(x, 2, method, seed=0)
        assert labels.shape == (2 * N_PER,) and len(np.unique(labels)) == 2
        assert len(np.unique(labels[:N_PER])) == 1 and len(np.unique(labels[N_PER:])) == 1
    assert split_method_for("ward", MAX_WARD_SPLIT + 1) == "kmeans"
    with pytest.raises(ValueError):
        split_cluster(x[:1], 2)
    with pytest.raises(ValueError):
        split_method_for("spectral", 10)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        split_cluster(x, 2, "ward", cancel=token)
