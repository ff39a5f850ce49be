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


def test_label_codes_keep_first_appearance_order_and_unlabeled_as_minus_one():
    from pipeline.review.label_stats import label_codes

    codes, classes = label_codes(["b", None, "a", "b", "c", None, "a"])
    assert classes == ["b", "a", "c"] and codes.tolist() == [0, -1, 1, 0, 2, -1, 1]
    codes, classes = label_codes([None, None])
    assert classes == [] and codes.tolist() == [-1, -1]


def test_session_purities_of_many_clusters_in_one_pass_equal_the_per_cluster_figures():
    import numpy as np

    from pipeline.review import ReviewSession
    from pipeline.review.label_stats import ONE_PASS_FROM, session_purities

    rng = np.random.default_rng(3)
    n, k = 20_000, 3 * ONE_PASS_FROM
    labels = [None if rng.random() < 0.2 else str(rng.integers(0, 9)) for _ in range(n)]
    s = ReviewSession.from_result("/d", {}, [f"/d/{i}.png" for i in range(n)], labels, rng.integers(0, k, n))
    s.apply(s.move(s.members(5), None))  # a new id above the others, cluster 5 gone
    s.apply(s.move([i for i in range(n) if labels[i] is None and s.assignments[i] == 7], 8))  # 7: unlabeled only
    every = session_purities(s)
    assert len(every) > ONE_PASS_FROM and 5 not in every
    assert every == {c: s.purity(c) for c in s.cluster_ids()}
    assert every == {c: session_purities(s, [c])[c] for c in s.cluster_ids()}  # the per-cluster path
