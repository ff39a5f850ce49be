"""Review assistance: class suggestions (zero-shot from pictograms, propagated from the
reviewer's decisions, calibrated), bulk accepts, a review queue, grow lists and labeling mode.

Headless (no Qt); every function takes plain arrays or a
:class:`~pipeline.review.session.ReviewSession` and returns plain data, so the window can
run it on a worker thread after each edit. The window's commands map 1:1 onto these:

* before any decision: ``ZeroShot(config, reducer).fit(taxonomy_icons(folder)[0]).suggest(features)``
  (zero_shot) gives every image and cluster (``Suggestions.cluster_vote``) a class;
* once per run: ``prop = Propagator().prepare(features)`` (the k-NN graph);
* after every edit (worker thread, about 1 s at 40,000 images):
  ``sugg = calibrated_suggestions(prop, session, n_taxonomy=len(taxonomy))``; its
  ``confidence`` is calibrated on held-out decisions (calibration, ``reliability_table``);
  with ``evidence=True, prior=zero_shot, history=SuggestionHistory(), declined=declined``
  (one history per open review) also on the distance to the decisions (novelty), the
  zero-shot prior and what became of earlier suggestions (history): the calibration
  ``bench/review_effort.py`` runs;
* refusals: images clicked out of a plan, and images moved out of a named cluster
  (``MoveRefusals(declined)`` as a session listener, undo included), go into ``declined``;
* "accept every suggestion above X %" (whole set, selected ``clusters`` or one class):
  ``plan = bulk_accept_plan(session, sugg, X, clusters=..., declined=...)`` is shown
  grouped by class (``plan.groups``), then ``session.apply(plan.edit(session, exclude=clicked))``
  is one undo step; ``plan_sizes`` lists how many images each X would take;
* "relabel disagreeing images": ``disagreement_plan(session, sugg, X)``, same plan object;
  ``propagation.disagreements`` gives the badges / "disagreeing first" order;
* Next: ``review_queue(session, sugg, features=features, declined=...)[0]`` (queue);
* Grow: ``grow_candidates`` + ``accept_prefix`` (grow);
* labeling mode: ``overcluster(features, overcluster_k(n), tree=run_tree)`` (labeling), then
  ``sibling_groups(session, stats.linkage, stats.ids, suggestion_vote(session, sugg), X)``: the
  dendrogram's branches whose clusters all get one class, named (or merged) in one undo step by
  ``siblings_edit`` (siblings).
"""
from pipeline.suggest.bulk import AcceptGroup, AcceptPlan, bulk_accept_plan, disagreement_plan, plan_sizes
from pipeline.suggest.calibration import Calibrator, EvidenceCalibrator, calibrated_suggestions, reliability_table
from pipeline.suggest.decided import decided_labels, undecided_mask
from pipeline.suggest.graph import knn_graph
from pipeline.suggest.grow import grow_candidates
from pipeline.suggest.history import SuggestionHistory
from pipeline.suggest.labeling import overcluster, overcluster_k
from pipeline.suggest.propagation import Propagator, Suggestions, exclude_declined
from pipeline.suggest.refusals import MoveRefusals, moved_out
from pipeline.suggest.siblings import SiblingGroup, refuse_left_out, sibling_groups, siblings_edit, suggestion_vote
from pipeline.suggest.queue import QueueItem, review_queue

__all__ = [
    "AcceptGroup",
    "AcceptPlan",
    "Calibrator",
    "EvidenceCalibrator",
    "MoveRefusals",
    "Propagator",
    "QueueItem",
    "SiblingGroup",
    "SuggestionHistory",
    "Suggestions",
    "bulk_accept_plan",
    "calibrated_suggestions",
    "decided_labels",
    "disagreement_plan",
    "exclude_declined",
    "grow_candidates",
    "knn_graph",
    "moved_out",
    "overcluster",
    "overcluster_k",
    "plan_sizes",
    "refuse_left_out",
    "reliability_table",
    "review_queue",
    "sibling_groups",
    "siblings_edit",
    "suggestion_vote",
    "undecided_mask",
]
