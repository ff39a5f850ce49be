"""Propagation from reviewer decisions on sklearn digits (no shared data)."""
import numpy as np

from pipeline.review.session import ReviewSession
from pipeline.suggest import Propagator, decided_labels, undecided_mask
from pipeline.suggest.propagation import disagreements




def _session(y, clusters):
    return ReviewSession.from_result("f", {}, [f"{i}.png" for i in range(len(y))], None, clusters)


def test_propagation_suggests_classes_from_few_decisions(digits):
    x, y = digits
    rng = np.random.default_rng(0)
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), 5, replace=False) for c in np.unique(y)])
    s = Propagator().prepare(x).fit(idx, list(y[idx]))
    pred = np.asarray(s.classes, dtype=object)[s.top]
    rest = np.setdiff1d(np.arange(len(y)), idx)
    assert (pred[rest] == y[rest]).mean() > 0.85
    conf = s.confidence[rest]
    hi = conf >= np.quantile(conf, 0.5)
    assert (pred[rest][hi] == y[rest][hi]).mean() >= (pred[rest] == y[rest]).mean()
    assert s.proba.shape == (len(y), 10) and np.allclose(s.proba.sum(1), 1.0, atol=1e-4)


def test_propagation_fixes_an_image_a_named_cluster_holds_wrongly(digits):
    x, y = digits
    clusters = np.array([int(v) for v in y])
    wrong = int(np.flatnonzero(y == "3")[0])
    clusters[wrong] = 8  # a "3" sits in the cluster of eights
    session = _session(y, clusters)
    for c in range(10):
        session.apply(session.name(c, str(c)))
    idx, cls = decided_labels(session)
    assert len(idx) == len(y) and cls[int(np.searchsorted(idx, wrong))] == "8"
    s = Propagator().prepare(x).fit_session(session)
    assert s.top_class(wrong) == "3"
    assert wrong in disagreements(session, s, min_confidence=0.0).tolist()


def test_unseen_class_is_not_confident(digits):
    x, y = digits
    seen = np.flatnonzero(y != "0")
    idx = seen[::10]
    s = Propagator().prepare(x).fit(idx, list(y[idx]))
    zeros = np.flatnonzero(y == "0")
    others = np.setdiff1d(np.flatnonzero(y != "0"), idx)
    assert np.median(s.confidence[zeros]) < np.median(s.confidence[others])


def test_refit_is_fast_and_undecided_mask(digits):
    x, y = digits
    session = _session(y, np.array([int(v) for v in y]))
    assert undecided_mask(session).all()
    session.apply(session.name(1, "1"))
    session.apply(session.reject([0]))
    mask = undecided_mask(session)
    assert not mask[y == "1"].any() and not mask[0] and mask.sum() == len(y) - (y == "1").sum() - (y[0] != "1")
    s = Propagator().prepare(x).fit_session(session)
    assert s.fit_seconds < 1.0 and s.classes == ["1"]


def test_spreading_in_neighbour_order_gives_the_image_order_result(digits, monkeypatch):
    """The graph is renumbered (reverse Cuthill-McKee) only to keep neighbours close in memory."""
    import scipy.sparse.csgraph as csgraph

    x, y = digits
    shuffled = np.random.default_rng(1).permutation(len(y))  # a folder in no particular order
    x, y = x[shuffled], y[shuffled]
    idx = np.arange(0, len(y), 9)
    ours = Propagator().prepare(x)
    assert not np.array_equal(ours.position_, np.arange(len(y)))
    monkeypatch.setattr(csgraph, "reverse_cuthill_mckee", lambda g, symmetric_mode=True: np.arange(g.shape[0]))
    plain = Propagator().prepare(x)
    assert np.array_equal(plain.position_, np.arange(len(y)))
    a, b = ours.fit(idx, list(y[idx])), plain.fit(idx, list(y[idx]))
    assert a.classes == b.classes and np.array_equal(a.top, b.top)
    np.testing.assert_allclose(a.proba, b.proba, atol=1e-5)
    np.testing.assert_allclose(a.confidence, b.confidence, atol=1e-5)


def test_a_fit_announced_with_also_fit_is_spread_with_the_next_one_and_equals_its_own(digits):
    x, y = digits
    prop = Propagator().prepare(x)
    full, part = np.arange(0, len(y), 5), np.arange(0, len(y), 10)
    alone_full, alone_part = prop.fit(full, list(y[full])), prop.fit(part, list(y[part]))
    prop.also_fit(full, list(y[full]))
    paired_part = prop.fit(part, list(y[part]))  # spreads both
    paired_full = prop.fit(full, list(y[full]))  # comes from that product
    for a, b in ((alone_full, paired_full), (alone_part, paired_part)):
        assert a.classes == b.classes and np.array_equal(a.top, b.top)
        # one ridge product serves both sets then: BLAS may round its wider product differently
        np.testing.assert_allclose(a.proba, b.proba, atol=1e-6)
        np.testing.assert_allclose(a.confidence, b.confidence, atol=1e-6)
    # the paired result is handed out once, and only for exactly those decisions
    prop.also_fit(full, list(y[full]))
    prop.fit(part, list(y[part]))
    other = prop.fit(full[:-1], list(y[full[:-1]]))
    assert not np.array_equal(other.proba, paired_full.proba)


def test_a_folder_already_in_neighbour_order_keeps_it():
    t = np.linspace(0, 6, 800)
    x = np.stack([np.cos(t), np.sin(t), t], 1).astype(np.float32)  # a curve, its points in order
    assert np.array_equal(Propagator().prepare(x).position_, np.arange(len(x)))
    shuffled = np.random.default_rng(0).permutation(len(x))
    assert not np.array_equal(Propagator().prepare(x[shuffled]).position_, np.arange(len(x)))
