"""The reviewable state of one project: clusters, their names and the reviewer's decisions.

A :class:`ReviewSession` starts from a clustering result (:meth:`ReviewSession.from_result`)
and changes only through :class:`~pipeline.review.edits.Edit` objects built by its
methods (``merge``, ``split``, ``move``, ``reject``, ``name``, ``accept``,
``set_image_label``, ``mark_reviewed``) and applied with :meth:`ReviewSession.apply`,
so every change can be undone with :meth:`ReviewSession.revert`.

Persistence (a versioned JSON file written atomically, keeping ``<name>.bak`` of the
previous good version, and :class:`Autosaver`) lives in :mod:`pipeline.review.persistence`;
its public names are importable from here too.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence, Union

import numpy as np

from pipeline.core.gil_slices import map_in_slices
from pipeline.review.edits import Edit, FlagChange, ReviewError, compose
from pipeline.review.session_queries import SessionQueries, index_array
from pipeline.review.persistence import (  # noqa: F401 - re-exported
    _MIGRATIONS,
    FORMAT_NAME,
    FORMAT_VERSION,
    Autosaver,
    SessionFile,
    backup_path,
    register_migration,
)

PathLike = Union[str, Path]

Listener = Callable[[Edit], None]


def _clean_label(g: Any) -> Optional[str]:
    return None if g is None or g == "" else str(g)


def _clean_labels(given: Iterable[Any]) -> list[Optional[str]]:
    """Given labels as strings, ``None`` for unlabeled (``""`` counts as unlabeled).

    Cleans each distinct value once and maps the list through them (C-level), so a
    million labels of a few dozen classes cost milliseconds.
    """
    labels = list(given)
    try:
        distinct = set(labels)
    except TypeError:  # unhashable values: one at a time
        return [_clean_label(g) for g in labels]
    if not all(g is None or type(g) is str for g in distinct):  # 1 and True are one key in a set
        return [_clean_label(g) for g in labels]
    if "" not in distinct:
        return labels
    return map_in_slices({g: _clean_label(g) for g in distinct}.__getitem__, labels)


class ReviewSession(SessionQueries, SessionFile):
    """Clusters, names and decisions for ``len(paths)`` images; see the module docstring.

    Fields: ``folder`` (source folder), ``config`` (pipeline config dict), ``paths``,
    ``given_labels`` (label per image from the input, ``None`` if none),
    ``assignments`` (int64 cluster id per image), ``cluster_names`` (cluster id ->
    taxonomy class id), ``image_labels`` (image index -> class id overriding its
    cluster's name), ``rejected`` (image indices: not a sign), ``accepted`` (cluster
    ids the reviewer accepted), ``reviewed`` (image indices explicitly reviewed),
    ``notes`` (free JSON-serialisable dict). ``revision`` counts applied and reverted
    edits since the session was created or loaded.

    Change the state only through edits (or call :meth:`touch` after changing
    ``assignments`` directly) so cached cluster memberships stay right.
    ``to_dict``/``to_json``/``from_dict``/``save``/``load`` come from
    :class:`~pipeline.review.persistence.SessionFile`, the read-only queries (final classes,
    changed/reviewed masks, purity, summary) from :class:`~pipeline.review.session_queries.SessionQueries`.
    """

    def __init__(
        self,
        folder: str,
        config: dict,
        paths: Sequence[str],
        given_labels: Optional[Sequence[Optional[str]]],
        assignments: Union[np.ndarray, Sequence[int]],
        *,
        cluster_names: Optional[dict[int, str]] = None,
        image_labels: Optional[dict[int, str]] = None,
        rejected: Optional[Iterable[int]] = None,
        accepted: Optional[Iterable[int]] = None,
        reviewed: Optional[Iterable[int]] = None,
        notes: Optional[dict] = None,
    ) -> None:
        self.folder: str = str(folder)
        self.config: dict = dict(config or {})
        self.paths: list[str] = map_in_slices(str, paths)  # (in slices: see gil_slices)
        n = len(self.paths)
        self.given_labels: list[Optional[str]] = [None] * n if given_labels is None else _clean_labels(given_labels)
        self.assignments: np.ndarray = np.array(assignments, dtype=np.int64).reshape(-1)
        if len(self.given_labels) != n or len(self.assignments) != n:
            raise ReviewError(
                f"paths ({n}), given labels ({len(self.given_labels)}) and cluster labels "
                f"({len(self.assignments)}) must have the same length"
            )
        self.cluster_names: dict[int, str] = {int(k): str(v) for k, v in (cluster_names or {}).items()}
        self.image_labels: dict[int, str] = {int(k): str(v) for k, v in (image_labels or {}).items()}
        self.rejected: set[int] = set(index_array(() if rejected is None else rejected).tolist())
        self.accepted: set[int] = set(index_array(() if accepted is None else accepted).tolist())
        self.reviewed: set[int] = set(index_array(() if reviewed is None else reviewed).tolist())
        self.notes: dict = dict(notes or {})
        self.revision: int = 0
        self._listeners: list[Listener] = []
        self._groups: Optional[dict[int, np.ndarray]] = None
        self._static_json: Optional[tuple[tuple, str]] = None
        self._last_saved: Optional[tuple[str, tuple[int, int, int]]] = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_result(
        cls,
        folder: str,
        config_dict: dict,
        paths: Sequence[str],
        given_labels: Optional[Sequence[Optional[str]]],
        labels: Union[np.ndarray, Sequence[int]],
    ) -> "ReviewSession":
        """A fresh session from a clustering: ``labels[i]`` is image ``i``'s cluster id.

        Ids are kept as given (``-1`` from density methods stays the noise cluster).
        ``given_labels`` may be ``None``; empty strings count as unlabeled.
        """
        return cls(folder, config_dict, paths, given_labels, labels)

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        return f"ReviewSession({len(self)} images, {len(self.cluster_ids())} clusters, revision {self.revision})"

    # ------------------------------------------------------------------ listeners
    def add_listener(self, fn: Listener) -> None:
        """Call ``fn(edit)`` after every :meth:`apply` and :meth:`revert`."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def apply(self, edit: Edit) -> None:
        """Apply ``edit``, bump :attr:`revision` and notify listeners."""
        edit.apply(self)
        self._changed(edit)

    def revert(self, edit: Edit) -> None:
        """Undo ``edit`` (which must be the last applied edit touching its state)."""
        edit.revert(self)
        self._changed(edit)

    def touch(self) -> None:
        """Drop cached cluster memberships after changing ``assignments`` by hand."""
        self._groups = None

    def _changed(self, edit: Edit) -> None:
        self._regroup(edit)
        self.revision += 1
        for fn in list(self._listeners):
            fn(edit)

    # ------------------------------------------------------------------ queries
    def _group_index(self) -> dict[int, np.ndarray]:
        if self._groups is None:
            a = self.assignments
            order = np.argsort(a, kind="stable")
            ids, starts = np.unique(a[order], return_index=True)
            bounds = list(starts[1:]) + [len(a)]
            self._groups = {int(c): order[s:e] for c, s, e in zip(ids, starts, bounds)}
        return self._groups

    def _regroup(self, edit: Edit) -> None:
        """Update the cached memberships of the clusters ``edit`` moved images between (just applied or
        reverted), in time proportional to those clusters, instead of re-sorting every image."""
        idx = edit.assign_indices
        if self._groups is None or not len(idx):
            return
        affected = np.union1d(edit.assign_before, edit.assign_after).tolist()
        if len(affected) > 256:
            self._groups = None
            return
        now = self.assignments[idx]
        for c in affected:
            old = self._groups.get(c)
            keep = old[self.assignments[old] == c] if old is not None else idx[:0]
            members = np.union1d(keep, idx[now == c])
            if len(members):
                self._groups[c] = members
            else:
                self._groups.pop(c, None)

    def cluster_ids(self) -> list[int]:
        """Sorted ids of the clusters that have at least one image."""
        return sorted(self._group_index())

    def has_cluster(self, cluster_id: int) -> bool:
        return int(cluster_id) in self._group_index()

    def members(self, cluster_id: int) -> np.ndarray:
        """Image indices of ``cluster_id`` in increasing order (empty if it has none)."""
        found = self._group_index().get(int(cluster_id))
        return found.copy() if found is not None else np.zeros(0, dtype=np.int64)

    def size(self, cluster_id: int) -> int:
        found = self._group_index().get(int(cluster_id))
        return 0 if found is None else len(found)

    def next_cluster_id(self) -> int:
        """The id a new cluster gets: one more than any id in use (at least 0)."""
        used = list(self._group_index()) + list(self.cluster_names) + list(self.accepted)
        return max(used, default=-1) + 1

    def cluster_of(self, i: int) -> int:
        return int(self.assignments[i])

    # ------------------------------------------------------------------ validation helpers
    def _require_cluster(self, cluster_id: Any) -> int:
        try:
            cid = int(cluster_id)
        except (TypeError, ValueError):
            raise ReviewError(f"cluster id must be an integer, got {cluster_id!r}") from None
        if cid not in self._group_index():
            raise ReviewError(f"unknown cluster {cid} (it has no images)")
        return cid

    def _indices(self, indices: Any) -> np.ndarray:
        """Sorted unique image indices from a sequence of ints or a boolean mask over all images."""
        raw = np.asarray(indices if indices is not None else [])
        if raw.dtype == bool:
            if raw.shape != (len(self),):
                raise ReviewError(f"a boolean selection must have one entry per image ({len(self)})")
            raw = np.flatnonzero(raw)
        elif raw.size and not np.issubdtype(raw.dtype, np.integer):
            raise ReviewError(f"image indices must be integers, got {raw.dtype}")
        arr = np.unique(raw.astype(np.int64).reshape(-1))
        if arr.size == 0:
            raise ReviewError("empty selection: select at least one image")
        if arr[0] < 0 or arr[-1] >= len(self):
            raise ReviewError(f"image index out of range 0..{len(self) - 1}: {int(arr[0] if arr[0] < 0 else arr[-1])}")
        return arr

    @staticmethod
    def _class_id(class_id: Optional[str]) -> Optional[str]:
        if class_id is None:
            return None
        text = str(class_id)
        if not text:
            raise ReviewError("class id must be a non-empty string or None")
        return text

    def _emptied_metadata(self, edit_names: dict, edit_accepted: dict, moved: np.ndarray, keep: int) -> None:
        """Record dropping the name and accepted flag of clusters that ``moved`` leaves empty."""
        sources, counts = np.unique(self.assignments[moved], return_counts=True)
        for s, n in zip(sources.tolist(), counts.tolist()):
            if s != keep and n == self.size(s):
                if s in self.cluster_names:
                    edit_names[s] = (self.cluster_names[s], None)
                if s in self.accepted:
                    edit_accepted[s] = (True, False)

    # ------------------------------------------------------------------ edits
    def merge(self, cluster_ids: Iterable[int]) -> Edit:
        """Merge clusters into the lowest non-negative id among them (the lowest if all are negative).

        The result keeps a name when the merged clusters carried exactly one distinct
        name, otherwise it is unnamed; accepted flags are cleared (its content changed).
        """
        ids = sorted({self._require_cluster(c) for c in cluster_ids})
        if len(ids) < 2:
            raise ReviewError("select at least two different clusters to merge")
        target = self.merge_target(ids)
        moved = np.concatenate([self.members(c) for c in ids if c != target])
        moved.sort()
        distinct = {self.cluster_names[c] for c in ids if c in self.cluster_names}
        new_name = next(iter(distinct)) if len(distinct) == 1 else None
        names: dict[int, tuple] = {}
        accepted: dict[int, tuple] = {}
        for c in ids:
            before = self.cluster_names.get(c)
            after = new_name if c == target else None
            if before != after:
                names[c] = (before, after)
            if c in self.accepted:
                accepted[c] = (True, False)
        return Edit(
            "merge",
            f"Merge clusters {', '.join(map(str, ids))} into {target}",
            assign_indices=moved,
            assign_before=self.assignments[moved].copy(),
            assign_after=np.full(len(moved), target, dtype=np.int64),
            names=names,
            accepted=accepted,
            clusters=frozenset(ids),
        )

    @staticmethod
    def merge_target(cluster_ids: Iterable[int]) -> int:
        """The id :meth:`merge` keeps: the lowest non-negative one (the lowest if all are negative)."""
        ids = [int(c) for c in cluster_ids]
        return min([c for c in ids if c >= 0] or ids)

    def split(self, cluster_id: int, sub_labels: Sequence[int]) -> Edit:
        """Split a cluster by ``sub_labels`` (one int per member, in :meth:`members` order).

        The part with the smallest sub-label keeps the id, name and notes; the other
        parts get new ids (:meth:`next_cluster_id` upwards, in sub-label order).
        The cluster's accepted flag is cleared.
        """
        cid = self._require_cluster(cluster_id)
        members = self.members(cid)
        sub = np.asarray(sub_labels).reshape(-1)
        if len(sub) != len(members):
            raise ReviewError(f"split of cluster {cid} needs {len(members)} sub-labels, got {len(sub)}")
        parts = np.unique(sub)
        if len(parts) < 2:
            raise ReviewError(f"split of cluster {cid} needs at least two different sub-labels")
        first_new = self.next_cluster_id()
        new_ids = np.arange(first_new, first_new + len(parts) - 1, dtype=np.int64)
        moving = sub != parts[0]
        idx = members[moving]
        after = new_ids[np.searchsorted(parts[1:], sub[moving])]
        accepted = {cid: (True, False)} if cid in self.accepted else {}
        return Edit(
            "split",
            f"Split cluster {cid} into {len(parts)} parts",
            assign_indices=idx,
            assign_before=np.full(len(idx), cid, dtype=np.int64),
            assign_after=after,
            accepted=accepted,
            clusters=frozenset([cid, *new_ids.tolist()]),
            new_clusters=tuple(new_ids.tolist()),
        )

    def move(self, indices: Iterable[int], target: Optional[int]) -> Edit:
        """Move images to cluster ``target``, or to a new cluster when ``target`` is ``None``.

        Clusters left empty lose their name and accepted flag (restored on revert).
        Images already in ``target`` are left alone; if all are, the edit is empty.
        """
        idx = self._indices(indices)
        new: tuple[int, ...] = ()
        if target is None:
            tgt = self.next_cluster_id()
            new = (tgt,)
        else:
            tgt = self._require_cluster(target)
        moved = idx[self.assignments[idx] != tgt]
        names: dict[int, tuple] = {}
        accepted: dict[int, tuple] = {}
        self._emptied_metadata(names, accepted, moved, tgt)
        sources = set(np.unique(self.assignments[moved]).tolist())
        where = "a new cluster" if target is None else f"cluster {tgt}"
        return Edit(
            "move",
            f"Move {len(moved)} image{'s' if len(moved) != 1 else ''} to {where}",
            assign_indices=moved,
            assign_before=self.assignments[moved].copy(),
            assign_after=np.full(len(moved), tgt, dtype=np.int64),
            names=names,
            accepted=accepted,
            clusters=frozenset(sources | {tgt}) if len(moved) else frozenset(),
            new_clusters=new if len(moved) else (),
        )

    def reject(self, indices: Iterable[int], value: bool = True, *, mark_reviewed: bool = False) -> Edit:
        """Mark images as "not a sign / reject" (``value=False`` un-rejects); optionally mark them reviewed."""
        idx = self._indices(indices)
        value = bool(value)
        reviewed = FlagChange.set_to(self.reviewed, idx, True) if mark_reviewed else FlagChange()
        verb = "Reject" if value else "Un-reject"
        return Edit(
            "reject",
            f"{verb} {len(idx)} image{'s' if len(idx) != 1 else ''}",
            rejected=FlagChange.set_to(self.rejected, idx, value),
            reviewed=reviewed,
            clusters=frozenset(np.unique(self.assignments[idx]).tolist()),
        )

    def name(self, cluster_id: int, class_id: Optional[str]) -> Edit:
        """Give a cluster a taxonomy class id (``None`` removes the name)."""
        cid = self._require_cluster(cluster_id)
        new = self._class_id(class_id)
        old = self.cluster_names.get(cid)
        names = {cid: (old, new)} if old != new else {}
        text = f"Name cluster {cid} as {new}" if new is not None else f"Remove name of cluster {cid}"
        return Edit("name", text, names=names, clusters=frozenset([cid]))

    def accept(self, cluster_id: int, value: bool = True) -> Edit:
        """Mark a cluster as accepted by the reviewer (``value=False`` withdraws it)."""
        cid = self._require_cluster(cluster_id)
        value = bool(value)
        was = cid in self.accepted
        accepted = {cid: (was, value)} if was != value else {}
        text = f"Accept cluster {cid}" if value else f"Withdraw acceptance of cluster {cid}"
        return Edit("accept", text, accepted=accepted, clusters=frozenset([cid]))

    def set_image_label(
        self, indices: Iterable[int], class_id: Optional[str], *, mark_reviewed: bool = False
    ) -> Edit:
        """Override the class of single images (``None`` removes the override); optionally mark them reviewed."""
        idx = self._indices(indices)
        new = self._class_id(class_id)
        labels: dict[int, tuple] = {}
        for i in idx.tolist():
            old = self.image_labels.get(i)
            if old != new:
                labels[i] = (old, new)
        reviewed = FlagChange.set_to(self.reviewed, idx, True) if mark_reviewed else FlagChange()
        n = len(idx)
        what = f"{n} image{'s' if n != 1 else ''}"
        text = f"Label {what} as {new}" if new is not None else f"Remove label override of {what}"
        return Edit(
            "set_image_label",
            text,
            image_labels=labels,
            reviewed=reviewed,
            clusters=frozenset(np.unique(self.assignments[idx]).tolist()),
        )

    def mark_reviewed(self, indices: Iterable[int], value: bool = True) -> Edit:
        """Record that images were reviewed (``value=False`` clears the mark)."""
        idx = self._indices(indices)
        n = len(idx)
        verb = "Mark" if value else "Unmark"
        return Edit(
            "mark_reviewed",
            f"{verb} {n} image{'s' if n != 1 else ''} as reviewed",
            reviewed=FlagChange.set_to(self.reviewed, idx, bool(value)),
            clusters=frozenset(np.unique(self.assignments[idx]).tolist()),
        )

    def batch(self, builders: Iterable[Callable[[], Edit]], text: str) -> Edit:
        """Build one :class:`Edit` from several steps, each seeing the state the previous left.

        ``builders`` are zero-argument callables such as ``lambda: s.name(3, "14")``.
        Each step is applied quietly (no listeners, no revision bump) so the next can
        build on it, then all are reverted: like every builder, this returns an
        unapplied edit, to be applied with :meth:`apply` (one undo step, one autosave).
        If a step raises, the session is restored and the error re-raised.
        """
        done: list[Edit] = []
        try:
            for make in builders:
                edit = make()
                if edit.is_empty:
                    continue
                edit.apply(self)
                self._groups = None
                done.append(edit)
        finally:
            for edit in reversed(done):
                edit.revert(self)
                self._groups = None
        return compose(done, text)


__all__ = [
    "Autosaver",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ReviewError",
    "ReviewSession",
    "backup_path",
    "register_migration",
]
