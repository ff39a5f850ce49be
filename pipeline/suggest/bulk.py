"""Accept every suggestion above X % (for the whole set or some clusters) as one edit.

The window shows the plan before it is applied: the images grouped by suggested class,
classes with the most images first, most confident image first inside each class (so the
doubtful ones gather at the end of each group). The reviewer clicks the wrong ones to
leave them out; :meth:`AcceptPlan.edit` turns the rest into one
:meth:`ReviewSession.batch` edit (one undo step) that labels each image with its
suggestion and marks it reviewed.

    plan = bulk_accept_plan(session, suggestions, 0.95)           # whole set
    plan = bulk_accept_plan(session, suggestions, 0.9, clusters=[3, 7])
    plan.groups[0].class_id, plan.groups[0].indices, plan.screens()
    session.apply(plan.edit(session, exclude=wrong_ones))
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Optional

import numpy as np

from pipeline.suggest.decided import undecided_mask
from pipeline.suggest.propagation import Suggestions


@dataclass
class AcceptGroup:
    """The images a plan labels ``class_id``, in shown order, with their confidences."""

    class_id: str
    indices: np.ndarray
    confidence: np.ndarray


@dataclass
class AcceptPlan:
    """What "accept every suggestion above ``threshold``" would do, before it is done."""

    threshold: float
    groups: list[AcceptGroup] = field(default_factory=list)

    def __len__(self) -> int:
        return int(sum(len(g.indices) for g in self.groups))

    @property
    def indices(self) -> np.ndarray:
        """Every image of the plan, in shown order."""
        if not self.groups:
            return np.zeros(0, np.int64)
        return np.concatenate([g.indices for g in self.groups])

    @property
    def expected_right(self) -> float:
        """Sum of the (calibrated) confidences: the expected number of right labels."""
        return float(sum(g.confidence.sum() for g in self.groups))

    def screens(self, per_screen: int = 60) -> int:
        """Screens of thumbnails the plan fills when every class group starts a new screen."""
        return int(sum(math.ceil(len(g.indices) / per_screen) for g in self.groups))

    def edit(self, session, exclude: Iterable[int] = (), text: Optional[str] = None):
        """One unapplied edit labelling every planned image but ``exclude`` (one undo step)."""
        drop = set(int(i) for i in exclude)
        steps = []
        n = 0
        for g in self.groups:
            keep = np.asarray([i for i in g.indices.tolist() if i not in drop], dtype=np.int64)
            if len(keep):
                n += len(keep)
                steps.append(lambda keep=keep, c=g.class_id: session.set_image_label(keep, c, mark_reviewed=True))
        text = text or f"Accept {n} suggestion{'s' if n != 1 else ''} above {self.threshold:.0%}"
        return session.batch(steps, text)


def bulk_accept_plan(
    session,
    suggestions: Suggestions,
    threshold: float,
    clusters: Optional[Iterable[int]] = None,
    *,
    declined: Optional[dict] = None,
    classes: Optional[Iterable[str]] = None,
) -> AcceptPlan:
    """Undecided images (of ``clusters``, default all) whose suggestion reaches ``threshold``.

    ``declined`` maps an image to the classes the reviewer already refused for it; those
    images are left out while their suggestion is a refused class. ``classes`` keeps only
    suggestions of those classes ("accept above X % for this class").
    """
    if not suggestions.classes:
        return AcceptPlan(float(threshold))
    mask = undecided_mask(session)
    if clusters is not None:
        mask &= np.isin(session.assignments, np.fromiter(clusters, dtype=np.int64))
    mask &= suggestions.confidence >= threshold
    cand = np.flatnonzero(mask)
    top = suggestions.top[cand]
    if declined:
        names = suggestions.classes
        ok = np.fromiter((names[t] not in declined.get(int(i), ()) for i, t in zip(cand.tolist(), top.tolist())),
                         dtype=bool, count=len(cand))
        cand, top = cand[ok], top[ok]
    wanted = None if classes is None else {suggestions.class_index(c) for c in classes if c in suggestions.classes}
    groups = []
    for j in np.unique(top).tolist():
        if wanted is not None and j not in wanted:
            continue
        members = cand[top == j]
        conf = suggestions.confidence[members]
        order = np.argsort(-conf, kind="stable")
        groups.append(AcceptGroup(suggestions.classes[j], members[order], conf[order]))
    groups.sort(key=lambda g: -len(g.indices))
    return AcceptPlan(float(threshold), groups)


def plan_sizes(session, suggestions: Suggestions, thresholds: Iterable[float], **kw) -> dict[float, int]:
    """Images each threshold would accept (the window's "above X %: N images" list)."""
    return {float(t): len(bulk_accept_plan(session, suggestions, t, **kw)) for t in thresholds}


def disagreement_plan(
    session, suggestions: Suggestions, threshold: float, *, declined: Optional[dict] = None
) -> AcceptPlan:
    """Images a cluster name decides whose suggestion (at ``threshold`` or more) is another class.

    Applying it relabels each image with its suggestion (an image label overrides the
    cluster's name), so one reviewed plan fixes the misfits of many named clusters.
    """
    if not suggestions.classes or not session.cluster_names:
        return AcceptPlan(float(threshold))
    names = np.full(len(session.assignments), None, dtype=object)
    named = np.isin(session.assignments, np.fromiter(session.cluster_names, dtype=np.int64))
    lookup = session.cluster_names
    names[named] = [lookup[c] for c in session.assignments[named].tolist()]
    for i in list(session.image_labels) + list(session.rejected):
        names[int(i)] = None
    sug = np.asarray(suggestions.classes, dtype=object)[suggestions.top]
    cand = np.flatnonzero((names != None) & (sug != names) & (suggestions.confidence >= threshold))  # noqa: E711
    if declined:
        cand = np.asarray([i for i in cand.tolist() if sug[i] not in declined.get(i, ())], dtype=np.int64)
    groups = []
    for c in sorted(set(sug[cand].tolist()), key=str):
        members = cand[sug[cand] == c]
        conf = suggestions.confidence[members]
        order = np.argsort(-conf, kind="stable")
        groups.append(AcceptGroup(c, members[order], conf[order]))
    groups.sort(key=lambda g: -len(g.indices))
    return AcceptPlan(float(threshold), groups)
