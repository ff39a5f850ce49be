"""The images' cluster ids as stored: ids in blocks plus a cluster-alias table, kept equal to the session.

A merge (any edit that empties a cluster S into one cluster T) writes one ``cluster_alias``
row S -> T instead of rewriting the blocks of S's scattered members; an image's cluster is its
stored id looked up in the aliases (one vectorised lookup, :func:`resolve`). After every
transaction of :class:`StoredIds`:

* resolving every stored id gives the session's ``assignments``;
* an alias source has no images in the session and is never a target (one level).

When a source gets images again (the merge undone, a new cluster reusing the id) its alias is
dropped and the blocks still storing that id are rewritten. :meth:`StoredIds.fold` writes all
aliases into the blocks and empties the table (a checkpoint, in its own transaction).
"""
from __future__ import annotations

import sqlite3
import zlib
from typing import TYPE_CHECKING, Callable, Iterable, Optional

import numpy as np

from pipeline.review.edits import Edit
from pipeline.review.image_blocks import CHUNK, BlockDamaged, read_blocks, rewrite_blocks

if TYPE_CHECKING:
    from pipeline.review.session import ReviewSession

ALIAS_SCHEMA = "CREATE TABLE IF NOT EXISTS cluster_alias(src INTEGER PRIMARY KEY, dst INTEGER NOT NULL, " \
               "crc INTEGER NOT NULL)"
_NONE = np.zeros(0, np.int64)


def alias_crc(src: int, dst: int) -> int:
    return zlib.crc32(b"%d>%d" % (src, dst))


def read_aliases(conn: sqlite3.Connection) -> dict[int, int]:
    """The alias table (``{}`` in a file written before it existed); :class:`BlockDamaged` on a bad CRC."""
    try:
        rows = conn.execute("SELECT src, dst, crc FROM cluster_alias").fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return {}
        raise
    for src, dst, crc in rows:
        if alias_crc(src, dst) != crc:
            raise BlockDamaged(f"the alias of cluster {src} fails its checksum")
    return {int(s): int(d) for s, d, _ in rows}


def resolver(aliases: dict[int, int]) -> Callable[[np.ndarray], np.ndarray]:
    """A vectorised ``stored ids -> cluster ids`` through ``aliases``."""
    if not aliases:
        return lambda raw: np.asarray(raw, dtype=np.int64)
    src = np.array(sorted(aliases), dtype=np.int64)
    dst = np.array([aliases[s] for s in src.tolist()], dtype=np.int64)

    def resolve(raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=np.int64)
        pos = np.minimum(np.searchsorted(src, raw), len(src) - 1)
        return np.where(src[pos] == raw, dst[pos], raw)
    return resolve


def resolve(raw: np.ndarray, aliases: dict[int, int]) -> np.ndarray:
    return resolver(aliases)(raw)


def net_assignments(edits: Iterable[Edit]) -> tuple[np.ndarray, np.ndarray]:
    """Images the ``edits`` (applied in order) re-assign and each one's cluster before the first of them."""
    parts = [e for e in edits if len(e.assign_indices)]
    if not parts:
        return _NONE, _NONE
    idx = np.concatenate([e.assign_indices for e in parts]).astype(np.int64)
    before = np.concatenate([e.assign_before for e in parts]).astype(np.int64)
    images, first = np.unique(idx, return_index=True)
    return images, before[first]


def _has_images(assignments: np.ndarray, cid: int, step: int = 1 << 15) -> bool:
    """Whether any image is in cluster ``cid``; scans in slices and stops at the first one found."""
    return any((assignments[start:start + step] == cid).any() for start in range(0, len(assignments), step))


def _without_images(assignments: np.ndarray, ids: list[int]) -> set[int]:
    """The ``ids`` no image is assigned to (a short scan per id; one sort for many ids)."""
    if len(ids) <= 16:
        return {i for i in ids if not _has_images(assignments, i)}
    return set(ids) - set(np.unique(assignments).tolist())


def plan_aliases(session: "ReviewSession", aliases: dict[int, int], images: np.ndarray, before: np.ndarray,
                 after: np.ndarray) -> tuple[dict[int, int], list[int], np.ndarray]:
    """``(aliases after the edit, dropped sources that have images again, images the new aliases cover)``.

    A cluster the edit empties whose images all went to one cluster becomes an alias of it
    (and aliases pointing at it follow); the images it moved need no block written. Only
    ``after`` can give an alias source images, and only ``before`` can lose the last ones, so
    this never builds the session's cluster index.
    """
    targets = set(np.unique(after).tolist()) if len(after) else set()
    gained = sorted(s for s in aliases if s in targets)
    new = {s: d for s, d in aliases.items() if s not in gained}
    moved = before != after
    covered = np.zeros(len(images), bool)
    if not moved.any():
        return new, gained, covered
    b, a = before[moved], after[moved]
    order = np.lexsort((a, b))
    b, a = b[order], a[order]
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    ends = np.r_[starts[1:], len(b)] - 1
    single = [(src, first) for src, first, last in zip(b[starts].tolist(), a[starts].tolist(), a[ends].tolist())
              if first == last and src not in new]
    empty = _without_images(session.assignments, [src for src, _ in single])
    added = {src: first for src, first in single if src in empty}
    if added:
        new = {s: added.get(d, d) for s, d in new.items()}
        new.update(added)
        covered = moved & np.isin(before, np.fromiter(added, np.int64, len(added)))
    return new, gained, covered


class StoredIds:
    """Writes the images' state of a session database (blocks + aliases); see the module docstring.

    The stored ids of every image are kept in memory (:meth:`seed` from the session, or read
    once when first needed: an alias dropped, a fold) and kept up to date; :meth:`forget` drops
    them after a rolled-back transaction, and a write by another connection makes them re-read.
    """

    def __init__(self, conn: sqlite3.Connection, chunk: int = CHUNK) -> None:
        self.conn = conn
        self.chunk = chunk
        self._raw: Optional[np.ndarray] = None
        self._version = -1

    def forget(self) -> None:
        self._raw = None

    def _cached(self) -> Optional[np.ndarray]:
        """The stored ids kept in memory, if they are current (no other connection wrote since)."""
        if self._raw is not None and self.conn.execute("PRAGMA data_version").fetchone()[0] != self._version:
            self._raw = None
        return self._raw

    def raw(self) -> np.ndarray:
        """Every image's stored id (read from the blocks the first time, or after another connection wrote)."""
        if self._cached() is None:
            self._version = self.conn.execute("PRAGMA data_version").fetchone()[0]
            rows = self.conn.execute("SELECT chunk, clusters, rejected, reviewed, crc FROM images ORDER BY chunk")
            self._raw = read_blocks(rows)[0]
        return self._raw

    def seed(self, assignments: np.ndarray, stored: Optional[np.ndarray] = None) -> None:
        """Take the stored ids from what the session was read with, without reading every block.

        With no aliases in the file the stored ids are the session's ``assignments``; with aliases
        they are ``stored``, the ids the session's read resolved (``None``: left to :meth:`raw`).
        Either must be the state of the file (a journal's session is); its first and last blocks
        are compared as a guard. Then an undo of a merge finds what to rewrite without reading
        every block.
        """
        ids = stored if self.aliases() else assignments
        if ids is None or not len(ids):
            return
        last = (len(ids) - 1) // self.chunk
        for c, block in self.conn.execute("SELECT chunk, clusters FROM images WHERE chunk IN (0, ?)", (last,)):
            if not np.array_equal(np.frombuffer(block, "<i4"), ids[c * self.chunk:(c + 1) * self.chunk]):
                return
        self._version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        self._raw = np.array(ids, dtype=np.int64)

    def aliases(self) -> dict[int, int]:
        return read_aliases(self.conn)

    def write(self, session: "ReviewSession", edits: list[Edit]) -> None:
        """Store the images' clusters and flags the ``edits`` changed (``session`` holds the result).

        With the stored ids in memory, only blocks holding an image whose stored id would not
        resolve to its cluster are read and written (an undone merge: usually none).
        """
        images, before = net_assignments(edits)
        old = self.aliases()
        new, gained, covered = plan_aliases(session, old, images, before, session.assignments[images])
        check = [images[~covered]]
        if gained:
            raw = self.raw()
            stale = np.isin(raw, np.array(gained, np.int64)) if len(gained) > 4 else raw == gained[0]
            for g in gained[1:] if len(gained) <= 4 else ():
                stale |= raw == g
            check.append(np.flatnonzero(stale))
        touched = np.concatenate(check)
        raw = self._cached()
        if raw is not None and len(touched):
            touched = touched[resolver(new)(raw[touched]) != session.assignments[touched]]
        flags = {}
        for name, members in (("rejected", session.rejected), ("reviewed", session.reviewed)):
            changed = [getattr(e, name).indices for e in edits if len(getattr(e, name))]
            if changed:
                where = np.concatenate(changed).astype(np.int64)
                flags[name] = (where, np.fromiter((i in members for i in where.tolist()), bool, len(where)))
                touched = np.concatenate([touched, where])
        self._set_aliases(old, new)
        if len(touched):
            blocks = np.unique(touched // self.chunk)
            self._store(rewrite_blocks(self.conn, blocks, session.assignments, resolver(new), flags, self.chunk))

    def fold(self) -> int:
        """Write every alias into the blocks and empty the table (call inside a transaction); blocks written."""
        aliases = self.aliases()
        if not aliases:
            return 0
        raw = self.raw()
        ids = resolve(raw, aliases)
        blocks = np.unique(np.flatnonzero(ids != raw) // self.chunk)
        written = rewrite_blocks(self.conn, blocks, ids, lambda r: np.asarray(r, np.int64), {}, self.chunk)
        self._store(written)
        self.conn.execute("DELETE FROM cluster_alias")
        return len(written)

    def _set_aliases(self, old: dict[int, int], new: dict[int, int]) -> None:
        gone = [(s,) for s in old if new.get(s) != old[s]]
        self.conn.executemany("DELETE FROM cluster_alias WHERE src=?", gone)
        self.conn.executemany("INSERT INTO cluster_alias VALUES(?,?,?)",
                              [(s, d, alias_crc(s, d)) for s, d in new.items() if old.get(s) != d])

    def _store(self, written: dict[int, np.ndarray]) -> None:
        if self._raw is not None:
            for c, part in written.items():
                self._raw[c * self.chunk:c * self.chunk + len(part)] = part
