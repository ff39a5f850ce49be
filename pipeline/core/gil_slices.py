"""Conversions over a million items done in slices, so other threads get the interpreter between them.

One C-level call (``bytes.split``, ``str.decode``, ``list(map(...))``, ``np.fromiter``) holds the
interpreter lock from start to end: over a million paths that is 50-300 ms in which no other
thread runs Python, and the window's UI thread, which needs it for every event it handles, stalls
while a worker thread opens a big project. These helpers do the same work in slices of a few
milliseconds each; between two slices the interpreter can switch threads.
"""
from __future__ import annotations

from typing import Callable, Iterator, Sequence, TypeVar

import numpy as np

T = TypeVar("T")

#: Items per slice: a few milliseconds of C-level work.
SLICE_ITEMS = 1 << 15
#: Bytes per piece of a separated blob (:func:`pieces_at`).
PIECE_BYTES = 1 << 19


def pieces_at(data: bytes, sep: bytes = b"\0", size: int = PIECE_BYTES) -> Iterator[bytes]:
    """``data`` cut at ``sep`` boundaries into pieces of about ``size`` bytes (the separators between
    pieces dropped): splitting each piece on ``sep`` and joining the parts gives ``data.split(sep)``."""
    start, n = 0, len(data)
    while True:
        cut = data.find(sep, min(start + size, n)) if start + size < n else -1
        if cut < 0:
            yield data[start:]
            return
        yield data[start:cut]
        start = cut + len(sep)


def split_in_slices(data: bytes, sep: bytes = b"\0", decode: Callable[[bytes], Sequence[T]] = None) -> list:
    """``data.split(sep)`` (or, with ``decode``, the concatenation of ``decode(piece)`` over the pieces)."""
    out: list = []
    for piece in pieces_at(data, sep):
        out.extend(piece.split(sep) if decode is None else decode(piece))
    return out


def map_in_slices(fn: Callable[[object], T], items: Sequence, size: int = SLICE_ITEMS) -> list[T]:
    """``list(map(fn, items))`` (``items``: any iterable; a sequence is not copied first)."""
    if not hasattr(items, "__getitem__") or not hasattr(items, "__len__"):
        items = list(items)
    out: list[T] = []
    for start in range(0, len(items), size):
        out.extend(map(fn, items[start:start + size]))
    return out


def fromiter_in_slices(fn: Callable[[object], object], items: Sequence, dtype, size: int = SLICE_ITEMS) -> np.ndarray:
    """``np.fromiter(map(fn, items), dtype, len(items))``."""
    out = np.empty(len(items), dtype=dtype)
    for start in range(0, len(items), size):
        part = items[start:start + size]
        out[start:start + len(part)] = np.fromiter(map(fn, part), dtype, len(part))
    return out


__all__ = ["PIECE_BYTES", "SLICE_ITEMS", "fromiter_in_slices", "map_in_slices", "pieces_at", "split_in_slices"]
