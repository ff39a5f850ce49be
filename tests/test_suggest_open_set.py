"""The zero-shot prior suggests the classes nobody has named yet (sklearn digits)."""
import numpy as np
import pytest

from pipeline.review.session import ReviewSession
from pipeline.suggest import Propagator, Suggestions, calibrated_suggestions
from pipeline.suggest.history import SuggestionHistory
from pipeline.suggest.open_set import with_unnamed_classes


def _suggestions(classes, rows):
    p = np.asarray(rows, np.float32)
    return Suggestions(list(classes), p, p.argmax(1), p.max(1))


def test_an_image_the_prior_gives_to_an_unnamed_class_is_suggested_it():
    sugg = _suggestions(["a", "b"], [[0.6, 0.4], [0.9, 0.1], [0.4, 0.6]])
    sugg.confidence[:] = [0.3, 0.9, 0.4]
    prior = _suggestions(["c", "a", "b"], [[0.8, 0.1, 0.1], [0.85, 0.15, 0.0], [0.1, 0.2, 0.7]])
    out = with_unnamed_classes(sugg, prior)
    assert out.classes == ["a", "b", "c"]
    assert out.top.tolist() == [2, 0, 1]  # 0 switches; 1: the propagation holds "a" more firmly; 2: prior's top is named
    assert out.confidence[0] == pytest.approx(0.8) and out.confidence[1:].tolist() == pytest.approx([0.9, 0.4])
    assert np.allclose(out.proba.sum(1), 1.0)
    assert np.allclose(out.proba[0], [0.6 * 0.2, 0.4 * 0.2, 0.8])
    assert np.allclose(out.proba[1:, :2], sugg.proba[1:]) and not out.proba[1:, 2].any()
    # nothing to add: the same suggestions back
    assert with_unnamed_classes(sugg, None) is sugg
    assert with_unnamed_classes(sugg, _suggestions(["b", "a"], [[0.5, 0.5]] * 3)) is sugg


@pytest.fixture(scope="module")
def named_two_of_three(digits):
    """Digits 0, 1, 2; small clusters of 0 and 1 named, every 2 undecided; a prior that knows all three."""
    x, y = digits
    keep = np.flatnonzero(np.isin(y, ["0", "1", "2"]))
    x, y = x[keep], y[keep]
    rng = np.random.default_rng(0)
    clusters = np.full(len(y), 99)
    cid = 0
    for c in ("0", "1"):
        pick = rng.permutation(np.flatnonzero(y == c))
        for g in range(0, len(pick) - 4, 5):
            clusters[pick[g:g + 5]] = cid
            cid += 1
    session = ReviewSession.from_result("f", {}, [f"{i}.png" for i in range(len(y))], None, clusters)
    for k in range(cid):
        session.apply(session.name(k, y[clusters == k][0]))
    centres = np.stack([x[y == c].mean(0) for c in ("0", "1", "2")])
    z = 20.0 * (x @ centres.T)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    prior = Suggestions(["0", "1", "2"], p.astype(np.float32), p.argmax(1), p.max(1).astype(np.float32))
    return x, y, session, prior


def test_calibrated_suggestions_offer_a_class_nobody_named(named_two_of_three):
    x, y, session, prior = named_two_of_three
    prop = Propagator().prepare(x)
    kw = dict(evidence=True, prior=prior, history=SuggestionHistory(), min_groups=10)
    closed = calibrated_suggestions(prop, session, **kw)
    assert "2" not in closed.classes  # the propagation alone knows only the decided classes
    opened = calibrated_suggestions(prop, session, open_set=True, **kw)
    twos = y == "2"
    pred = np.asarray(opened.classes, dtype=object)[opened.top]
    assert np.mean(pred[twos] == "2") > 0.8
    assert np.mean(pred[~twos] == y[~twos]) > 0.95  # the decided classes keep their suggestions
