"""Labeling mode's second half: name at once the dendrogram siblings the suggestions give one class.

Over-clustering leaves many small clusters of one class side by side in the dendrogram
(the ward tree over the cluster centres the window shows). :func:`sibling_groups` walks
that tree and returns every largest branch whose clusters all agree on one class: each
unnamed cluster's suggestion (its undecided images' vote, as the cluster table shows it)
is that class at ``threshold`` or more, and each named cluster in it bears that name.
A branch needs two clusters or more, one of them unnamed. :func:`siblings_edit` names the
unnamed clusters of the chosen groups (or merges each group into one named cluster) as
one undo step; :func:`refuse_left_out` records the clusters the reviewer left out as refusing their
group's class (so neither the suggestions nor the next list offers it for them again).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Sequence

import numpy as np

from pipeline.suggest.decided import unmarked_members
from pipeline.suggest.propagation import Suggestions

#: ``vote(cluster_id) -> (class or None, confidence)``: an unnamed cluster's suggestion.
Vote = Callable[[int], tuple[Optional[str], float]]


@dataclass
class SiblingGroup:
    """A dendrogram branch whose clusters all get ``class_id``.

    ``clusters``: every cluster of the branch in the tree's leaf order; ``unnamed``: those it
    would name (the others already bear ``class_id``); ``confidence``: the lowest suggestion
    confidence among ``unnamed``; ``images``: the images of ``unnamed``.
    """

    class_id: str
    clusters: list[int]
    unnamed: list[int]
    confidence: float
    images: int


def suggestion_vote(session, suggestions: Suggestions) -> Vote:
    """The cluster table's vote: the suggestions of the cluster's images without a decision of their own."""
    def vote(cid: int) -> tuple[Optional[str], float]:
        members = unmarked_members(session, cid)
        return suggestions.cluster_vote(members) if len(members) else (None, 0.0)
    return vote


def sibling_groups(session, linkage: Optional[np.ndarray], ids: Sequence[int], vote: Vote,
                   threshold: float = 0.5, clusters: Optional[Iterable[int]] = None) -> list[SiblingGroup]:
    """The largest branches of ``linkage`` (scipy, over the clusters ``ids``) whose clusters agree
    on one class (see the module docstring), most images to name first.

    ``clusters``: only branches inside this set (the selection); default all.
    """
    n = len(ids)
    if linkage is None or n < 2:
        return []
    allowed = None if clusters is None else {int(c) for c in clusters}
    names = session.cluster_names
    # per node: the class every cluster under it agrees on (None: they do not), its leaves
    agree: list[Optional[str]] = []
    has_unnamed: list[bool] = []
    confidence_of: dict[int, float] = {}  # the unnamed clusters that agree with something
    for cid in ids:
        cid = int(cid)
        cls = None
        if session.size(cid) and (allowed is None or cid in allowed):
            if cid in names:
                cls = names[cid]
            else:
                cls, conf = vote(cid)
                cls = cls if cls is not None and conf >= threshold else None
                if cls is not None:
                    confidence_of[cid] = float(conf)
        agree.append(cls)
        has_unnamed.append(cls is not None and cid not in names)
    children = np.asarray(linkage[:, :2], dtype=np.int64)
    for a, b in children.tolist():
        same = agree[a] is not None and agree[a] == agree[b]
        agree.append(agree[a] if same else None)
        has_unnamed.append(same and (has_unnamed[a] or has_unnamed[b]))
    parent = np.full(len(agree), -1, dtype=np.int64)
    for j, (a, b) in enumerate(children.tolist()):
        parent[a] = parent[b] = n + j
    groups = []
    for node in range(n, len(agree)):  # internal nodes only: a group holds two clusters or more
        top = parent[node] < 0 or agree[parent[node]] is None
        if agree[node] is None or not has_unnamed[node] or not top:
            continue
        leaves = _leaves(children, n, node)
        members = [int(ids[i]) for i in leaves]
        unnamed = [c for c in members if c not in names]
        images = int(sum(len(unmarked_members(session, c)) for c in unnamed))
        groups.append(SiblingGroup(agree[node], members, unnamed, min(confidence_of[c] for c in unnamed), images))
    groups.sort(key=lambda g: (-g.images, g.clusters[0]))
    return groups


def _leaves(children: np.ndarray, n: int, node: int) -> list[int]:
    out, stack = [], [node]
    while stack:
        j = stack.pop()
        if j < n:
            out.append(j)
        else:
            a, b = children[j - n]
            stack += [int(b), int(a)]
    return out


def siblings_edit(session, groups: Sequence[SiblingGroup], *, exclude: Iterable[int] = (), merge: bool = False):
    """One unapplied edit naming the unnamed clusters of ``groups`` but ``exclude`` with their group's
    class; ``merge``: each group's remaining clusters (named ones too) become one cluster of that name."""
    drop = {int(c) for c in exclude}
    steps = []
    n = 0
    for g in groups:
        unnamed = [c for c in g.unnamed if c not in drop]
        if not unnamed:
            continue
        n += len(unnamed)
        keep = [c for c in g.clusters if c not in drop]
        if merge and len(keep) >= 2:
            target = session.merge_target(keep)
            steps.append(lambda keep=keep: session.merge(keep))
            steps.append(lambda t=target, c=g.class_id: session.name(t, c))
        else:
            steps += [lambda cid=cid, c=g.class_id: session.name(cid, c) for cid in unnamed]
    verb = "Merge and name" if merge else "Name"
    return session.batch(steps, f"{verb} {n} sibling cluster{'s' if n != 1 else ''} with their suggestions")


def refuse_left_out(session, groups: Sequence[SiblingGroup], exclude: Iterable[int], declined: dict) -> int:
    """Add each left-out cluster's group class to ``declined`` (image -> refused classes) for its images
    without a decision of their own; returns how many images that touched."""
    drop = {int(c) for c in exclude}
    n = 0
    for g in groups:
        for c in g.unnamed:
            if c in drop:
                for i in unmarked_members(session, c).tolist():
                    declined.setdefault(int(i), set()).add(g.class_id)
                    n += 1
    return n
