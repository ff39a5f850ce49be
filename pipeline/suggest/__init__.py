"""Review assistance: class suggestions propagated from the reviewer's decisions, a review
queue, grow lists for named clusters and the over-clustering labeling mode.

Headless (no Qt); every function takes plain arrays or a
:class:`~pipeline.review.session.ReviewSession` and returns plain data, so the window can
run it on a worker thread after each edit.
"""
from pipeline.suggest.decided import decided_labels, undecided_mask
from pipeline.suggest.graph import knn_graph
from pipeline.suggest.grow import grow_candidates
from pipeline.suggest.labeling import overcluster, sibling_groups
from pipeline.suggest.propagation import Propagator, Suggestions
from pipeline.suggest.queue import QueueItem, review_queue

__all__ = [
    "Propagator",
    "QueueItem",
    "Suggestions",
    "decided_labels",
    "grow_candidates",
    "knn_graph",
    "overcluster",
    "review_queue",
    "sibling_groups",
    "undecided_mask",
]
