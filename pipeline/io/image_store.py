"""An on-disk store of row arrays (working-size images, features) written chunk by chunk.

A streaming run appends rows in order and reads the result back memory-mapped, so the
process never holds more than one chunk. Each array is a raw little-endian file plus a
JSON header (dtype, shape); both are written under temporary names and replaced at
:meth:`RowWriter.commit` (through :mod:`pipeline.core.atomic`), so a cancelled or crashed
run leaves the previous complete store (or none), never a half-written one.

A run's store lives as long as the run: :func:`claim_store` marks the folder as a live
process's, the run removes it afterwards (:func:`remove_store`) unless kept, and
:func:`sweep_stores` removes what dead runs left and bounds what kept stores take.

The writer appends with plain file writes rather than through a memory map: pages written
through a map stay in the process's resident set, plain writes only in the page cache.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import time
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
        if not len(block):
            return  # a chunk whose files all failed (memoryview cannot cast an empty shape)
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


# --------------------------------------------------------------------------- store lifetime

#: Stores under one ``streams/`` folder are kept up to this many bytes in all (least
#: recently used removed first); a run removes its own store unless it is asked to keep it.
STREAMS_MAX_BYTES = 16 * 1024**3
#: A store untouched this long whose owner cannot be checked counts as left over by a dead run.
IDLE_SECONDS = 3600.0
OWNER = ".owner.json"


def claim_store(folder) -> Path:
    """Mark ``folder`` as this process's store (host and pid), so a sweep spares it while we live."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / OWNER, {"host": socket.gethostname(), "pid": os.getpid()})
    return folder


def remove_store(folder) -> None:
    """Remove a store folder (arrays already memory-mapped stay readable on POSIX until closed)."""
    shutil.rmtree(folder, ignore_errors=True)


def _owner_alive(folder: Path) -> Optional[bool]:
    """``True``/``False`` when the owner is a process on this host, ``None`` when unknown."""
    try:
        owner = json.loads((folder / OWNER).read_text(encoding="utf-8"))
        if owner.get("host") != socket.gethostname():
            return None
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return True


def _usage(folder: Path) -> tuple[int, float]:
    """``(bytes, last modification)`` of the files in ``folder``."""
    size, newest = 0, folder.stat().st_mtime
    for entry in folder.iterdir():
        try:
            st = entry.stat()
        except OSError:
            continue
        size += st.st_size
        newest = max(newest, st.st_mtime)
    return size, newest


def sweep_stores(root, *, max_bytes: int = STREAMS_MAX_BYTES, idle_seconds: float = IDLE_SECONDS) -> list[Path]:
    """Remove the stores under ``root`` a run left behind; returns the folders removed.

    A store whose owner process has ended goes when it is unfinished (a crash or kill); a
    live owner's store stays; of the rest, the least recently used go until the total is at
    most ``max_bytes``. A store with no checkable owner counts as ended after ``idle_seconds``.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    removed, finished = [], []
    now = time.time()
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        try:
            size, newest = _usage(folder)
        except OSError:
            continue
        alive = _owner_alive(folder)
        if alive is None:
            alive = now - newest < idle_seconds
        if alive:
            continue
        complete = all(open_rows(folder / name) is not None for name in ("images.u8", "features.f32"))
        if not complete:
            remove_store(folder)
            removed.append(folder)
        else:
            finished.append((newest, size, folder))
    total = sum(size for _, size, _ in finished)
    for _, size, folder in sorted(finished):
        if total <= max_bytes:
            break
        remove_store(folder)
        removed.append(folder)
        total -= size
    return removed
