"""ReviewSession queries and edits: semantics of each edit and exact apply/revert round trips."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.review import Edit, ReviewError, ReviewSession


def make_session(labels=(0, 0, 0, 1, 1, 2, 2, 2, 2, 5), given_labels=None):
    n = len(labels)
    if given_labels is None:
        given_labels = ["a", "a", "b", "b", "b", "c", "c", "c", None, ""][:n]
    paths = [f"/data/img_{i:03d}.png" for i in range(n)]
    return ReviewSession.from_result("/data", {"method": "kmeans", "k": 4}, paths, given_labels, labels)


def state(s: ReviewSession) -> dict:
    return s.to_dict()


def apply_and_check_revert(s: ReviewSession, edit: Edit) -> None:
    """Apply then revert then re-apply, checking the states are exact."""
    before = state(s)
    s.apply(edit)
    after = state(s)
    s.revert(edit)
    assert state(s) == before
    s.apply(edit)
    assert state(s) == after


# ---------------------------------------------------------------- queries
def test_from_result_queries():
    s = make_session()
    assert len(s) == 10
    assert s.cluster_ids() == [0, 1, 2, 5]
    assert s.members(2).tolist() == [5, 6, 7, 8]
    assert s.size(5) == 1 and s.size(3) == 0 and s.members(3).tolist() == []
    assert s.given_labels[9] is None  # "" means unlabeled
    assert s.purity(0) == pytest.approx(2 / 3)
    assert s.purity(2) == 1.0  # the unlabeled member is not counted
    assert s.purity(5) is None
    assert s.majority_label(0) == "a" and s.majority_label(5) is None
    assert s.next_cluster_id() == 6


def test_lengths_must_match():
    with pytest.raises(ReviewError, match="same length"):
        ReviewSession.from_result("/d", {}, ["a", "b"], ["x"], [0, 1])
    s = ReviewSession.from_result("/d", {}, ["a", "b"], None, [0, 1])
    assert s.given_labels == [None, None]


def test_class_of_image_precedence_changed_and_reviewed():
    s = make_session()
    s.apply(s.name(0, "a"))
    assert [s.class_of_image(i) for i in range(3)] == ["a", "a", "a"]
    assert [s.is_changed(i) for i in range(3)] == [False, False, True]
    assert s.is_reviewed(0) and not s.is_reviewed(3)
    s.apply(s.reject([1]))
    assert s.class_of_image(1) is None and s.is_changed(1)
    s.apply(s.set_image_label([1, 2], "b"))
    assert s.class_of_image(1) == "b"  # override beats rejection
    assert s.class_of_image(2) == "b" and not s.is_changed(2)
    # unnamed cluster, unlabeled image: final class None, unchanged
    assert s.class_of_image(9) is None and not s.is_changed(9)
    # unnamed cluster keeps the given label: not changed until the reviewer decides
    assert s.class_of_image(3) == "b" and not s.is_changed(3)
    s.apply(s.accept(1))
    assert s.is_reviewed(3) and s.is_reviewed(4)
    s.apply(s.mark_reviewed([9]))
    assert s.is_reviewed(9) and not s.is_reviewed(5)
    assert s.final_classes() == [s.class_of_image(i) for i in range(len(s))]
    assert s.changed_mask().tolist() == [s.is_changed(i) for i in range(len(s))]
    assert s.reviewed_mask().tolist() == [s.is_reviewed(i) for i in range(len(s))]
    summary = s.summary()
    assert summary["images"] == 10 and summary["named_clusters"] == 1 and summary["accepted_clusters"] == 1
    assert summary["rejected_images"] == 1 and summary["reviewed_images"] == 6


# ---------------------------------------------------------------- merge
def test_merge_into_lowest_id_keeps_single_name():
    s = make_session()
    s.apply(s.name(2, "c"))
    s.apply(s.accept(1))
    e = s.merge([5, 2, 1])
    assert e.kind == "merge" and e.clusters == frozenset({1, 2, 5})
    apply_and_check_revert(s, e)
    assert s.cluster_ids() == [0, 1]
    assert s.members(1).tolist() == [3, 4, 5, 6, 7, 8, 9]
    assert s.cluster_names == {1: "c"}
    assert s.accepted == set()


def test_merge_name_rules():
    s = make_session()
    s.apply(s.name(0, "a"))
    s.apply(s.name(1, "b"))
    s.apply(s.merge([0, 1]))
    assert s.cluster_names == {}  # two different names: none kept
    s = make_session()
    s.apply(s.name(0, "a"))
    s.apply(s.name(1, "a"))
    s.apply(s.merge([0, 1]))
    assert s.cluster_names == {0: "a"}  # one distinct name kept


def test_merge_prefers_non_negative_target_over_noise():
    s = make_session(labels=(-1, -1, 3, 3, 4))
    s.apply(s.merge([-1, 4]))
    assert s.cluster_ids() == [3, 4] and s.size(4) == 3


def test_merge_validation():
    s = make_session()
    with pytest.raises(ReviewError, match="at least two"):
        s.merge([1])
    with pytest.raises(ReviewError, match="at least two"):
        s.merge([1, 1])
    with pytest.raises(ReviewError, match="unknown cluster 7"):
        s.merge([1, 7])
    with pytest.raises(ReviewError, match="integer"):
        s.merge([1, "x"])


# ---------------------------------------------------------------- split
def test_split_first_part_keeps_id_and_name():
    s = make_session()
    s.apply(s.name(2, "c"))
    s.apply(s.accept(2))
    e = s.split(2, [1, 3, 1, 2])  # members 5, 6, 7, 8
    assert e.new_clusters == (6, 7)
    apply_and_check_revert(s, e)
    assert s.members(2).tolist() == [5, 7]
    assert s.members(6).tolist() == [8]  # sub-label 2 -> first new id
    assert s.members(7).tolist() == [6]  # sub-label 3 -> second new id
    assert s.cluster_names == {2: "c"}
    assert s.accepted == set()


def test_split_validation():
    s = make_session()
    with pytest.raises(ReviewError, match="needs 4 sub-labels, got 3"):
        s.split(2, [0, 1, 0])
    with pytest.raises(ReviewError, match="two different"):
        s.split(2, [0, 0, 0, 0])
    with pytest.raises(ReviewError, match="unknown cluster"):
        s.split(3, [0, 1])


# ---------------------------------------------------------------- move
def test_move_to_existing_and_new_cluster():
    s = make_session()
    e = s.move([0, 3], 2)
    apply_and_check_revert(s, e)
    assert s.members(2).tolist() == [0, 3, 5, 6, 7, 8]
    e = s.move([1, 2], None)
    assert e.new_clusters == (6,)
    apply_and_check_revert(s, e)
    assert s.members(6).tolist() == [1, 2]
    assert 0 not in s.cluster_ids()  # emptied


def test_move_that_empties_a_cluster_drops_and_restores_its_metadata():
    s = make_session()
    s.apply(s.name(5, "x"))
    s.apply(s.accept(5))
    before = state(s)
    e = s.move([9], 0)
    s.apply(e)
    assert 5 not in s.cluster_ids() and 5 not in s.cluster_names and 5 not in s.accepted
    # a new cluster must not inherit the dropped name
    e_new = s.move([1], None)
    s.apply(e_new)
    assert s.cluster_ids()[-1] == 3 and 3 not in s.cluster_names
    s.revert(e_new)
    s.revert(e)
    assert state(s) == before


def test_move_validation_and_noop():
    s = make_session()
    with pytest.raises(ReviewError, match="empty selection"):
        s.move([], 0)
    with pytest.raises(ReviewError, match="out of range"):
        s.move([10], 0)
    with pytest.raises(ReviewError, match="out of range"):
        s.move([-1], 0)
    with pytest.raises(ReviewError, match="unknown cluster"):
        s.move([0], 3)
    e = s.move([0, 1], 0)
    assert e.is_empty


# ---------------------------------------------------------------- flags and names
def test_reject_name_accept_label_reviewed_round_trip():
    s = make_session()
    for build in (
        lambda: s.reject([0, 1]),
        lambda: s.reject([1, 2], mark_reviewed=True),
        lambda: s.reject([0], value=False),
        lambda: s.name(0, "a"),
        lambda: s.name(0, "b"),
        lambda: s.name(0, None),
        lambda: s.accept(1),
        lambda: s.accept(1, value=False),
        lambda: s.set_image_label([3, 4], "z"),
        lambda: s.set_image_label([4, 5], None, mark_reviewed=True),
        lambda: s.mark_reviewed([7, 8]),
        lambda: s.mark_reviewed([8], value=False),
    ):
        apply_and_check_revert(s, build())
    assert s.rejected == {1, 2}
    assert s.reviewed == {1, 2, 4, 5, 7}
    assert s.image_labels == {3: "z"}
    assert s.cluster_names == {} and s.accepted == set()


def test_noop_edits_are_empty_and_bad_class_ids_refused():
    s = make_session()
    assert s.name(0, None).is_empty
    assert s.accept(0, value=False).is_empty
    assert s.reject([0], value=False).is_empty
    with pytest.raises(ReviewError, match="non-empty"):
        s.name(0, "")
    with pytest.raises(ReviewError, match="unknown cluster"):
        s.name(9, "a")


def test_edit_applied_twice_or_reverted_unapplied_is_refused():
    s = make_session()
    e = s.move([0], 1)
    s.apply(e)
    with pytest.raises(ReviewError, match="does not match"):
        s.apply(e)
    e2 = s.name(2, "c")
    with pytest.raises(ReviewError, match="does not match"):
        s.revert(e2)
    e3 = s.reject([4])
    s.apply(e3)
    with pytest.raises(ReviewError, match="does not match"):
        s.apply(e3)


def test_listeners_and_revision():
    s = make_session()
    seen = []
    s.add_listener(seen.append)
    e = s.name(1, "b")
    assert s.revision == 0 and seen == []  # building does not apply
    s.apply(e)
    s.revert(e)
    assert s.revision == 2 and seen == [e, e]
    s.remove_listener(seen.append)
    s.apply(e)
    assert len(seen) == 2


def test_edit_reports_affected_images():
    s = make_session()
    e = s.move([0, 3], 2)
    assert e.images.tolist() == [0, 3]
    assert e.clusters == frozenset({0, 1, 2})
    e = s.set_image_label([5], "q", mark_reviewed=True)
    assert e.images.tolist() == [5]


# ---------------------------------------------------------------- random sequences
N_IMAGES = 14
CLASS_IDS = ["a", "b", "c"]


def _random_edit(s: ReviewSession, data) -> Edit | None:
    kind = data.draw(st.sampled_from(["merge", "split", "move", "reject", "name", "accept", "label", "reviewed"]))
    clusters = s.cluster_ids()
    images = st.lists(st.integers(0, N_IMAGES - 1), min_size=1, max_size=6)
    if kind == "merge":
        if len(clusters) < 2:
            return None
        return s.merge(data.draw(st.lists(st.sampled_from(clusters), min_size=2, max_size=4, unique=True)))
    if kind == "split":
        cid = data.draw(st.sampled_from(clusters))
        n = s.size(cid)
        if n < 2:
            return None
        sub = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
        if len(set(sub)) < 2:
            return None
        return s.split(cid, sub)
    if kind == "move":
        target = data.draw(st.one_of(st.none(), st.sampled_from(clusters)))
        return s.move(data.draw(images), target)
    if kind == "reject":
        return s.reject(data.draw(images), data.draw(st.booleans()), mark_reviewed=data.draw(st.booleans()))
    if kind == "name":
        return s.name(data.draw(st.sampled_from(clusters)), data.draw(st.sampled_from([None, *CLASS_IDS])))
    if kind == "accept":
        return s.accept(data.draw(st.sampled_from(clusters)), data.draw(st.booleans()))
    if kind == "label":
        return s.set_image_label(
            data.draw(images), data.draw(st.sampled_from([None, *CLASS_IDS])), mark_reviewed=data.draw(st.booleans())
        )
    return s.mark_reviewed(data.draw(images), data.draw(st.booleans()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    labels=st.lists(st.integers(-1, 4), min_size=N_IMAGES, max_size=N_IMAGES),
    given_labels=st.lists(st.sampled_from([None, *CLASS_IDS]), min_size=N_IMAGES, max_size=N_IMAGES),
    data=st.data(),
)
def test_random_edit_sequences_revert_to_the_original(labels, given_labels, data):
    s = ReviewSession.from_result("/d", {}, [f"{i}.png" for i in range(N_IMAGES)], given_labels, labels)
    history: list[tuple[Edit, dict]] = []
    states = [state(s)]
    for _ in range(data.draw(st.integers(1, 12))):
        edit = _random_edit(s, data)
        if edit is None:
            continue
        s.apply(edit)
        history.append((edit, states[-1]))
        states.append(state(s))
        # invariants: metadata only on clusters that exist; size is preserved
        assert set(s.cluster_names) <= set(s.cluster_ids())
        assert s.accepted <= set(s.cluster_ids())
        assert sum(s.size(c) for c in s.cluster_ids()) == N_IMAGES
    final = states[-1]
    for edit, before in reversed(history):
        s.revert(edit)
        assert state(s) == before
    assert state(s) == states[0]
    for edit, _ in history:  # redo everything
        s.apply(edit)
    assert state(s) == final
    assert s.revision == 3 * len(history)


# ---------------------------------------------------------------- batches
def test_batch_is_one_unapplied_edit_equal_to_the_sequence():
    s = make_session()
    seen = []
    s.add_listener(seen.append)
    start = state(s)
    e = s.batch(
        [lambda: s.move([0, 1], None), lambda: s.name(6, "new"), lambda: s.name(6, "newer"), lambda: s.accept(2)],
        "Bulk action",
    )
    assert state(s) == start and seen == [] and s.revision == 0  # building changed nothing
    assert e.kind == "batch" and e.text == "Bulk action" and e.new_clusters == (6,)
    assert e.names == {6: (None, "newer")}  # intermediate value composed away
    apply_and_check_revert(s, e)
    assert s.members(6).tolist() == [0, 1] and s.cluster_names == {6: "newer"} and s.accepted == {2}
    assert len(seen) == 3


def test_batch_that_cancels_out_is_empty_and_failures_restore_state():
    s = make_session()
    start = state(s)
    assert s.batch([lambda: s.reject([3]), lambda: s.reject([3], value=False)], "noop").is_empty
    with pytest.raises(ReviewError, match="unknown cluster"):
        s.batch([lambda: s.move([0], 1), lambda: s.name(42, "x")], "bad")
    assert state(s) == start


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    labels=st.lists(st.integers(-1, 3), min_size=N_IMAGES, max_size=N_IMAGES),
    given_labels=st.lists(st.sampled_from([None, *CLASS_IDS]), min_size=N_IMAGES, max_size=N_IMAGES),
    data=st.data(),
)
def test_random_batches_match_sequential_application(labels, given_labels, data):
    def fresh():
        return ReviewSession.from_result("/d", {}, [f"{i}.png" for i in range(N_IMAGES)], given_labels, labels)

    seq, twin = fresh(), fresh()
    start = state(seq)
    edits = []
    for _ in range(data.draw(st.integers(1, 8))):
        edit = _random_edit(seq, data)
        if edit is not None:
            seq.apply(edit)
            edits.append(edit)
    batch = twin.batch([lambda e=e: e for e in edits], "random batch")
    assert state(twin) == start
    twin.apply(batch)
    assert state(twin) == state(seq)
    twin.revert(batch)
    assert state(twin) == start
    assert batch.is_empty == (state(seq) == start)


def test_selections_accept_boolean_masks_and_refuse_non_integers():
    s = make_session()
    mask = [False] * 10
    mask[3] = mask[4] = True
    s.apply(s.reject(np.array(mask)))
    assert s.rejected == {3, 4}
    with pytest.raises(ReviewError, match="one entry per image"):
        s.reject(np.array([True, False]))
    with pytest.raises(ReviewError, match="must be integers"):
        s.move([1.5], 0)
    assert make_session(labels=(-1, -1)).next_cluster_id() == 0


def test_whole_session_queries_agree_with_the_per_image_ones():
    """final_classes / changed_mask / reviewed_mask (vectorised) equal class_of_image / is_changed / is_reviewed."""
    rng = np.random.default_rng(5)
    n = 3000
    given = [None if g == 0 else ("" if g == 1 else f"c{g}") for g in rng.integers(0, 6, n).tolist()]
    s = ReviewSession.from_result("/d", {}, [f"/d/{i}.png" for i in range(n)], given, rng.integers(-1, 30, n))
    s.cluster_names = {c: f"c{c % 7}" for c in range(-1, 30, 3)}
    s.accepted = {1, 4, 29, 77}
    s.rejected = set(rng.choice(n, 200, replace=False).tolist())
    s.reviewed = set(rng.choice(n, 300, replace=False).tolist())
    s.image_labels = {int(i): f"c{i % 5}" for i in rng.choice(n, 100, replace=False)}
    assert s.given_labels.count(None) > 0 and "" not in s.given_labels
    assert s.final_classes() == [s.class_of_image(i) for i in range(n)]
    assert s.changed_mask().tolist() == [s.is_changed(i) for i in range(n)]
    assert s.reviewed_mask().tolist() == [s.is_reviewed(i) for i in range(n)]
    empty = ReviewSession.from_result("/d", {}, [], [], [])
    assert empty.final_classes() == [] and empty.changed_mask().shape == (0,) and empty.summary()["images"] == 0
    arrays = ReviewSession("/d", {}, ["a", "b"], None, [0, 1], rejected=np.array([1]), reviewed=np.zeros(0, int),
                           accepted=np.array([0]))
    assert arrays.rejected == {1} and arrays.reviewed == set() and arrays.accepted == {0}


def test_cluster_memberships_follow_edits_without_a_full_regroup():
    rng = np.random.default_rng(2)
    s = ReviewSession.from_result("/d", {}, [f"/d/{i}.png" for i in range(2000)], None, rng.integers(-1, 25, 2000))
    done = []
    for step in range(150):
        ids = s.cluster_ids()
        pick = step % 5
        if pick == 0 and len(ids) > 2:
            edit = s.merge(rng.choice(ids, 2, replace=False).tolist())
        elif pick == 1 and s.size(ids[0]) > 1:
            edit = s.split(ids[0], rng.integers(0, 3, s.size(ids[0])))
        elif pick == 2:
            edit = s.move(rng.choice(2000, 9, replace=False), int(rng.choice(ids)) if step % 3 else None)
        elif pick == 3 and done:
            s.revert(done.pop())
            edit = None
        else:
            edit = s.name(int(rng.choice(ids)), "x")
        if edit is not None and not edit.is_empty:
            s.apply(edit)
            done.append(edit)
        fresh = ReviewSession.from_result("/d", {}, s.paths, None, s.assignments.copy())
        assert s.cluster_ids() == fresh.cluster_ids(), step
        assert all(np.array_equal(s.members(c), fresh.members(c)) for c in fresh.cluster_ids()), step
    assert s.next_cluster_id() == fresh.next_cluster_id()
