"""What to review next: the group where one decision fixes the most labels.

Two kinds of items compete on one score, the expected number of labels one decision fixes:

* ``"cluster"``: an unnamed cluster; score = undecided members x uncertainty (1 - the
  cluster's suggestion confidence), so big clusters the model cannot explain come first;
* ``"accept"``: a page of undecided images the model suggests as one class, most
  confident first; score = sum of their confidences (one bulk accept decides them all).

The queue remembers nothing; pass ``declined`` (image index -> classes the reviewer
turned down for it) so refused suggestions are not offered again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from pipeline.suggest.decided import undecided_mask
from pipeline.suggest.propagation import Suggestions

#: Confidence floors tried in turn for accept pages (the first that yields a page wins).
ACCEPT_FLOORS = (0.5, 0.3, 0.15)
#: At most this many images on one accept page (2 screens of 60 thumbnails).
PAGE = 120


@dataclass
class QueueItem:
    """One proposal: ``kind`` ("cluster" or "accept"), the images in shown order, the
    suggested class (``None`` when the model knows nothing), its confidence and score."""

    kind: str
    indices: np.ndarray
    class_id: Optional[str]
    confidence: float
    score: float
    cluster_id: Optional[int] = None
    extra: dict = field(default_factory=dict)


def order_members(members: np.ndarray, suggestions: Suggestions, class_id: Optional[str], features=None) -> np.ndarray:
    """Show order inside a group: most likely ``class_id`` first (so misfits gather at the
    end); before any decision, nearest the group's mean feature first."""
    if class_id is not None and suggestions.classes and class_id in suggestions.classes:
        p = suggestions.proba[members, suggestions.class_index(class_id)]
        return members[np.argsort(-p, kind="stable")]
    if features is not None and len(members) > 1:
        x = features[members]
        d = ((x - x.mean(0)) ** 2).sum(1)
        return members[np.argsort(d, kind="stable")]
    return members


def cluster_items(session, suggestions: Suggestions, undecided: np.ndarray, features=None) -> list[QueueItem]:
    """One ``"cluster"`` item per unnamed cluster that still has undecided images."""
    items = []
    for cid in session.cluster_ids():
        if cid in session.cluster_names:
            continue
        members = session.members(cid)
        members = members[undecided[members]]
        if len(members) == 0:
            continue
        cls, conf = suggestions.cluster_vote(members)
        items.append(QueueItem("cluster", order_members(members, suggestions, cls, features), cls, conf,
                               len(members) * (1.0 - conf), cluster_id=cid))
    return items


def accept_items(
    suggestions: Suggestions, undecided: np.ndarray, declined: Optional[dict] = None, page: int = PAGE
) -> list[QueueItem]:
    """One ``"accept"`` page per suggested class: its most confident undecided images."""
    if not suggestions.classes:
        return []
    declined = declined or {}
    cand = np.flatnonzero(undecided)
    top = suggestions.top.copy()
    conf_all = suggestions.confidence.copy()
    col = {c: j for j, c in enumerate(suggestions.classes)}
    for i, refused in declined.items():  # next-best class for images whose suggestion was refused
        if not undecided[i]:
            continue
        p = suggestions.proba[i].copy()
        p[[col[c] for c in refused if c in col]] = 0.0
        top[i] = int(p.argmax())
        conf_all[i] = suggestions.confidence[i] * float(p[top[i]]) / max(float(suggestions.proba[i].max()), 1e-12)
        if p[top[i]] <= 0.0:
            conf_all[i] = -1.0
    cand = cand[conf_all[cand] >= 0.0]
    items = []
    for j in np.unique(top[cand]).tolist():
        group = cand[top[cand] == j]
        conf = conf_all[group]
        chosen = group[:0]
        for floor in ACCEPT_FLOORS:
            chosen = group[conf >= floor]
            if len(chosen):
                break
        if len(chosen) == 0:
            continue
        chosen = chosen[np.argsort(-conf_all[chosen], kind="stable")][:page]
        c = conf_all[chosen]
        items.append(QueueItem("accept", chosen, suggestions.classes[j], float(c.mean()), float(c.sum()),
                               extra={"floor": floor}))
    return items


def review_queue(
    session,
    suggestions: Suggestions,
    *,
    features: Optional[np.ndarray] = None,
    declined: Optional[dict] = None,
    page: int = PAGE,
) -> list[QueueItem]:
    """All proposals, best first (highest score; ties: bigger group)."""
    undecided = undecided_mask(session)
    items = cluster_items(session, suggestions, undecided, features)
    items += accept_items(suggestions, undecided, declined, page)
    items.sort(key=lambda it: (-it.score, -len(it.indices)))
    return items
