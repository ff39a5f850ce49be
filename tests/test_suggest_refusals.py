"""Moving images out of a named cluster refuses its name (pipeline.suggest.refusals)."""
import numpy as np

from pipeline.review.session import ReviewSession
from pipeline.suggest import Propagator, calibrated_suggestions
from pipeline.suggest.refusals import MoveRefusals, moved_out


def _session(clusters):
    return ReviewSession.from_result("f", {}, [f"{i}.png" for i in range(len(clusters))], None, clusters)


def test_moves_out_of_a_named_cluster_refuse_its_name_and_undo_takes_it_back():
    session = _session(np.array([0, 0, 0, 1, 1, 2, 2]))
    session.apply(session.name(0, "a"))
    session.apply(session.name(2, "a"))
    declined = {5: {"b"}}
    refusals = MoveRefusals(declined)
    session.add_listener(lambda edit: refusals.on_edit(session, edit))
    out = session.move([1, 2], None)  # out of "a" into a new, unnamed cluster
    session.apply(out)
    assert declined == {1: {"a"}, 2: {"a"}, 5: {"b"}}
    same = session.move([0], 2)  # into another cluster named "a": nothing refused
    session.apply(same)
    assert 0 not in declined
    session.revert(same)
    session.revert(out)  # undo: the refusals of that move are taken back, older ones stay
    assert declined == {5: {"b"}}
    session.apply(out)
    assert declined == {1: {"a"}, 2: {"a"}, 5: {"b"}}


def test_a_move_that_empties_the_named_cluster_still_refuses_its_name():
    session = _session(np.array([0, 0, 1]))
    session.apply(session.name(0, "a"))
    session.apply(session.name(1, "b"))
    edit = session.move([0, 1], 1)  # cluster 0 is emptied and loses its name
    session.apply(edit)
    assert moved_out(session, edit) == {0: "a", 1: "a"}
    session.revert(edit)
    assert moved_out(session, edit, applied=False) == {0: "a", 1: "a"}
    assert moved_out(session, session.name(1, "c")) == {}  # a rename refuses nothing


def test_refused_name_is_never_suggested_again_for_the_moved_images(digits):
    feats, truth = digits
    n = len(truth)
    clusters = np.asarray([int(t) for t in truth])
    session = _session(clusters)
    for c in range(10):
        session.apply(session.name(c, str(c)))
    declined: dict = {}
    refusals = MoveRefusals(declined)
    session.add_listener(lambda edit: refusals.on_edit(session, edit))
    moved = np.flatnonzero(clusters == 3)[:20]
    session.apply(session.move(moved.tolist(), None))
    assert all(declined[int(i)] == {"3"} for i in moved)
    prop = Propagator().prepare(feats)
    sugg = calibrated_suggestions(prop, session, n_taxonomy=10, evidence=True, declined=declined)
    top = np.asarray(sugg.classes, dtype=object)[sugg.top[moved]]
    assert len(moved) == 20 and n > 1000
    assert not (top == "3").any()
