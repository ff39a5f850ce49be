"""The vectorised per-cluster purities agree with ReviewSession.purity cluster by cluster."""
import numpy as np

from pipeline.review import ReviewSession
from pipeline.review.label_stats import cluster_purities, label_codes


def _session(rng, n=500, k=12):
    labels = [None if rng.random() < 0.2 else f"c{int(rng.integers(0, 5))}" for _ in range(n)]
    assignments = rng.integers(0, k, size=n)
    assignments[assignments == 3] = 7  # an id gap
    return ReviewSession("/data", {}, [f"img{i}.png" for i in range(n)], labels, assignments)


def test_matches_session_purity_for_every_cluster():
    rng = np.random.default_rng(0)
    s = _session(rng)
    got = cluster_purities(s.assignments, s.given_labels)
    assert set(got) == set(s.cluster_ids())
    for c in s.cluster_ids():
        want = s.purity(c)
        assert (got[c] is None) == (want is None)
        if want is not None:
            assert abs(got[c] - want) < 1e-12


def test_unlabeled_cluster_and_requested_ids():
    s = ReviewSession("/data", {}, ["a", "b", "c", "d"], ["x", "y", None, None], np.array([0, 0, 1, 1]))
    assert cluster_purities(s.assignments, s.given_labels) == {0: 0.5, 1: None}
    assert cluster_purities(s.assignments, s.given_labels, [1, 9]) == {1: None, 9: None}


def test_no_labels_at_all():
    assert cluster_purities(np.array([0, 1]), [None, None]) == {0: None, 1: None}
    codes, classes = label_codes(["b", None, "a", "b"])
    assert codes.tolist() == [0, -1, 1, 0] and classes == ["b", "a"]


def test_session_purities_reuse_the_cached_codes():
    from pipeline.review.label_stats import session_label_codes, session_purities

    s = ReviewSession("/data", {}, ["a", "b", "c"], ["x", "x", "y"], np.array([0, 0, 1]))
    assert session_purities(s) == {0: 1.0, 1: 1.0}
    assert session_label_codes(s)[0] is session_label_codes(s)[0]
    s.apply(s.move([2], 0))
    assert session_purities(s, [0]) == {0: 2 / 3}


def test_cluster_majority_matches_majority_label_and_purity():
    from pipeline.review.label_stats import cluster_majority

    rng = np.random.default_rng(3)
    s = _session(rng)
    s.apply(s.move([0, 1, 2], 7))
    tie = ReviewSession("/data", {}, ["a", "b", "c", "d"], ["y", "x", None, None], np.array([0, 0, 1, 1]))
    for session in (s, tie):
        for c in session.cluster_ids():
            major, purity = cluster_majority(session, c)
            assert major == session.majority_label(c)  # ties: the smallest label
            assert (purity is None) == (session.purity(c) is None)
            if purity is not None:
                assert abs(purity - session.purity(c)) < 1e-12
    assert cluster_majority(tie, 1) == (None, None) and cluster_majority(tie, 0) == ("x", 0.5)
