"""Evidence calibration: distance to decisions, zero-shot prior, refused classes, history (sklearn digits)."""
import numpy as np
import pytest

from pipeline.review.session import ReviewSession
from pipeline.suggest import Propagator, Suggestions, calibrated_suggestions
from pipeline.suggest.calibration import EvidenceCalibrator
from pipeline.suggest.history import SuggestionHistory
from pipeline.suggest.novelty import COLUMNS, evidence, group_centroids
from pipeline.suggest.propagation import exclude_declined




@pytest.fixture(scope="module")
def weak_prior(digits):
    """A zero-shot stand-in: a classifier that never saw these images' decisions (about 80 % right)."""
    from sklearn.linear_model import LogisticRegression

    x, y = digits
    rng = np.random.default_rng(1)
    pick = rng.choice(len(y), 60, replace=False)
    lr = LogisticRegression(C=0.3, max_iter=500).fit(x[pick], y[pick])
    p = lr.predict_proba(x).astype(np.float32)
    return Suggestions([str(c) for c in lr.classes_], p, p.argmax(1), p.max(1))


def _session(clusters):
    return ReviewSession.from_result("f", {}, [f"{i}.png" for i in range(len(clusters))], None, clusters)


def _named_session(y, rng, classes, per_class=4, size=5):
    """Small decided clusters (``per_class`` of ``size`` images) of ``classes``; the rest in cluster 999."""
    clusters = np.full(len(y), 999)
    cid = 0
    for c in classes:
        pick = rng.choice(np.flatnonzero(y == c), per_class * size, replace=False)
        for g in range(per_class):
            clusters[pick[size * g: size * g + size]] = cid
            cid += 1
    session = _session(clusters)
    for k in range(cid):
        session.apply(session.name(k, y[clusters == k][0]))
    return session, clusters


def test_evidence_columns_say_far_from_decisions_and_off_class(digits):
    x, y = digits
    idx = np.flatnonzero(y == "1")[:20]
    cent = group_centroids(x, idx, ["1"] * 20, np.zeros(20, np.int64))
    assert cent.points.shape == (1, x.shape[1]) and cent.classes.tolist() == ["1"] and cent.spread > 0
    s = Propagator().prepare(x).fit(idx, ["1"] * 20)
    ones, zeros = np.flatnonzero(y == "1")[20:40], np.flatnonzero(y == "0")[:20]
    ev = evidence(x, np.concatenate([ones, zeros]), s, cent)
    assert ev.shape == (40, 3) and COLUMNS[1] == "novelty"
    assert ev[20:, 1].mean() > ev[:20, 1].mean() + 0.3  # the zeros lie far from every decided "1"
    assert np.all(ev[:, 2] == 0.0)  # the only decided class is the nearest one


def test_exclude_declined_never_keeps_a_refused_class_on_top():
    proba = np.array([[0.7, 0.2, 0.1], [0.6, 0.4, 0.0], [1.0, 0.0, 0.0]], np.float32)
    s = Suggestions(["a", "b", "c"], proba, proba.argmax(1), np.array([0.9, 0.8, 0.99], np.float32))
    out = exclude_declined(s, {0: {"a"}, 2: {"a"}})
    assert out.top.tolist() == [1, 0, 0] and out.confidence[1] == pytest.approx(0.8)
    assert out.confidence[0] == pytest.approx(0.9 * 0.2 / 0.7, rel=1e-4) and out.confidence[2] == 0.0
    assert np.allclose(out.proba[0], [0.0, 2 / 3, 1 / 3], atol=1e-5)
    assert exclude_declined(s, {}) is s and s.top.tolist() == [0, 0, 0]  # the input is not changed


def test_history_scores_the_last_suggestions_against_what_was_decided_refused_or_left():
    h = SuggestionHistory(keep=5)
    h.update(np.arange(2), ["a", "a"], None)  # nothing remembered yet: no records
    assert len(h) == 0
    ev = np.arange(12, dtype=np.float64).reshape(6, 2)
    h.remember(ev, np.array(["a", "b", "a", "b", "a", "b"], dtype=object), np.array([0]), None)
    h.shown([4, 5])
    # image 1 decided "b" (right), image 2 decided "b" (wrong), image 3 refused "b", image 4 shown
    # but not accepted; image 5 shown and accepted as "b"
    h.update(np.array([0, 1, 2, 5]), ["a", "b", "b", "b"], {3: {"b"}})
    assert len(h) == 5 and h.right.tolist() == [True, False, True, False, False]
    assert h.rows[:, 0].tolist() == [2.0, 4.0, 10.0, 6.0, 8.0]
    h.remember(ev, np.array(["a"] * 6, dtype=object), np.array([0, 1, 2, 5]), {3: {"b"}})
    h.update(np.array([0, 1, 2, 3, 5]), ["a", "b", "b", "a", "b"], {3: {"b"}})
    assert len(h) == 5 and h.right[-1]  # keep=5: the oldest record went


def test_evidence_calibrator_needs_evidence_and_separates():
    assert not EvidenceCalibrator().fit(np.zeros((5, 2)), np.ones(5, bool)).fitted
    rng = np.random.default_rng(0)
    ev = rng.normal(size=(400, 2))
    right = ev[:, 0] + 0.3 * rng.normal(size=400) > 0
    cal = EvidenceCalibrator().fit(ev, right)
    p = cal.predict(np.array([[2.0, 0.0], [-2.0, 0.0]]))
    assert cal.fitted and p[0] > 0.9 and p[1] < 0.1
    assert cal.predict(ev).max() <= (right.sum() + 1) / (len(right) + 2) + 1e-6 or cal.predict(ev).max() < 1.0


def test_history_of_wrong_suggestions_on_an_unnamed_class_lowers_the_next_unnamed_one(digits, weak_prior):
    x, y = digits
    rng = np.random.default_rng(0)
    session, clusters = _named_session(y, rng, [str(c) for c in range(8)])  # 8 and 9 never named
    prop = Propagator().prepare(x)
    history = SuggestionHistory()
    kw = dict(n_taxonomy=10, min_groups=12, evidence=True, prior=weak_prior, history=history)
    first = calibrated_suggestions(prop, session, **kw)
    assert first.raw_confidence is not None and 0.0 <= first.confidence.min() and first.confidence.max() <= 1.0
    pred = np.asarray(first.classes, dtype=object)[first.top]
    # the reviewer names a cluster of undecided eights (every suggestion for them was wrong)
    # and one of undecided threes (mostly right)
    for c in ("8", "3"):
        more = np.flatnonzero((clusters == 999) & (y == c))[:40]
        session.apply(session.move(more, None))
        session.apply(session.name(int(session.assignments[more[0]]), c))
    s = calibrated_suggestions(prop, session, **kw)
    assert len(history) == 80 and 0.35 <= history.right.mean() <= 0.5  # the eights wrong, the threes right
    assert "8" in s.classes and "9" not in s.classes
    rest = session.assignments == 999
    nines, seen = rest & (y == "9"), rest & np.isin(y, [str(c) for c in range(8)])
    assert np.median(s.confidence[nines]) < np.median(s.confidence[seen]) - 0.1
    right = np.asarray(s.classes, dtype=object)[s.top] == y
    assert right[rest & (s.confidence >= 0.9)].mean() >= 0.85
    assert (pred[rest & (y == "9")] != "9").all()


def test_nearest_centroid_distances_match_brute_force():
    from pipeline.suggest.novelty import _nearest_any_and_of_class

    rng = np.random.default_rng(3)
    x = rng.normal(size=(700, 6)).astype(np.float32)
    points = rng.normal(size=(40, 6)).astype(np.float32)
    point_cls = np.asarray([f"c{i % 7}" for i in range(40)], dtype=object)
    want = np.asarray([f"c{i}" for i in rng.integers(0, 9, 700)], dtype=object)  # c7, c8: no centroid
    d_any, d_cls = _nearest_any_and_of_class(x, points, point_cls, want, chunk=128)
    full = np.linalg.norm(x[:, None, :] - points[None, :, :], axis=2)
    np.testing.assert_allclose(d_any, full.min(1), atol=1e-4)
    same = point_cls[None, :] == want[:, None]
    expect = np.where(same, full, np.inf).min(1)
    assert np.array_equal(np.isinf(d_cls), np.isinf(expect)) and np.isinf(expect).any()
    np.testing.assert_allclose(d_cls[np.isfinite(expect)], expect[np.isfinite(expect)], atol=1e-4)
    empty_any, empty_cls = _nearest_any_and_of_class(x, points[:0], point_cls[:0], want)
    assert np.isinf(empty_any).all() and np.isinf(empty_cls).all()
