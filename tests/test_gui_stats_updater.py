"""A big review's statistics after edits come from their own thread and end where the UI-thread
update ends: same centers, members, medoids, silhouettes and linkage, after single edits, a burst
of edits while an update runs, and undo; an install in between drops the running update."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

import gui.controllers.review as review_module
from gui.controllers.review import ReviewController
from gui.jobs.runner import JobRunner
from pipeline.core.items import ImageItem
from pipeline.project.store import ProjectData
from pipeline.review import ReviewSession, Taxonomy

K, N = 30, 3000


def _project(tmp_path):
    rng = np.random.default_rng(2)
    centers = rng.normal(size=(K, 6)) * 6
    assign = rng.integers(0, K, N)
    feats = (centers[assign] + rng.normal(size=(N, 6))).astype(np.float32)
    paths = [str(tmp_path / f"i{i}.png") for i in range(N)]
    labels = [str(a % 7) for a in assign]
    data = ProjectData(str(tmp_path), [ImageItem(p, g) for p, g in zip(paths, labels)], feats, None, {})
    return data, ReviewSession.from_result(str(tmp_path), {}, paths, labels, assign)


def _edits(review):
    """Three edits, each flushed at once: in the background the 2nd and 3rd come while the 1st's update
    is running (its result is not polled before the next turn), so they start from its result."""
    s = review.session
    review.merge([3, 4])
    review.flush()
    review.move(list(s.members(7)[:40]), 9)
    review.flush()
    review.merge([10, 11, 12])
    review.flush()


def _final_stats(qtbot, tmp_path, monkeypatch, background: bool):
    monkeypatch.setattr(review_module, "SPLIT_FLUSH_FROM", 0 if background else 10 ** 9)
    runner = JobRunner(warm_up=False)
    review = ReviewController(runner, Taxonomy.gtsrb())
    data, session = _project(tmp_path)
    review.install(data, session, tmp_path / "s.json")
    flushes = []
    review.flushed.connect(lambda: flushes.append(review.stats))
    _edits(review)
    qtbot.waitUntil(lambda: bool(flushes) and not review.stats_updater.busy(), timeout=10_000)
    qtbot.wait(50)
    burst = review.stats
    review.undo()
    qtbot.waitUntil(lambda: not review.stats_updater.busy() and flushes[-1] is review.stats, timeout=10_000)
    qtbot.wait(50)
    out = (burst, review.stats, session.assignments.copy())
    review.teardown()
    runner.shutdown()
    return out


def _same(a, b):
    assert a.ids == b.ids and a.row_of == b.row_of
    np.testing.assert_allclose(a.centers, b.centers, rtol=1e-6)
    assert all(np.array_equal(a.members[c], b.members[c]) for c in a.ids)
    assert a.medoids == b.medoids
    assert a.silhouette.keys() == b.silhouette.keys()
    np.testing.assert_allclose([a.silhouette[c] for c in a.ids], [b.silhouette[c] for c in b.ids], rtol=1e-5)
    np.testing.assert_allclose(a.linkage, b.linkage, rtol=1e-6)


def test_background_updates_end_where_the_ui_thread_updates_end(qtbot, tmp_path, monkeypatch):
    bg = _final_stats(qtbot, tmp_path / "bg", monkeypatch, background=True)
    ui = _final_stats(qtbot, tmp_path / "ui", monkeypatch, background=False)
    assert np.array_equal(bg[2], ui[2])  # the same clusters
    _same(bg[0], ui[0])
    _same(bg[1], ui[1])
    assert bg[0].linkage is not None and (3 not in bg[0].members or 4 not in bg[0].members)


def test_a_new_install_drops_the_running_update(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(review_module, "SPLIT_FLUSH_FROM", 0)
    runner = JobRunner(warm_up=False)
    review = ReviewController(runner, Taxonomy.gtsrb())
    data, session = _project(tmp_path)
    review.install(data, session, tmp_path / "s.json")
    review.merge([1, 2])
    review.flush()  # (the throttled flush, now): the update is submitted
    assert review.stats_updater.busy()
    data2, session2 = _project(tmp_path)
    review.install(data2, session2, tmp_path / "s2.json")
    fresh = review.stats
    qtbot.wait(300)
    assert review.stats is fresh and not review.stats_updater.busy()
    assert 2 in review.stats.members  # the merge of the first review never reached the second
    review.teardown()
    runner.shutdown()
