"""An on-disk store of row arrays (working-size images, features) written chunk by chunk.

A streaming run appends rows in order and reads the result back memory-mapped, so the
process never holds more than one chunk. Each array is a raw little-endian file plus a
JSON header (dtype, shape); both are written under temporary names and replaced at
:meth:`RowWriter.commit` (through :mod:`pipeline.core.atomic`), so a cancelled or crashed
run leaves the previous complete store (or none), never a half-written one.

The writer appends with plain file writes rather than through a memory map: pages written
through a map stay in the process's resident set, plain writes only in the page cache.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from pipeline.core.atomic import atomic_path, atomic_write_json

HEADER_SUFFIX = ".json"
FORMAT = 1


class RowWriter:
    """Appends ``dtype`` rows of shape ``row_shape`` to ``path`` (committed on :meth:`commit`)."""

    def __init__(self, path, row_shape: Sequence[int], dtype) -> None:
        self.path = Path(path)
        self.row_shape = tuple(int(v) for v in row_shape)
        self.dtype = np.dtype(dtype).newbyteorder("<") if np.dtype(dtype).itemsize > 1 else np.dtype(dtype)
        self.rows = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._context = atomic_path(self.path, prefix=f".{self.path.name}.", suffix=".part")
        self._tmp = self._context.__enter__()
        self._fh = open(self._tmp, "wb")
        self._closed = False

    def append(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=self.dtype)
        if block.shape[1:] != self.row_shape:
            raise ValueError(f"rows of shape {block.shape[1:]} do not fit a store of {self.row_shape}")
        self._fh.write(memoryview(block).cast("B"))
        self.rows += len(block)

    def commit(self) -> np.memmap:
        """Make the file and its header the store's and return it memory-mapped (read-only)."""
        self._fh.close()
        self._context.__exit__(None, None, None)
        self._closed = True
        header = {"format": FORMAT, "dtype": self.dtype.str, "shape": [self.rows, *self.row_shape]}
        atomic_write_json(header_path(self.path), header)
        return open_rows(self.path)

    def abort(self) -> None:
        """Drop what was written (the previous committed store stays)."""
        if self._closed:
            return
        self._fh.close()
        self._closed = True
        try:
            raise _Abort
        except _Abort as exc:
            self._context.__exit__(_Abort, exc, exc.__traceback__)


class _Abort(Exception):
    pass


def header_path(path) -> Path:
    path = Path(path)
    return path.with_name(path.name + HEADER_SUFFIX)


def open_rows(path) -> Optional[np.memmap]:
    """The committed array at ``path``, memory-mapped read-only (``None`` if absent or damaged)."""
    path = Path(path)
    try:
        header = json.loads(header_path(path).read_text(encoding="utf-8"))
        dtype = np.dtype(header["dtype"])
        shape = tuple(int(v) for v in header["shape"])
        expected = int(np.prod(shape)) * dtype.itemsize
        if header.get("format") != FORMAT or os.path.getsize(path) != expected:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if shape[0] == 0:
        return np.zeros(shape, dtype)  # a zero-length file cannot be mapped
    return np.memmap(path, dtype=dtype, mode="r", shape=shape)
