"""The per-image state of a session database, in blocks: cluster ids and rejected/reviewed flags.

Each row of the ``images`` table holds :data:`CHUNK` consecutive images: their cluster ids
(int32, little-endian), their rejected and reviewed flags (bitmaps) and a CRC32 of the three.
An edit rewrites only the blocks holding the images it touched, so a small edit writes a few
pages however many images the project has.
"""
from __future__ import annotations

import sqlite3
import zlib
from typing import TYPE_CHECKING, Iterable, Iterator

import numpy as np

from pipeline.review.edits import Edit

if TYPE_CHECKING:
    from pipeline.review.session import ReviewSession

#: Images per block (512 bytes of cluster ids + two 16-byte bitmaps: half a 1 KiB page).
CHUNK = 128


class BlockDamaged(ValueError):
    """A block is missing or fails its CRC; the message says which."""


def _row(c: int, clusters: np.ndarray, rejected: np.ndarray, reviewed: np.ndarray) -> tuple:
    ids = clusters.astype("<i4").tobytes()
    rej = np.packbits(rejected).tobytes()
    rev = np.packbits(reviewed).tobytes()
    return (c, ids, rej, rev, zlib.crc32(ids + rej + rev))


def _mask(members: set[int], n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    if members:
        mask[np.fromiter(members, dtype=np.int64, count=len(members))] = True
    return mask


def all_blocks(session: "ReviewSession", size: int = CHUNK) -> Iterator[tuple]:
    """Every ``images`` row of ``session``: ``(chunk, clusters, rejected, reviewed, crc)``."""
    a = session.assignments
    rejected, reviewed = _mask(session.rejected, len(a)), _mask(session.reviewed, len(a))
    for c in range((len(a) + size - 1) // size):
        part = slice(c * size, (c + 1) * size)
        yield _row(c, a[part], rejected[part], reviewed[part])


def read_blocks(rows: Iterable[tuple]) -> tuple[np.ndarray, list[int], list[int]]:
    """``(assignments, rejected indices, reviewed indices)`` from the rows in block order."""
    parts, rejected, reviewed = [], [], []
    for k, (chunk, clusters, rej, rev, crc) in enumerate(rows):
        if chunk != k or zlib.crc32(clusters + rej + rev) != crc:
            raise BlockDamaged(f"image block {k} fails its checksum")
        ids = np.frombuffer(clusters, dtype="<i4")
        parts.append(ids)
        rejected.append(np.unpackbits(np.frombuffer(rej, np.uint8), count=len(ids)))
        reviewed.append(np.unpackbits(np.frombuffer(rev, np.uint8), count=len(ids)))
    if not parts:
        return np.zeros(0, np.int64), [], []
    return (np.concatenate(parts).astype(np.int64), np.flatnonzero(np.concatenate(rejected)).tolist(),
            np.flatnonzero(np.concatenate(reviewed)).tolist())


def rewrite_blocks(conn: sqlite3.Connection, session: "ReviewSession", edits: list[Edit], blocks: np.ndarray,
                   size: int = CHUNK) -> None:
    """Rewrite rows ``blocks`` (sorted): cluster ids from ``session``; flags as stored, plus the edits' images."""
    a = session.assignments
    flags = {"rejected": np.zeros((len(blocks), size), bool), "reviewed": np.zeros((len(blocks), size), bool)}
    ids = blocks.tolist()
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        rows = conn.execute(f"SELECT chunk, rejected, reviewed FROM images WHERE chunk IN ({','.join('?' * len(part))})",
                            part)
        for chunk, rej, rev in rows:
            k = int(np.searchsorted(blocks, chunk))
            flags["rejected"][k] = np.unpackbits(np.frombuffer(rej, np.uint8), count=size)
            flags["reviewed"][k] = np.unpackbits(np.frombuffer(rev, np.uint8), count=size)
    for name, members in (("rejected", session.rejected), ("reviewed", session.reviewed)):
        changed = [getattr(e, name).indices for e in edits if len(getattr(e, name))]
        if changed:
            where = np.concatenate(changed)
            now = np.fromiter((i in members for i in where.tolist()), bool, len(where))
            flags[name][np.searchsorted(blocks, where // size), where % size] = now
    out = []
    for k, c in enumerate(ids):
        n = min(size, len(a) - c * size)
        out.append(_row(c, a[c * size:c * size + n], flags["rejected"][k, :n], flags["reviewed"][k, :n]))
    conn.executemany("INSERT OR REPLACE INTO images VALUES(?,?,?,?,?)", out)
