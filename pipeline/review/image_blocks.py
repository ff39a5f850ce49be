"""The per-image state of a session database, in blocks: stored cluster ids and rejected/reviewed flags.

Each row of the ``images`` table holds :data:`CHUNK` consecutive images: their stored cluster
ids (int32, little-endian; an image's cluster is its stored id looked up in the cluster aliases,
see :mod:`pipeline.review.cluster_alias`), their rejected and reviewed flags (bitmaps) and a
CRC32 of the three. An edit rewrites only the blocks whose content changes, so a small edit
writes a few pages however many images the project has.
"""
from __future__ import annotations

import sqlite3
import zlib
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import numpy as np

from pipeline.review.edits import ReviewError

if TYPE_CHECKING:
    from pipeline.review.session import ReviewSession

#: Images per block (512 bytes of cluster ids + two 16-byte bitmaps: half a 1 KiB page).
CHUNK = 128


class BlockDamaged(ReviewError):
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


def read_blocks(rows: Iterable[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(stored ids, rejected indices, reviewed indices)`` from the rows in block order (int64 arrays).

    Every block but the last is full (that is how :func:`all_blocks` writes them), so the
    parts are joined once and decoded with one numpy call each.
    """
    ids, rej, rev = [], [], []
    for k, (chunk, clusters, rejected, reviewed, crc) in enumerate(rows):
        if chunk != k or zlib.crc32(clusters + rejected + reviewed) != crc:
            raise BlockDamaged(f"image block {k} fails its checksum")
        ids.append(clusters)
        rej.append(rejected)
        rev.append(reviewed)
    stored = np.frombuffer(b"".join(ids), dtype="<i4").astype(np.int64)
    if any(len(b) != len(ids[0]) for b in ids[:-1]):
        raise BlockDamaged("an image block has the wrong size")
    n = len(stored)

    def members(parts: list[bytes]) -> np.ndarray:
        packed = np.frombuffer(b"".join(parts), np.uint8)
        if len(packed) * 8 < n:
            raise BlockDamaged("an image block's flags are too short")
        return np.flatnonzero(np.unpackbits(packed, count=n)).astype(np.int64)

    return stored, members(rej), members(rev)


def rewrite_blocks(conn: sqlite3.Connection, blocks: np.ndarray, ids: np.ndarray,
                   resolve: Callable[[np.ndarray], np.ndarray], flags: dict[str, tuple[np.ndarray, np.ndarray]],
                   size: int = CHUNK) -> dict[int, np.ndarray]:
    """Make rows ``blocks`` (sorted) hold ``ids`` (every image's cluster) and the ``flags`` changes.

    ``resolve`` maps stored ids to clusters (the aliases after this transaction); a stored id
    that already resolves to the image's cluster is kept, any other is replaced by the
    cluster. ``flags``: ``"rejected"``/``"reviewed"`` -> ``(indices, new values)``. Rows that
    would not change are not written. Returns the stored ids of the rows written.
    """
    blocks = np.asarray(blocks, dtype=np.int64)
    stored: dict[int, tuple[bytes, bytes, bytes]] = {}
    as_list = blocks.tolist()
    for start in range(0, len(as_list), 500):
        part = as_list[start:start + 500]
        rows = conn.execute(f"SELECT chunk, clusters, rejected, reviewed FROM images WHERE chunk IN "
                            f"({','.join('?' * len(part))})", part)
        stored.update((r[0], (r[1], r[2], r[3])) for r in rows)
    missing = [c for c in as_list if c not in stored]
    if missing:
        raise BlockDamaged(f"image block {missing[0]} is missing")
    n = len(ids)
    lens = [min(size, n - c * size) for c in as_list]
    old = [np.frombuffer(stored[c][0], dtype="<i4").astype(np.int64) for c in as_list]
    if any(len(o) != m for o, m in zip(old, lens)):
        raise BlockDamaged("an image block has the wrong size")
    if not as_list:
        return {}
    raw = np.concatenate(old)
    want = np.concatenate([ids[c * size:c * size + m] for c, m in zip(as_list, lens)])
    new = np.where(resolve(raw) == want, raw, want)
    bits = {}
    for k, name in enumerate(("rejected", "reviewed")):
        mask = np.zeros((len(as_list), size), bool)
        packed = np.frombuffer(b"".join(stored[c][1 + k].ljust(size // 8, b"\0") for c in as_list), np.uint8)
        mask[:] = np.unpackbits(packed).reshape(len(as_list), size)
        where, now = flags.get(name, (np.zeros(0, np.int64), np.zeros(0, bool)))
        if len(where):
            mask[np.searchsorted(blocks, where // size), where % size] = now
        bits[name] = mask
    out, written, at = [], {}, 0
    for k, (c, m) in enumerate(zip(as_list, lens)):
        part = new[at:at + m]
        at += m
        row = _row(c, part, bits["rejected"][k, :m], bits["reviewed"][k, :m])
        if row[1:4] != stored[c]:
            out.append(row)
            written[c] = part
    conn.executemany("INSERT OR REPLACE INTO images VALUES(?,?,?,?,?)", out)
    return written
