"""Bulk accept and disagreement plans, calibrated confidence (generated blobs, sklearn digits)."""
import numpy as np
import pytest

from pipeline.review.session import ReviewSession
from pipeline.suggest import Propagator, Suggestions, bulk_accept_plan, calibrated_suggestions, disagreement_plan
from pipeline.suggest.bulk import plan_sizes
from pipeline.suggest.calibration import Calibrator, reliability_table


def _session(clusters):
    return ReviewSession.from_result("f", {}, [f"{i}.png" for i in range(len(clusters))], None, clusters)


def _suggestions(top, conf, classes=("a", "b")):
    top = np.asarray(top)
    proba = np.eye(len(classes), dtype=np.float32)[top]
    return Suggestions(list(classes), proba, top, np.asarray(conf, np.float32))


def test_plan_groups_by_class_most_confident_first_and_applies_as_one_undo_step():
    session = _session(np.array([0, 0, 0, 1, 1, 1, 2, 2]))
    session.apply(session.name(2, "b"))
    s = _suggestions([0, 0, 1, 1, 1, 0, 1, 1], [0.95, 0.99, 0.5, 0.97, 0.96, 0.98, 0.99, 0.99])
    plan = bulk_accept_plan(session, s, 0.9)
    assert [g.class_id for g in plan.groups] == ["a", "b"]
    assert plan.groups[0].indices.tolist() == [1, 5, 0] and plan.groups[1].indices.tolist() == [3, 4]
    assert len(plan) == 5 and plan.screens(60) == 2 and plan.expected_right == pytest.approx(4.85, abs=1e-4)
    assert bulk_accept_plan(session, s, 0.9, clusters=[1]).indices.tolist() == [3, 4, 5]  # bigger group first
    assert bulk_accept_plan(session, s, 0.9, classes=["b"]).indices.tolist() == [3, 4]
    assert bulk_accept_plan(session, s, 0.9, declined={1: {"a"}}).groups[0].indices.tolist() == [5, 0]
    assert plan_sizes(session, s, [0.99, 0.9, 0.0]) == {0.99: 1, 0.9: 5, 0.0: 6}
    before = session.final_classes()
    edit = plan.edit(session, exclude=[5])
    session.apply(edit)
    final = session.final_classes()
    assert final[:5] == ["a", "a", None, "b", "b"] and final[5] is None and final[6:] == ["b", "b"]
    assert all(session.is_reviewed(i) for i in (0, 1, 3, 4))
    session.revert(edit)  # one undo step restores everything
    assert session.final_classes() == before


def test_empty_suggestions_give_empty_plans():
    session = _session(np.zeros(4, np.int64))
    empty = Suggestions.empty(4)
    assert len(bulk_accept_plan(session, empty, 0.5)) == 0 and len(disagreement_plan(session, empty, 0.5)) == 0




def test_disagreement_plan_relabels_an_image_a_named_cluster_holds_wrongly(digits):
    x, y = digits
    clusters = np.array([int(v) for v in y])
    wrong = int(np.flatnonzero(y == "3")[0])
    clusters[wrong] = 8
    session = _session(clusters)
    for c in range(10):
        session.apply(session.name(c, str(c)))
    assert session.final_classes()[wrong] == "8"
    s = Propagator().prepare(x).fit_session(session)
    plan = disagreement_plan(session, s, 0.0)
    assert wrong in plan.indices.tolist() and len(plan) < 0.05 * len(y)
    session.apply(plan.edit(session))
    assert session.final_classes()[wrong] == "3"


def test_calibrated_confidence_tracks_the_observed_share_right(digits):
    x, y = digits
    rng = np.random.default_rng(0)
    # 40 small decided clusters (5 images each, 4 per class), every other image undecided
    clusters = np.full(len(y), 999)
    for c in range(10):
        pick = rng.choice(np.flatnonzero(y == str(c)), 20, replace=False)
        for g in range(4):
            clusters[pick[5 * g: 5 * g + 5]] = 4 * c + g
    session = _session(clusters)
    for cid in range(40):
        session.apply(session.name(cid, y[clusters == cid][0]))
    prop = Propagator().prepare(x)
    s = calibrated_suggestions(prop, session, n_taxonomy=10, min_groups=12)
    rest = clusters == 999
    right = np.asarray(s.classes, dtype=object)[s.top[rest]] == y[rest]
    rows = reliability_table(s.confidence[rest], right, edges=(0.0, 0.5, 0.9, 1.0001))
    assert sum(r[2] for r in rows) == rest.sum()
    for lo, hi, n, predicted, observed in rows:
        if n >= 50:
            assert abs(predicted - observed) < 0.15
    hi = s.confidence[rest] >= 0.9
    assert hi.sum() > 0.3 * rest.sum() and right[hi].mean() >= 0.9


def test_calibrator_without_evidence_vouches_for_nothing():
    cal = Calibrator().fit(np.array([0.9, 0.8]), np.array([True, False]))
    assert not cal.fitted and cal.transform(np.array([0.99, 0.5])).tolist() == [0.0, 0.0]
    cal = Calibrator().fit(np.linspace(0, 1, 200), np.linspace(0, 1, 200) > 0.5)
    assert cal.fitted and cal.transform(np.array([0.1]))[0] < 0.1 and cal.transform(np.array([0.9]))[0] > 0.9


def test_review_feedback_keeps_the_latest_reviewed_plans_and_calibrates_alone():
    from pipeline.suggest.calibration import ReviewFeedback, fit_calibrator

    n = 100
    raw = np.linspace(0.5, 1.0, n).astype(np.float32)
    s = Suggestions(["a"], np.ones((n, 1), np.float32), np.zeros(n, np.int64), raw, raw_confidence=raw)
    fb = ReviewFeedback(keep_last=2)
    fb.record(s, accepted=range(0, 10), refused=[])
    fb.record(s, accepted=range(50, 100), refused=range(10, 50))
    fb.record(s, accepted=range(60, 100), refused=range(0, 60))
    assert len(fb) == 190
    raw_fb, right = fb.arrays()
    assert right.sum() == 90 and len(raw_fb) == 190
    # too few decided clusters to hold any out: the reviewed plans alone calibrate
    cal = fit_calibrator(Propagator(), np.arange(3), ["a", "a", "a"], np.arange(3), feedback=fb)
    assert cal.fitted and cal.transform(np.array([0.55]))[0] < 0.1 and cal.transform(np.array([0.99]))[0] > 0.8
