"""Naming dendrogram siblings that get one class (labeling mode), on a hand-made tree."""
import numpy as np

from pipeline.review.session import ReviewSession
from pipeline.suggest import Suggestions, refuse_left_out, sibling_groups, siblings_edit, suggestion_vote

#: ((0, 1), (2, 3)) over four clusters, scipy's linkage layout.
TREE = np.array([[0, 1, 1.0, 2], [2, 3, 1.0, 2], [4, 5, 2.0, 4]], dtype=float)


def _session(sizes=(3, 3, 3, 3), ids=(0, 1, 2, 3)):
    clusters = np.concatenate([[c] * n for c, n in zip(ids, sizes)]).astype(np.int64)
    return ReviewSession.from_result("f", {}, [f"{i}.png" for i in range(len(clusters))], None, clusters)


def _votes(table):
    return lambda cid: table.get(cid, (None, 0.0))


def test_the_largest_agreeing_branch_is_one_group():
    s = _session()
    vote = _votes({0: ("A", 0.9), 1: ("A", 0.8), 2: ("A", 0.9), 3: ("B", 0.9)})
    groups = sibling_groups(s, TREE, [0, 1, 2, 3], vote, threshold=0.5)
    assert [(g.class_id, g.clusters, g.unnamed, g.images) for g in groups] == [("A", [0, 1], [0, 1], 6)]
    assert groups[0].confidence == 0.8
    assert sibling_groups(s, TREE, [0, 1, 2, 3], vote, threshold=0.85) == []  # cluster 1 is not sure enough
    assert sibling_groups(s, TREE, [0, 1, 2, 3], vote, clusters=[0, 2, 3]) == []  # 1 is not selected


def test_a_named_sibling_joins_the_branch_and_is_not_renamed():
    s = _session()
    s.apply(s.name(3, "A"))
    vote = _votes({0: ("A", 0.9), 1: ("A", 0.8), 2: ("A", 0.7), 3: ("B", 0.99)})  # a named cluster's vote is ignored
    (g,) = sibling_groups(s, TREE, [0, 1, 2, 3], vote)
    assert (g.clusters, g.unnamed, g.confidence, g.images) == ([0, 1, 2, 3], [0, 1, 2], 0.7, 9)
    s.apply(s.name(0, "A"))
    s.apply(s.name(1, "A"))
    s.apply(s.name(2, "A"))
    assert sibling_groups(s, TREE, [0, 1, 2, 3], vote) == []  # nothing left to name


def test_edit_names_or_merges_in_one_undo_step():
    s = _session()
    vote = _votes({0: ("A", 0.9), 1: ("A", 0.9), 2: ("B", 0.9), 3: ("B", 0.9)})
    groups = sibling_groups(s, TREE, [0, 1, 2, 3], vote)
    assert sorted(g.class_id for g in groups) == ["A", "B"]
    edit = siblings_edit(s, groups, exclude=[3])
    s.apply(edit)
    assert s.cluster_names == {0: "A", 1: "A", 2: "B"}
    s.revert(edit)
    assert s.cluster_names == {}
    edit = siblings_edit(s, groups, merge=True)
    s.apply(edit)
    assert s.cluster_ids() == [0, 2] and s.cluster_names == {0: "A", 2: "B"} and s.size(0) == 6
    s.revert(edit)
    assert s.cluster_ids() == [0, 1, 2, 3] and s.cluster_names == {}


def test_the_vote_is_the_cluster_tables_and_skips_decided_images():
    s = _session()
    proba = np.zeros((12, 2), np.float32)
    proba[:, 0] = 1.0
    proba[:3] = [0.0, 1.0]  # cluster 0: class B
    sugg = Suggestions(["A", "B"], proba, proba.argmax(1), np.full(12, 0.9, np.float32))
    vote = suggestion_vote(s, sugg)
    assert vote(0)[0] == "B" and vote(1)[0] == "A" and abs(vote(1)[1] - 0.9) < 1e-6
    s.apply(s.set_image_label([3, 4, 5], "B"))  # every image of cluster 1 has a label of its own
    assert vote(1) == (None, 0.0)
    groups = sibling_groups(s, TREE, [0, 1, 2, 3], vote)
    assert [(g.class_id, g.clusters) for g in groups] == [("A", [2, 3])]


def test_a_left_out_cluster_refuses_its_class_for_its_undecided_images():
    s = _session()
    s.apply(s.set_image_label([6], "C"))  # an image of cluster 2 with a decision of its own
    vote = _votes({0: ("A", 0.9), 1: ("A", 0.9), 2: ("B", 0.9), 3: ("B", 0.9)})
    groups = sibling_groups(s, TREE, [0, 1, 2, 3], vote)
    declined = {0: {"Z"}}
    assert refuse_left_out(s, groups, [2], declined) == 2
    assert declined == {0: {"Z"}, 7: {"B"}, 8: {"B"}}
