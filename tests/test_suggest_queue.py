"""Review queue, grow and labeling mode on generated fixtures (no shared data)."""
import numpy as np

from pipeline.review.session import ReviewSession
from pipeline.clustering.summary import compute_cluster_stats
from pipeline.suggest import (Propagator, Suggestions, grow_candidates, overcluster, review_queue, sibling_groups,
                              suggestion_vote)
from pipeline.suggest.grow import accept_prefix
from pipeline.suggest.queue import accept_items, order_members


def _blobs(sizes, seed=0, dim=8):
    rng = np.random.default_rng(seed)
    centres = np.eye(dim, dtype=np.float32)[: len(sizes)] * 4
    x = np.concatenate([c + 0.3 * rng.standard_normal((n, dim)).astype(np.float32) for c, n in zip(centres, sizes)])
    y = np.concatenate([[str(i)] * n for i, n in enumerate(sizes)]).astype(object)
    return x, y


def _session(clusters):
    return ReviewSession.from_result("f", {}, [f"{i}.png" for i in range(len(clusters))], None, clusters)


def test_queue_prefers_big_uncertain_groups():
    x, y = _blobs([10, 80, 30])
    session = _session(np.array([int(v) for v in y]))
    items = review_queue(session, Suggestions.empty(len(y)), features=x)
    assert [it.cluster_id for it in items] == [1, 2, 0]
    # a confident suggestion makes a group less urgent than an equally big unknown one
    proba = np.zeros((len(y), 1), np.float32)
    proba[:, 0] = 1.0
    conf = np.where(y == "1", 0.9, 0.0).astype(np.float32)
    s = Suggestions(["1"], proba, np.zeros(len(y), np.int64), conf)
    clusters = [it.cluster_id for it in review_queue(session, s, features=x) if it.kind == "cluster"]
    assert clusters[0] == 2


def test_queue_offers_accept_pages_after_a_decision():
    x, y = _blobs([40, 40])
    clusters = np.array([int(v) for v in y])
    clusters[:20] = 2  # class 0 split over clusters 0 and 2
    session = _session(clusters)
    session.apply(session.name(2, "0"))
    session.apply(session.name(1, "1"))
    s = Propagator(n_neighbors=5).prepare(x).fit_session(session)
    pages = [it for it in review_queue(session, s, features=x) if it.kind == "accept"]
    assert pages and pages[0].class_id == "0"
    assert set(pages[0].indices.tolist()) <= set(range(20, 40))
    declined = {int(i): {"0"} for i in pages[0].indices}
    again = accept_items(s, np.isin(np.arange(len(y)), pages[0].indices), declined)
    assert all(it.class_id != "0" for it in again)


def test_order_members_puts_misfits_last():
    x, y = _blobs([30, 30])
    proba = np.stack([(y == "0"), (y == "1")], 1).astype(np.float32)
    s = Suggestions(["0", "1"], proba, proba.argmax(1), np.ones(len(y), np.float32))
    members = np.array([0, 35, 1, 2])
    assert order_members(members, s, "0").tolist()[-1] == 35


def test_grow_returns_nearest_undecided_first():
    x, y = _blobs([20, 20, 20])
    clusters = np.array([int(v) for v in y])
    clusters[5:20] = 3  # most of class 0 not in its cluster
    session = _session(clusters)
    session.apply(session.name(0, "0"))
    cand = grow_candidates(session, x, 0, n=25)
    assert len(cand) == 25 and set(cand[:15].tolist()) == set(range(5, 20))
    assert accept_prefix(cand, 15).tolist() == cand[:15].tolist()


def test_labeling_mode_overclusters_and_groups_siblings():
    x, y = _blobs([60, 60])
    labels = overcluster(x, 6)
    assert len(np.unique(labels)) == 6
    session = _session(labels)
    first, second = int(labels[0]), int(labels[-1])
    session.apply(session.name(first, "0"))
    session.apply(session.name(second, "1"))
    s = Propagator(n_neighbors=5).prepare(x).fit_session(session)
    stats = compute_cluster_stats(x, {c: session.members(c) for c in session.cluster_ids()})
    groups = sibling_groups(session, stats.linkage, stats.ids, suggestion_vote(session, s), threshold=0.0)
    zero = [g for g in groups if g.class_id == "0"]
    assert zero and first in zero[0].clusters and first not in zero[0].unnamed
    # each blob's clusters are one branch of its class
    assert all(set(y[np.isin(labels, g.clusters)]) == {g.class_id} for g in groups)
    assert sorted(g.class_id for g in groups) == ["0", "1"]
