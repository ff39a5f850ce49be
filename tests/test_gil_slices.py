"""The sliced conversions give exactly what the one-call versions give."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.gil_slices import fromiter_in_slices, map_in_slices, pieces_at, split_in_slices


@pytest.mark.parametrize("size", [1, 3, 7, 64, 10_000])
def test_pieces_split_like_one_split(size):
    rng = np.random.default_rng(size)
    words = ["".join(rng.choice(list("ab\u00e9/"), rng.integers(0, 9))) for _ in range(500)]
    data = "\0".join(words).encode("utf-8")
    assert split_in_slices(data, b"\0") == data.split(b"\0")
    joined = [p for piece in pieces_at(data, b"\0", size) for p in piece.split(b"\0")]
    assert joined == data.split(b"\0")
    decoded = split_in_slices(data, b"\0", lambda piece: piece.decode("utf-8").split("\0"))
    assert decoded == words


@pytest.mark.parametrize("data", [b"", b"\0", b"\0\0", b"a", b"a\0", b"\0a"])
def test_edge_blobs(data):
    for size in (1, 2, 100):
        assert [p for piece in pieces_at(data, b"\0", size) for p in piece.split(b"\0")] == data.split(b"\0")


def test_map_and_fromiter_in_slices():
    items = [str(i % 13) for i in range(100_003)]
    assert map_in_slices(int, items, size=4096) == list(map(int, items))
    got = fromiter_in_slices(int, items, np.int64, size=4096)
    assert got.dtype == np.int64 and np.array_equal(got, np.fromiter(map(int, items), np.int64, len(items)))
    assert map_in_slices(str, []) == [] and len(fromiter_in_slices(int, [], np.int64)) == 0
