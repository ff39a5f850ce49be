"""Keyed ``.npz`` files beside a project: one atomic write, read back only under the same key.

The project's caches (:mod:`~pipeline.project.suspects_cache`, :mod:`~pipeline.project.prior_cache`)
store a digest of what their result depends on (a sample of the feature rows among it:
:func:`hash_sample_rows`) as the array ``key`` (and a format ``version``);
a file saved under another key, of another version, or unreadable reads as ``None``.
"""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Optional

import numpy as np

from pipeline.core.atomic import atomic_write_bytes

#: Rows of a feature matrix hashed into a cache key (evenly spaced; all rows when fewer).
KEY_ROWS = 512


def hash_sample_rows(h, features: np.ndarray) -> None:
    """Feed ``KEY_ROWS`` evenly spaced rows of ``features`` (as float32) to the hash ``h``."""
    n = len(features)
    rows = np.unique(np.linspace(0, n - 1, min(KEY_ROWS, n)).astype(np.int64)) if n else np.zeros(0, np.int64)
    h.update(np.ascontiguousarray(np.asarray(features[rows], dtype=np.float32)).tobytes())


def write_npz(path: os.PathLike | str, key: str, version: int, **arrays) -> Path:
    """Write ``arrays`` with ``key`` and ``version`` to ``path`` atomically (its folder made if needed)."""
    buf = io.BytesIO()
    np.savez(buf, key=np.asarray(key), version=np.asarray(int(version)), **arrays)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return path


def read_npz(path: os.PathLike | str, key: str, version: int) -> Optional[dict[str, np.ndarray]]:
    """Every array of ``path`` when it was written under ``key`` and ``version``; ``None`` when the file
    is missing, stale or unreadable."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["version"]) != int(version) or str(z["key"]) != key:
                return None
            return {name: z[name] for name in z.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
