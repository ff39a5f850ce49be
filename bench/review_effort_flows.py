"""The simulated reviewers of ``bench/review_effort.py``: the cost counter and three flows.

Every command a flow issues is a ``ReviewSession`` edit or a ``pipeline.suggest`` API the
window offers (review queue, calibrated suggestions, bulk-accept plans, disagreement plans).
The true labels are used only to decide what a person looking at the screen would decide.
"""
from __future__ import annotations

import math
import time
from collections import Counter
from typing import Optional

import numpy as np

SCREEN = 60
TARGETS = (0.90, 0.95, 0.99)
#: Thresholds the reviewer may pick for "accept every suggestion above X %".
THRESHOLDS = (0.99, 0.98, 0.95, 0.9, 0.8, 0.7)
#: Images one click is worth when the reviewer decides to cut a group short instead of
#: clicking every wrong image in it.
CLICK_WORTH = 10.0
#: A dendrogram branch is named at once when this share of the images it keeps is one class.
BRANCH_PURITY = 0.9
#: ... and at most this many of its clusters need a Ctrl+click out (one click each; more and the branch is left
#: to the queue: on the full split, 38 branches with every other-class cluster clicked out cost 342 actions).
BRANCH_MAX_OUT = 3
#: Thresholds the reviewer may pick for "name the siblings that get one class" (a cluster vote's confidence).
SIBLING_THRESHOLDS = (0.9, 0.8, 0.7, 0.6, 0.5)
#: The window's threshold for "disagrees with the name" (gui.controllers.suggestions.DISAGREE_CONFIDENCE).
DISAGREE_CONFIDENCE = 0.25
COST_LINE = ("cost model: 1 action per command (name / accept plan / split / move / relabel), "
             "1 per image click, 2 per contiguous range (click, shift-click), an 'accept up to here' "
             "cut = 1 click; 60 thumbnails per screen, every class group or cluster starts a screen; "
             "time = 2 s/action + 4 s/screen")


#: Seeds of one run's steps never meet another run's: seed ``s`` draws from ``step + SEED_STRIDE * s``.
SEED_STRIDE = 1_000_003


def screens(n: int) -> int:
    return int(math.ceil(n / SCREEN))


def select_cost(mask_in_order: np.ndarray) -> int:
    """Clicks to select the ``True`` entries of a shown list: 1 per lone image, 2 per run."""
    m = np.asarray(mask_in_order, dtype=bool)
    if not m.any():
        return 0
    starts = np.flatnonzero(m & ~np.concatenate([[False], m[:-1]]))
    ends = np.flatnonzero(m & ~np.concatenate([m[1:], [False]]))
    return int(np.minimum(ends - starts + 1, 2).sum())


class Reviewer:
    """Counts actions and screens and records the correct share after every decision."""

    def __init__(self, session, truth: np.ndarray, flow: str) -> None:
        self.s = session
        self.truth = truth
        self.flow = flow
        self.actions = 0
        self.screens = 0
        self.curve: list[tuple[int, int, float]] = [(0, 0, self.share())]

    def share(self) -> float:
        final = np.asarray(self.s.final_classes(), dtype=object)
        return float(np.mean(final == self.truth))

    def command(self, edit, clicks: int = 0) -> None:
        self.s.apply(edit)
        self.actions += 1 + clicks

    def look(self, n_images: int = 0, n_screens: int = 0) -> None:
        self.screens += screens(n_images) + n_screens

    def record(self, share=None) -> float:
        share = self.share() if share is None else share
        self.curve.append((self.actions, self.screens, share))
        return share

    def at(self, target: float):
        for a, sc, share in self.curve:
            if share >= target - 1e-12:
                return a, sc, share
        return None


# ---------------------------------------------------------------------------- assisted
def review_group(truth_in_order: np.ndarray, class_id: str) -> tuple[int, np.ndarray, int]:
    """How a reviewer handles one shown class group: ``(cut, wrong_clicked_mask, clicks)``.

    Either click every wrong image (refusing it), or click the wrong ones before a point
    and "accept up to here" (1 click) there; whichever keeps most right images per click.
    """
    wrong = truth_in_order != class_id
    n = len(wrong)
    best = (n, wrong.copy(), select_cost(wrong))
    best_score = (~wrong).sum() - CLICK_WORTH * best[2]
    for j in np.flatnonzero(wrong).tolist():
        if j == 0:  # a cut before the first image accepts nothing: click the wrong ones instead
            continue
        clicks = select_cost(wrong[:j]) + 1
        score = (~wrong[:j]).sum() - CLICK_WORTH * clicks
        if score > best_score:
            mask = wrong.copy()
            mask[j:] = False
            best, best_score = (j, mask, clicks), score
    return best


def do_plan(r: Reviewer, plan, truth, declined: dict, stats: dict, relabel: bool = False,
            sugg=None, feedback=None, history=None) -> None:
    """Look at every group of a plan, refuse the wrong ones, apply the rest as one edit."""
    r.look(n_screens=plan.screens(SCREEN))
    if history is not None and not relabel:  # what the tool knows: the plan was shown
        history.shown(plan.indices)
    exclude: list[int] = []
    clicks = 0
    for g in plan.groups:
        cut, clicked, c = review_group(truth[g.indices], g.class_id)
        clicks += c
        if feedback is not None and not relabel:  # the tool learns what was accepted / refused
            ok = np.ones(len(g.indices), dtype=bool)
            ok[cut:] = False
            ok[clicked] = False
            feedback.record(sugg, g.indices[ok], g.indices[clicked])
        exclude.extend(g.indices[cut:].tolist())
        for i in g.indices[clicked].tolist():
            exclude.append(i)
            declined.setdefault(i, set()).add(g.class_id)
    key = "relabel_plans" if relabel else "accept_plans"
    stats[key] = stats.get(key, 0) + 1
    stats["plan_images_shown"] = stats.get("plan_images_shown", 0) + len(plan)
    stats["plan_clicks"] = stats.get("plan_clicks", 0) + clicks
    stats.setdefault("trace", []).append((key, plan.threshold, len(plan), len(plan) - len(set(exclude)), clicks,
                                          plan.screens(SCREEN)))
    r.command(plan.edit(r.s, exclude=exclude), clicks=clicks)


def do_cluster(r: Reviewer, item, features, truth, stats: dict, step: int, fix_limit: int) -> None:
    """Name a shown cluster with its majority; move misfits out when cheap; split a mix."""
    from pipeline.clustering.api import cluster_features

    session = r.s
    cid = item.cluster_id
    shown = item.indices
    r.look(len(shown))
    stats["clusters_named"] = stats.get("clusters_named", 0) + 1
    major, count = Counter(truth[shown].tolist()).most_common(1)[0]
    if item.class_id is not None and item.class_id == major:
        stats["cluster_suggestion_right"] = stats.get("cluster_suggestion_right", 0) + 1
    wrong = truth[shown] != major
    if count / len(shown) < 0.5 and len(shown) >= 4:
        sub = cluster_features(features[session.members(cid)], "kmeans", 2, seed=step).labels
        if len(np.unique(sub)) == 2:
            stats["splits"] = stats.get("splits", 0) + 1
            r.command(session.split(cid, sub))
            return
    r.command(session.name(cid, major))
    stats.setdefault("trace", []).append(("name", None, len(shown), int((~wrong).sum()), 0, screens(len(shown))))
    clicks = select_cost(wrong)
    if wrong.any() and clicks <= fix_limit:
        r.command(session.move(shown[wrong], None), clicks=clicks)


def window_tree(session, features):
    """The window's cluster statistics, with the dendrogram's linkage (ward over the cluster centres)."""
    from pipeline.clustering.summary import compute_cluster_stats

    return compute_cluster_stats(features, {c: session.members(c) for c in session.cluster_ids()})


def dendrogram_branches(session, features, n_groups: int) -> list[list[int]]:
    """The window's dendrogram (ward over the cluster centres) cut into ``n_groups`` branches, the
    biggest first: what dragging its red line to that many groups previews."""
    from scipy.cluster.hierarchy import fcluster

    stats = window_tree(session, features)
    if stats.linkage is None:
        return []
    flat = fcluster(stats.linkage, t=n_groups, criterion="maxclust")
    groups: dict[int, list[int]] = {}
    for cid, g in zip(stats.ids, flat.tolist()):
        groups.setdefault(g, []).append(int(cid))
    return sorted(groups.values(), key=lambda g: (-sum(session.size(c) for c in g), g[0]))


def do_branch(r: Reviewer, branch: list[int], truth, stats: dict) -> bool:
    """Name a dendrogram branch at once when it is nearly one class: click the branch (its clusters
    are selected), Ctrl+click the clusters of another class out, Name. Every cluster is looked at."""
    session = r.s
    r.look(n_screens=sum(screens(session.size(c)) for c in branch))
    members = {c: session.members(c) for c in branch}
    pooled = np.concatenate(list(members.values()))
    major, _ = Counter(truth[pooled].tolist()).most_common(1)[0]
    keep = [c for c in branch if Counter(truth[members[c]].tolist()).most_common(1)[0][0] == major]
    kept = np.concatenate([members[c] for c in keep]) if keep else np.zeros(0, np.int64)
    if len(keep) < 2 or len(branch) - len(keep) > BRANCH_MAX_OUT or np.mean(truth[kept] == major) < BRANCH_PURITY:
        return False
    r.actions += 1 + (len(branch) - len(keep))  # the branch click and the Ctrl+clicks
    r.command(session.batch([lambda c=c: session.name(c, major) for c in keep], f"Name {len(keep)} clusters"))
    stats["branches_named"] = stats.get("branches_named", 0) + 1
    stats["branch_clusters_named"] = stats.get("branch_clusters_named", 0) + len(keep)
    return True


def sibling_plan(session, sugg, features):
    """The window's "Name siblings…" at the threshold whose groups promise most right images per
    expected action (each wrong cluster costs a Ctrl+click): ``(groups, value)``, ``(None, 0.0)`` when none."""
    from pipeline.suggest.decided import unmarked_members
    from pipeline.suggest.siblings import sibling_groups, suggestion_vote

    stats = window_tree(session, features)
    votes: dict[int, tuple] = {}
    plain = suggestion_vote(session, sugg)

    def vote(cid):  # the cluster table caches its votes the same way
        if cid not in votes:
            votes[cid] = plain(cid)
        return votes[cid]

    best, best_value = None, 0.0
    for t in SIBLING_THRESHOLDS:
        groups = sibling_groups(session, stats.linkage, stats.ids, vote, t)
        unnamed = [c for g in groups for c in g.unnamed]
        if not unnamed:
            continue
        right = sum(vote(c)[1] * len(unmarked_members(session, c)) for c in unnamed)
        value = right / (1.0 + sum(1.0 - vote(c)[1] for c in unnamed))
        if value > best_value:
            best, best_value = groups, value
    return best, best_value


def do_siblings(r: Reviewer, groups, truth, declined: dict, stats: dict) -> None:
    """Look at every cluster the groups would name, Ctrl+click out those whose majority is another
    class (1 click each: they refuse the class, as in the window), name the rest in one command
    (:func:`~pipeline.suggest.siblings.siblings_edit`)."""
    from pipeline.suggest.decided import unmarked_members
    from pipeline.suggest.siblings import refuse_left_out, siblings_edit

    session = r.s
    out: list[int] = []
    for g in groups:
        for c in g.unnamed:
            members = unmarked_members(session, c)
            r.look(len(members))
            if Counter(truth[members].tolist()).most_common(1)[0][0] != g.class_id:
                out.append(c)
    named = sum(len(g.unnamed) for g in groups) - len(out)
    stats["sibling_plans"] = stats.get("sibling_plans", 0) + 1
    stats["sibling_clusters_named"] = stats.get("sibling_clusters_named", 0) + named
    stats["sibling_clicks"] = stats.get("sibling_clicks", 0) + len(out)
    edit = siblings_edit(session, groups, exclude=out)
    refuse_left_out(session, groups, out, declined)
    r.command(edit, clicks=len(out))


def named_to_review(session, flagged: np.ndarray, reviewed: set) -> Optional[int]:
    """The named cluster not yet looked over that the cluster table lists first when sorted by its
    "⚠ N differ" count (``flagged``: the images whose confident suggestion differs from their
    cluster's name, :func:`~pipeline.suggest.propagation.disagreements`), then by size."""
    todo = [c for c in session.cluster_names if c not in reviewed and session.size(c)]
    if not todo:
        return None
    n_bad = Counter(session.assignments[flagged].tolist()) if len(flagged) else Counter()
    return min(todo, key=lambda c: (-n_bad.get(c, 0), -session.size(c), c))


def do_review_named(r: Reviewer, cid: int, flagged: np.ndarray, features, truth, stats: dict) -> None:
    """Look over a named cluster in the grid's "Disagreeing first" order (the ``flagged`` images first,
    the rest by distance to the centre) and fix its wrong images: one Label... per class among them
    when they hold at most two, else one Move to a new cluster."""
    from pipeline.suggest.decided import unmarked_members

    session = r.s
    name = session.cluster_names[cid]
    members = unmarked_members(session, cid)
    flagged = set(flagged.tolist())
    dist = np.linalg.norm(features[members] - features[members].mean(0), axis=1)
    order = members[np.lexsort((dist, [i not in flagged for i in members.tolist()]))]
    r.look(len(order))
    stats["named_reviewed"] = stats.get("named_reviewed", 0) + 1
    wrong = truth[order] != name
    if not wrong.any():
        return
    classes = sorted(set(truth[order][wrong].tolist()))
    if len(classes) <= 2:
        for c in classes:
            mask = truth[order] == c
            r.command(session.set_image_label(order[mask], c, mark_reviewed=True), clicks=select_cost(mask))
    else:
        r.command(session.move(order[wrong], None), clicks=select_cost(wrong))
    stats["named_fixed"] = stats.get("named_fixed", 0) + int(wrong.sum())


def best_plan(session, sugg, declined, *, disagreeing: bool = False):
    """The threshold whose plan promises most right images per expected action."""
    from pipeline.suggest.bulk import bulk_accept_plan, disagreement_plan

    best, best_value = None, 0.0
    for t in THRESHOLDS:
        plan = (disagreement_plan(session, sugg, t, declined=declined) if disagreeing
                else bulk_accept_plan(session, sugg, t, declined=declined))
        if len(plan) == 0:
            continue
        right = plan.expected_right
        value = right / (1.0 + (len(plan) - right))
        if value > best_value:
            best, best_value = plan, value
    return best, best_value


def assisted_flow(session, features, truth, *, max_actions: int, fix_limit: int = 3, n_taxonomy=None,
                  min_groups: int = 60, keep_feedback: int = 0, suggest_kw=None, branches: bool = False,
                  siblings: bool = False, seed: int = 0, log=print):
    """Labeling mode (``branches``: first name the dendrogram's branches at ``n_taxonomy`` groups that
    are nearly one class, :func:`do_branch`), then the queue's top cluster or the best bulk accept,
    whichever does more per action (``siblings``: the window's "Name siblings…" competes too, :func:`sibling_plan`;
    ``seed``: shifts the calibration's held-out draws and the splits' k-means,
    so runs with other seeds show how far the figures move on choices the tool makes at random);
    once every image is decided and no relabel plan is offered, the named clusters are looked over in
    the table's Suggestion order ("⚠ N differ" first, :func:`named_to_review`) and fixed (:func:`do_review_named`)."""
    from pipeline.suggest import Propagator
    from pipeline.suggest.calibration import ReviewFeedback, calibrated_suggestions
    from pipeline.suggest.queue import cluster_items
    from pipeline.suggest.decided import undecided_mask
    from pipeline.suggest.propagation import disagreements
    from pipeline.suggest.refusals import MoveRefusals

    r = Reviewer(session, truth, "assisted")
    t0 = time.perf_counter()
    prop = Propagator().prepare(features)
    stats = {"graph_s": time.perf_counter() - t0, "fit_s": [], "reliability": [], "propagator": prop}
    declined: dict[int, set] = {}
    refusals = MoveRefusals(declined)  # as in the window: moving images out of a named cluster refuses its name
    session.add_listener(lambda edit: refusals.on_edit(session, edit))
    feedback = ReviewFeedback(keep_feedback) if keep_feedback else None
    share = r.share()
    if branches and n_taxonomy:  # first the dendrogram's coarse branches that are nearly one class
        for branch in dendrogram_branches(session, features, int(n_taxonomy)):
            if len(branch) >= 2 and do_branch(r, branch, truth, stats):
                share = r.record()
        log(f"  assisted: {stats.get('branches_named', 0)} dendrogram branches named, actions {r.actions}, "
            f"screens {r.screens}, correct {share:.4f}")
    step = 0
    reviewed: set[int] = set()  # named clusters looked over once at the end
    while r.actions < max_actions and share < TARGETS[-1]:
        draw = step + SEED_STRIDE * seed  # this step's random choices
        sugg = calibrated_suggestions(prop, session, seed=draw, n_taxonomy=n_taxonomy, feedback=feedback,
                                     min_groups=min_groups, declined=declined, **(suggest_kw or {}))
        stats["fit_s"].append(sugg.fit_seconds)
        undecided = undecided_mask(session)
        if sugg.classes and undecided.any() and step % 5 == 0:
            pred = np.asarray(sugg.classes, dtype=object)[sugg.top[undecided]]
            stats["reliability"].append((sugg.confidence[undecided], pred == truth[undecided]))
        plan, plan_value = best_plan(session, sugg, declined)
        fix, fix_value = best_plan(session, sugg, declined, disagreeing=True)
        items = sorted(cluster_items(session, sugg, undecided, features), key=lambda it: -it.score)
        top = items[0] if items else None
        cluster_value = len(top.indices) if top is not None else 0.0
        sib, sib_value = sibling_plan(session, sugg, features) if siblings and sugg.classes else (None, 0.0)
        if fix is not None and fix_value >= max(plan_value, cluster_value, 2.0):
            do_plan(r, fix, truth, declined, stats, relabel=True)
        elif sib is not None and sib_value >= max(plan_value, cluster_value):
            do_siblings(r, sib, truth, declined, stats)
        elif plan is not None and plan_value >= cluster_value:
            do_plan(r, plan, truth, declined, stats, sugg=sugg, feedback=feedback,
                    history=(suggest_kw or {}).get("history"))
        elif top is not None:
            do_cluster(r, top, features, truth, stats, draw, fix_limit)
        elif fix is not None:
            do_plan(r, fix, truth, declined, stats, relabel=True)
        else:  # everything decided and nothing the tool can relabel: look over the named clusters it doubts
            flagged = disagreements(session, sugg, DISAGREE_CONFIDENCE)
            cid = named_to_review(session, flagged, reviewed)
            if cid is None:
                break
            reviewed.add(cid)
            do_review_named(r, cid, flagged, features, truth, stats)
        share = r.record()
        step += 1
        if step % 25 == 0:
            log(f"  assisted: step {step}, actions {r.actions}, screens {r.screens}, correct {share:.4f}, "
                f"undecided {int(undecided_mask(session).sum())}")
    return r, stats


# ---------------------------------------------------------------------------- baselines
def today_flow(session, truth) -> Reviewer:
    """Name clusters with their majority, then fix minority groups, best gain per action first."""
    r = Reviewer(session, truth, "today")
    ops = []
    for cid in session.cluster_ids():
        members = session.members(cid)
        counts = Counter(truth[members].tolist())
        major, m = counts.most_common(1)[0]
        ops.append((m / 1.0, 0, cid, major, None))
        for cls, c in counts.items():
            if cls != major:
                ops.append((c / (c + 1.0), 1, cid, cls, members[truth[members] == cls]))
    ops.sort(key=lambda o: (-o[0], o[1]))
    for ratio, kind, cid, cls, idx in ops:
        if kind == 0:
            r.look(session.size(cid))
            r.command(session.name(cid, cls))
        else:
            r.command(session.set_image_label(idx, cls, mark_reviewed=True), clicks=len(idx))
        if r.record() >= TARGETS[-1]:
            break
    return r


def per_image_flow(session, truth) -> Reviewer:
    """Label every image by hand: 1 action each, every image seen once."""
    r = Reviewer(session, truth, "per-image")
    n = len(truth)
    marks = {int(math.ceil(t * n)) for t in TARGETS} | set(range(500, n + 1, 500))
    for i in range(n):
        r.command(session.set_image_label([i], truth[i], mark_reviewed=True))
        if (i + 1) in marks:
            r.screens = screens(i + 1)
            if r.record() >= TARGETS[-1]:
                break
    return r
