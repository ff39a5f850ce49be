"""The dendrogram follows edits: a small tree at once, a big one once the edits pause (one relink)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from gui.pages.tree_follower import TREE_DELAY_MS, TREE_NOW_UP_TO, TreeFollower
from gui.views.dendrogram_view import DendrogramView
from pipeline.clustering.summary import compute_cluster_stats


def review_of(k: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(4 * k, 8)).astype(np.float32)
    members = {c: np.arange(4 * c, 4 * c + 4) for c in range(k)}
    stats = compute_cluster_stats(features, members)
    return SimpleNamespace(stats=stats, session=object(), selected=[0], label=lambda c: f"#{c}")


def counting(view: DendrogramView) -> list:
    calls = []
    real = view.set_data
    view.set_data = lambda *a: (calls.append(a[1]), real(*a))
    return calls


def test_a_small_tree_is_redrawn_in_the_edit_turn(qtbot):
    view = DendrogramView()
    qtbot.addWidget(view)
    review = review_of(TREE_NOW_UP_TO // 4)
    follower = TreeFollower(review, view)
    calls = counting(view)
    follower.after_edit()
    assert len(calls) == 1 and not follower.pending() and view.leaf_order()


def test_a_big_tree_waits_for_the_edits_to_pause_and_relinks_once(qtbot):
    view = DendrogramView()
    qtbot.addWidget(view)
    review = review_of(TREE_NOW_UP_TO + 50)
    review.stats.linkage = None  # as an edit's statistics update leaves it
    follower = TreeFollower(review, view)
    calls = counting(view)
    for _ in range(3):
        follower.after_edit()
        qtbot.wait(TREE_DELAY_MS // 4)
    assert calls == [] and follower.pending()
    qtbot.waitUntil(lambda: not follower.pending(), timeout=5 * TREE_DELAY_MS + 2000)
    assert len(calls) == 1 and review.stats.linkage is not None
    assert sorted(view.leaf_order()) == list(range(TREE_NOW_UP_TO + 50))
    follower.after_edit()
    follower.stop()  # a teardown drops a waiting redraw
    qtbot.wait(2 * TREE_DELAY_MS)
    assert len(calls) == 1


def test_a_new_review_draws_its_tree_a_moment_after_the_table_and_grid(qtbot):
    view = DendrogramView()
    qtbot.addWidget(view)
    follower = TreeFollower(review_of(10), view)
    calls = counting(view)
    follower.soon()
    assert calls == [] and follower.pending()
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=5 * TREE_DELAY_MS + 2000)
    assert sorted(view.leaf_order()) == list(range(10))
