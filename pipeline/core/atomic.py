"""Crash-safe file writes: a reader sees either the old file or the complete new one.

The data goes to a temporary file in the target's folder, is flushed and fsynced,
then renamed over the target with :func:`os.replace` (atomic on POSIX and Windows).
On any failure the temporary file is removed and the target is untouched.
"""
from __future__ import annotations

import glob
import os
import shutil
import time
from pathlib import Path
from typing import Optional, Union

PathLike = Union[str, Path]

_CHUNK = 1 << 20


def _write_all(fileobj, data: bytes) -> None:
    """Write ``data`` in chunks (a seam the tests use to inject a failure mid-write)."""
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        fileobj.write(view[start : start + _CHUNK])


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


def _keep_backup(path: Path, backup: Path) -> None:
    """Make ``backup`` a copy of ``path`` without ever leaving ``backup`` half-written."""
    tmp = backup.with_name(f".{backup.name}.{os.getpid()}.tmp")
    try:
        if tmp.exists():
            tmp.unlink()
        try:
            os.link(path, tmp)
        except OSError:
            shutil.copy2(path, tmp)
        os.replace(tmp, backup)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(
    path: PathLike, data: bytes, *, backup: Optional[PathLike] = None, fsync: bool = True
) -> None:
    """Replace ``path`` with ``data`` atomically.

    If ``backup`` is given and ``path`` already exists, the existing file is kept
    as ``backup`` (hard link, or copy where links are unsupported) before the
    replace, so at every instant both a complete ``path`` and a complete
    ``backup`` exist.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            _write_all(f, data)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        if backup is not None and path.exists():
            _keep_backup(path, Path(backup))
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    if fsync:
        _fsync_dir(folder)


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


def remove_stale_temps(path: PathLike, *, older_than: float = 60.0) -> int:
    """Delete temporary files a killed writer left next to ``path``; returns how many.

    Only ``.<name>.<pid>.tmp`` files older than ``older_than`` seconds are removed, so a
    write in progress in another process is not disturbed.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    removed = 0
    now = time.time()
    for name in (path.name, path.name + ".bak"):
        for tmp in folder.glob(f".{glob.escape(name)}.*.tmp"):
            try:
                if now - tmp.stat().st_mtime >= older_than:
                    tmp.unlink()
                    removed += 1
            except OSError:
                pass
    return removed
