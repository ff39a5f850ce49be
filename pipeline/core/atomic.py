"""Crash-safe file writes: a reader sees either the old file or the complete new one.

Every file the pipeline writes goes through one mechanism:

1. a temporary file is created in the target's folder with :func:`tempfile.mkstemp`
   (a unique name, so concurrent writers, threads or processes, never share one);
2. the data is written, flushed and fsynced;
3. the temporary file is renamed over the target with :func:`os.replace` (atomic on
   POSIX and Windows) and the folder is fsynced so the rename survives a power cut.

On any failure the temporary file is removed and the target is untouched.

:func:`atomic_write` yields an open file object; :func:`atomic_path` yields the
temporary *path*, for writers that only take a file name (Keras ``save_weights``,
``numpy.lib.format.open_memmap``). :func:`atomic_write_bytes`,
:func:`atomic_write_text`, :func:`atomic_write_json` and :func:`atomic_save_npy` are
one-line conveniences on top.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator, Optional, Union

PathLike = Union[str, Path]

_CHUNK = 1 << 20


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates 0600 files; finished files get the permissions open() would give them.
_FILE_MODE = 0o666 & ~_current_umask()


def _write_all(fileobj, data: bytes) -> None:
    """Write ``data`` in chunks (a seam the tests use to inject a failure mid-write)."""
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        fileobj.write(view[start : start + _CHUNK])


def _folder_of(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; not possible (nor needed) on Windows."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY if os.name != "nt" else os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_quietly(path: PathLike) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _new_temp(path: Path, prefix: Optional[str], suffix: str) -> tuple[int, Path]:
    fd, name = tempfile.mkstemp(prefix=prefix if prefix is not None else f".{path.name}.",
                                suffix=suffix, dir=_folder_of(path))
    try:
        os.chmod(name, _FILE_MODE)
    except OSError:
        pass
    return fd, Path(name)


def _keep_backup(path: Path, backup: Path) -> None:
    """Make ``backup`` a copy of ``path`` without ever leaving ``backup`` half-written."""
    tmp = backup.with_name(f".{backup.name}.{uuid.uuid4().hex}.tmp")  # os.link needs a free name
    try:
        try:
            os.link(path, tmp)
        except OSError:
            shutil.copy2(path, tmp)
        os.replace(tmp, backup)
    finally:
        _remove_quietly(tmp)


def _commit(tmp: Path, path: Path, backup: Optional[PathLike], fsync: bool) -> None:
    if backup is not None and path.exists():
        _keep_backup(path, Path(backup))
    os.replace(tmp, path)
    if fsync:
        _fsync_dir(_folder_of(path))


@contextmanager
def atomic_write(
    path: PathLike,
    mode: str = "wb",
    *,
    encoding: Optional[str] = None,
    newline: Optional[str] = None,
    backup: Optional[PathLike] = None,
    fsync: bool = True,
    prefix: Optional[str] = None,
    suffix: str = ".tmp",
) -> Iterator[IO]:
    """Open a temporary file for writing; on a clean exit it replaces ``path``.

    ``mode`` is ``"wb"`` or ``"w"`` (then ``encoding``/``newline`` are as for
    :func:`open`; ``encoding`` defaults to UTF-8). If ``backup`` is given and ``path``
    already exists, the existing file is kept as ``backup`` (hard link, or copy where
    links are unsupported) just before the replace, so at every instant both a
    complete ``path`` and a complete ``backup`` exist. An exception inside the block
    removes the temporary file and leaves ``path`` as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
    path = Path(path)
    fd, tmp = _new_temp(path, prefix, suffix)
    try:
        if mode == "w":
            fh = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline=newline)
        else:
            fh = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        _remove_quietly(tmp)
        raise
    try:
        with fh:
            yield fh
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        _commit(tmp, path, backup, fsync)
    except BaseException:
        _remove_quietly(tmp)
        raise


@contextmanager
def atomic_path(
    path: PathLike,
    *,
    backup: Optional[PathLike] = None,
    fsync: bool = True,
    prefix: Optional[str] = None,
    suffix: str = ".tmp",
) -> Iterator[Path]:
    """Yield a fresh temporary path next to ``path``; on a clean exit it replaces ``path``.

    For writers that want a file name rather than a file object. The temporary file
    exists (empty) when the block starts; ``suffix`` lets a writer that checks the
    extension (Keras wants ``.weights.h5``) accept it.
    """
    path = Path(path)
    fd, tmp = _new_temp(path, prefix, suffix)
    os.close(fd)
    try:
        yield tmp
        if fsync:
            _fsync_file(tmp)
        _commit(tmp, path, backup, fsync)
    except BaseException:
        _remove_quietly(tmp)
        raise


def atomic_write_bytes(
    path: PathLike, data: bytes, *, backup: Optional[PathLike] = None, fsync: bool = True
) -> None:
    """Replace ``path`` with ``data`` atomically (see :func:`atomic_write` for ``backup``)."""
    with atomic_write(path, "wb", backup=backup, fsync=fsync) as fh:
        _write_all(fh, data)


def atomic_write_text(
    path: PathLike,
    text: str,
    *,
    encoding: str = "utf-8",
    newline: Optional[str] = None,
    backup: Optional[PathLike] = None,
    fsync: bool = True,
) -> None:
    """:func:`atomic_write_bytes` for text; ``newline`` translates ``"\\n"`` like :func:`open`."""
    if newline is not None and newline != "\n":
        text = text.replace("\n", newline)
    atomic_write_bytes(path, text.encode(encoding), backup=backup, fsync=fsync)


def atomic_write_json(path: PathLike, data: Any, *, fsync: bool = True, **dumps_kwargs: Any) -> None:
    """Write ``json.dumps(data, **dumps_kwargs)`` to ``path`` atomically (UTF-8)."""
    atomic_write_text(path, json.dumps(data, **dumps_kwargs), fsync=fsync)


def atomic_save_npy(path: PathLike, array, *, fsync: bool = True) -> None:
    """``numpy.save`` to ``path`` atomically (no pickles)."""
    import numpy as np

    with atomic_write(path, "wb", fsync=fsync, suffix=".npy.tmp") as fh:
        np.save(fh, np.ascontiguousarray(array), allow_pickle=False)


def remove_stale_temps(path: PathLike, *, older_than: float = 60.0) -> int:
    """Delete temporary files a killed writer left next to ``path``; returns how many.

    Only ``.<name>.<random>.tmp`` files older than ``older_than`` seconds are removed,
    so a write in progress in another thread or process is not disturbed.
    """
    path = Path(path)
    folder = _folder_of(path)
    removed = 0
    now = time.time()
    for name in (path.name, path.name + ".bak"):
        for tmp in folder.glob(f".{glob.escape(name)}.*tmp"):
            try:
                if now - tmp.stat().st_mtime >= older_than:
                    tmp.unlink()
                    removed += 1
            except OSError:
                pass
    return removed
