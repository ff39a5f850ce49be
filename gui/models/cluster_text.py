"""Text shown for clusters and images: labels, tooltips, metadata rows, the center view's HTML.

Plain functions of the session, taxonomy and :class:`ClusterStats` (no widgets), so the
pages stay layout code and the texts can be tested on their own.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

from pipeline.clustering.summary import ClusterStats
from pipeline.review import ReviewSession, Taxonomy
from pipeline.review.label_stats import cluster_majority

from gui.models.thumbnail_model import CHANGED, REJECTED, REVIEWED


def cluster_label(session: ReviewSession, taxonomy: Taxonomy, cid: int) -> str:
    """``#3 Stop`` / ``noise``: the short name used in lists and the dendrogram."""
    name = session.cluster_names.get(cid)
    text = "noise" if cid < 0 else f"#{cid}"
    if name is not None:
        text += f" {taxonomy.name_of(name)}"
    return text


def preselected_class(session: ReviewSession, cid: int, suggestions=None) -> tuple[Optional[str], str]:
    """The class a picker for cluster ``cid`` should start on, and why.

    Its name if it has one; else the suggestion of ``suggestions`` (a
    :class:`pipeline.suggest.propagation.Suggestions`, when the window has one) for the
    members; else the majority of their given labels; else ``(None, "")``.
    """
    name = session.cluster_names.get(cid)
    if name is not None:
        return name, "current name"
    members = session.members(cid) if session.has_cluster(cid) else []
    if suggestions is not None and getattr(suggestions, "classes", None) and len(members):
        cls, confidence = suggestions.cluster_vote(members)
        if cls is not None:
            return cls, f"suggested ({100 * confidence:.0f}%)"
    major = cluster_majority(session, cid)[0] if len(members) else None
    if major is not None:
        return major, "majority of the given labels"
    return None, ""


def image_flags(session: ReviewSession, i: int) -> frozenset:
    flags = set()
    if i in session.rejected:
        flags.add(REJECTED)
    if i in session.reviewed:
        flags.add(REVIEWED)
    if (session.given_labels[i] is not None or i in session.image_labels) and session.is_changed(i):
        flags.add(CHANGED)
    return frozenset(flags)


def reference_class(session: ReviewSession, cid: int) -> Optional[str]:
    """What a member's given label is compared with: the cluster's name, else its given-label majority."""
    name = session.cluster_names.get(cid)
    return name if name is not None else cluster_majority(session, cid)[0]


def disagreeing(session: ReviewSession, cid: int, members: Sequence[int]) -> list[int]:
    """The ``members`` of ``cid`` whose given label differs from :func:`reference_class`."""
    ref = reference_class(session, cid)
    if ref is None:
        return []
    return [int(i) for i in members if session.given_labels[int(i)] not in (None, ref)]


def label_badge(session: ReviewSession, i: int, reference: Optional[str]) -> Optional[tuple[str, bool]]:
    """``(given label, differs from reference)`` for a thumbnail's badge; ``None`` without a label."""
    given = session.given_labels[i]
    if given is None:
        return None
    return given, reference is not None and given != reference


def image_tooltip(session: ReviewSession, taxonomy: Taxonomy, i: int) -> str:
    lines = [session.paths[i]]
    given = session.given_labels[i]
    if given is not None:
        lines.append(f"given label: {taxonomy.name_of(given)} ({given})")
    cls = session.class_of_image(i)
    if cls is not None:
        lines.append(f"class: {taxonomy.name_of(cls)}")
    if i in session.rejected:
        lines.append("rejected (not a sign)")
    return "\n".join(lines)


def image_metadata(session: ReviewSession, taxonomy: Taxonomy, stats: Optional[ClusterStats], items: Optional[Sequence],
                   i: int) -> list[tuple[str, str]]:
    """(field, value) rows for the full-size viewer."""
    cls = session.class_of_image(i)
    given = session.given_labels[i]
    d = float(stats.distance[i]) if stats is not None else float("nan")
    item = items[i] if items is not None else None
    rows = [
        ("Index", str(i)),
        ("Cluster", cluster_label(session, taxonomy, session.cluster_of(i))),
        ("Class", "—" if cls is None else f"{taxonomy.name_of(cls)} ({cls})"),
        ("Given label", "—" if given is None else f"{taxonomy.name_of(given)} ({given})"),
        ("Changed", "yes" if session.is_changed(i) else "no"),
        ("Reviewed", "yes" if session.is_reviewed(i) else "no"),
        ("Rejected", "yes" if i in session.rejected else "no"),
        ("Distance to center", "—" if not math.isfinite(d) else f"{d:.3f}"),
    ]
    if item is not None and item.roi:
        rows.append(("Region of interest", ", ".join(map(str, item.roi))))
    return rows


def center_title(session: ReviewSession, taxonomy: Taxonomy, cid: int) -> tuple[str, str, bool]:
    """``(title, note, note in italics)`` above the shown cluster: its class (or id) and a small note."""
    name = session.cluster_names.get(cid)
    if name is not None:
        return taxonomy.name_of(name), f"cluster #{cid}", False
    if cid >= 0:
        return f"Cluster #{cid}", "unnamed", True
    return cluster_label(session, taxonomy, cid), "", False


def center_info_html(session: ReviewSession, taxonomy: Taxonomy, stats: ClusterStats, cid: int) -> str:
    facts = [f"<b>{session.size(cid):,}</b> images"]
    major, purity = cluster_majority(session, cid)
    if purity is not None:
        facts.append(f"purity <b>{100 * purity:.0f}%</b> (majority: {taxonomy.name_of(major)})")
    sil = stats.silhouette.get(cid, float("nan"))
    if math.isfinite(sil):
        facts.append(f"silhouette <b>{sil:.2f}</b>")
    rejected = session.rejected
    n_rej = sum(1 for i in stats.members[cid].tolist() if i in rejected) if rejected else 0
    if n_rej:
        facts.append(f"<span style='color:#c0392b'>{n_rej} rejected</span>")
    if cid in session.accepted:
        facts.append("<span style='color:#26a65b'>✓ accepted</span>")
    return (" · ".join(facts) + "<br><span style='color:#888'>Members ordered by distance to the center: "
            "outliers come last.</span>")


def grid_hint(n_images: int, n_selected: int) -> str:
    text = f"{n_images:,} images"
    if n_selected:
        return text + f" · {n_selected:,} selected — V move · N new cluster · X reject · Shift+L label · Space view"
    return text + " · click, Shift/Ctrl+click to select · drag onto a cluster row to move"


def counts_text(session: Optional[ReviewSession]) -> str:
    """The status bar's figures: images, clusters, named, accepted, rejected (changed)."""
    if session is None:
        return "No folder open"
    s = session.summary()
    parts = [f"{s['images']:,} images", f"{s['clusters']} clusters", f"{s['named_clusters']} named",
             f"{s['accepted_clusters']} accepted", f"{s['rejected_images']:,} rejected"]
    if any(g is not None for g in session.given_labels):
        parts.append(f"{s['changed_images']:,} changed")
    return "  ·  ".join(parts)
