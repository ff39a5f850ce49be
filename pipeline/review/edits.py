"""Reversible changes to a :class:`~pipeline.review.session.ReviewSession`.

Every reviewer action (merge, split, move, reject, name, accept, relabel, mark
reviewed) is described by one :class:`Edit` holding the before and after values of
only what it changes. ``edit.apply(session)`` and ``edit.revert(session)`` restore
those values exactly, so a GUI can wrap each edit in an undo command. Both check
that the session is in the state the edit expects and raise :class:`ReviewError`
otherwise (e.g. an edit applied twice).

Edits are built by the session's methods (``session.merge(...)`` ...); they are
plain data and do not keep a reference to the session.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.review.session import ReviewSession


class ReviewError(ValueError):
    """An edit or a session file is invalid; the message says what and why."""


_EMPTY = np.zeros(0, dtype=np.int64)
_EMPTY_BOOL = np.zeros(0, dtype=bool)


@dataclass
class FlagChange:
    """Membership of image indices in a set (``rejected`` or ``reviewed``), before and after."""

    indices: np.ndarray = field(default_factory=lambda: _EMPTY)
    before: np.ndarray = field(default_factory=lambda: _EMPTY_BOOL)
    after: np.ndarray = field(default_factory=lambda: _EMPTY_BOOL)

    @classmethod
    def set_to(cls, current: set[int], indices: np.ndarray, value: bool) -> "FlagChange":
        """The change that makes every index in ``indices`` a member (or not) of ``current``."""
        before = np.fromiter((int(i) in current for i in indices), dtype=bool, count=len(indices))
        changed = before != value
        idx = indices[changed]
        return cls(idx, before[changed], np.full(len(idx), value, dtype=bool))

    def __len__(self) -> int:
        return len(self.indices)

    def _check(self, target: set[int], expected: np.ndarray, what: str) -> None:
        for i, want in zip(self.indices.tolist(), expected.tolist()):
            if (i in target) != want:
                raise ReviewError(f"edit does not match the session: image {i} {what} state differs")

    def _write(self, target: set[int], values: np.ndarray) -> None:
        for i, v in zip(self.indices.tolist(), values.tolist()):
            if v:
                target.add(i)
            else:
                target.discard(i)


def _check_map(target: dict, changes: dict, side: int, what: str) -> None:
    for key, pair in changes.items():
        if target.get(key) != pair[side]:
            raise ReviewError(
                f"edit does not match the session: {what} {key} is {target.get(key)!r}, expected {pair[side]!r}"
            )


def _write_map(target: dict, changes: dict, side: int) -> None:
    for key, pair in changes.items():
        value = pair[side]
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value


@dataclass
class Edit:
    """One reversible change; see the module docstring.

    ``kind`` is a short machine name (``"merge"``, ``"split"``, ``"move"``, ``"reject"``,
    ``"name"``, ``"accept"``, ``"set_image_label"``, ``"mark_reviewed"``), ``text`` a
    human description for an undo menu. Changed fields:

    - ``assign_indices`` / ``assign_before`` / ``assign_after``: images whose cluster id changes;
    - ``names``: cluster id -> (name before, name after), ``None`` meaning unnamed;
    - ``accepted``: cluster id -> (accepted before, after);
    - ``image_labels``: image index -> (override before, after), ``None`` meaning no override;
    - ``rejected`` / ``reviewed``: :class:`FlagChange` on those image sets.

    ``clusters`` lists every cluster id the edit touches (including newly created ones);
    ``new_clusters`` the ids it creates.
    """

    kind: str
    text: str
    assign_indices: np.ndarray = field(default_factory=lambda: _EMPTY)
    assign_before: np.ndarray = field(default_factory=lambda: _EMPTY)
    assign_after: np.ndarray = field(default_factory=lambda: _EMPTY)
    names: dict[int, tuple[Optional[str], Optional[str]]] = field(default_factory=dict)
    accepted: dict[int, tuple[bool, bool]] = field(default_factory=dict)
    image_labels: dict[int, tuple[Optional[str], Optional[str]]] = field(default_factory=dict)
    rejected: FlagChange = field(default_factory=FlagChange)
    reviewed: FlagChange = field(default_factory=FlagChange)
    clusters: frozenset[int] = frozenset()
    new_clusters: tuple[int, ...] = ()

    @property
    def images(self) -> np.ndarray:
        """Sorted indices of every image whose state this edit changes."""
        parts = [
            self.assign_indices,
            np.fromiter(self.image_labels.keys(), dtype=np.int64, count=len(self.image_labels)),
            self.rejected.indices,
            self.reviewed.indices,
        ]
        return np.unique(np.concatenate([np.asarray(p, dtype=np.int64) for p in parts]))

    @property
    def is_empty(self) -> bool:
        """True when applying the edit would change nothing."""
        return not (
            len(self.assign_indices)
            or self.names
            or self.accepted
            or self.image_labels
            or len(self.rejected)
            or len(self.reviewed)
        )

    def apply(self, session: "ReviewSession") -> None:
        """Change ``session`` from the before state to the after state."""
        self._move(session, 0, 1)

    def revert(self, session: "ReviewSession") -> None:
        """Change ``session`` from the after state back to the before state."""
        self._move(session, 1, 0)

    def _move(self, session: "ReviewSession", src: int, dst: int) -> None:
        assign = (self.assign_before, self.assign_after)
        if len(self.assign_indices):
            if self.assign_indices.max() >= len(session.assignments) or self.assign_indices.min() < 0:
                raise ReviewError("edit does not match the session: image index out of range")
            if not np.array_equal(session.assignments[self.assign_indices], assign[src]):
                raise ReviewError("edit does not match the session: cluster assignments differ")
        accepted_now = {cid: cid in session.accepted for cid in self.accepted}
        for cid, pair in self.accepted.items():
            if accepted_now[cid] != pair[src]:
                raise ReviewError(f"edit does not match the session: accepted state of cluster {cid} differs")
        _check_map(session.cluster_names, self.names, src, "name of cluster")
        _check_map(session.image_labels, self.image_labels, src, "label override of image")
        flags = ("before", "after")
        self.rejected._check(session.rejected, getattr(self.rejected, flags[src]), "rejected")
        self.reviewed._check(session.reviewed, getattr(self.reviewed, flags[src]), "reviewed")

        if len(self.assign_indices):
            session.assignments[self.assign_indices] = assign[dst]
        _write_map(session.cluster_names, self.names, dst)
        _write_map(session.image_labels, self.image_labels, dst)
        for cid, pair in self.accepted.items():
            if pair[dst]:
                session.accepted.add(cid)
            else:
                session.accepted.discard(cid)
        self.rejected._write(session.rejected, getattr(self.rejected, flags[dst]))
        self.reviewed._write(session.reviewed, getattr(self.reviewed, flags[dst]))


def _compose_map(parts: list[dict]) -> dict:
    out: dict = {}
    for changes in parts:
        for key, (before, after) in changes.items():
            out[key] = (out[key][0] if key in out else before, after)
    return {k: v for k, v in out.items() if v[0] != v[1]}


def _compose_flags(parts: list[FlagChange]) -> FlagChange:
    out: dict[int, list[bool]] = {}
    for change in parts:
        for i, b, a in zip(change.indices.tolist(), change.before.tolist(), change.after.tolist()):
            if i in out:
                out[i][1] = a
            else:
                out[i] = [b, a]
    keep = sorted(i for i, (b, a) in out.items() if b != a)
    return FlagChange(
        np.array(keep, dtype=np.int64),
        np.array([out[i][0] for i in keep], dtype=bool),
        np.array([out[i][1] for i in keep], dtype=bool),
    )


def compose(edits: list[Edit], text: str, kind: str = "batch") -> Edit:
    """One edit equivalent to applying ``edits`` in order (each built on the state the previous left).

    Values changed and then changed back drop out. Used by
    :meth:`ReviewSession.batch` so a bulk action is one undo step and one autosave.
    """
    assign: dict[int, list[int]] = {}
    for e in edits:
        for i, b, a in zip(e.assign_indices.tolist(), e.assign_before.tolist(), e.assign_after.tolist()):
            if i in assign:
                assign[i][1] = a
            else:
                assign[i] = [b, a]
    idx = sorted(i for i, (b, a) in assign.items() if b != a)
    clusters: set[int] = set()
    new: set[int] = set()
    for e in edits:
        clusters |= e.clusters
        new |= set(e.new_clusters)
    return Edit(
        kind,
        text,
        assign_indices=np.array(idx, dtype=np.int64),
        assign_before=np.array([assign[i][0] for i in idx], dtype=np.int64),
        assign_after=np.array([assign[i][1] for i in idx], dtype=np.int64),
        names=_compose_map([e.names for e in edits]),
        accepted=_compose_map([e.accepted for e in edits]),
        image_labels=_compose_map([e.image_labels for e in edits]),
        rejected=_compose_flags([e.rejected for e in edits]),
        reviewed=_compose_flags([e.reviewed for e in edits]),
        clusters=frozenset(clusters),
        new_clusters=tuple(sorted(new)),
    )
