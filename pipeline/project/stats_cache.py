"""The cluster statistics of a project, kept beside it so reopening a big review does not recompute them.

:func:`~pipeline.clustering.summary.compute_cluster_stats` over a million images and a
thousand clusters is a pass of N x K distances (tens of seconds on two cores). The result
is saved as ``cluster_stats.npz`` in the project folder (one atomic write) under a key of
what it depends on: the features (shape and a sample of rows) and the exact cluster of
every image. Any edit that moves images, a re-run or other features change the key, and
:func:`load_stats` returns ``None``; the caller computes them and saves them again.
"""
from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Optional

import numpy as np

from pipeline.clustering.summary import ClusterStats
from pipeline.core.atomic import atomic_write
from pipeline.project.npz_cache import hash_sample_rows

STATS_FILE = "cluster_stats.npz"
CACHE_VERSION = 1


def stats_path(project_dir: os.PathLike | str) -> Path:
    return Path(project_dir) / STATS_FILE


def stats_key(features: np.ndarray, assignments: np.ndarray) -> str:
    """A digest of the features (shape, dtype, a sample of rows) and every image's cluster."""
    h = hashlib.sha256()
    h.update(json.dumps({"v": CACHE_VERSION, "shape": list(np.shape(features)), "dtype": str(features.dtype)})
             .encode("utf-8"))
    hash_sample_rows(h, features)
    h.update(np.ascontiguousarray(np.asarray(assignments, dtype=np.int64)).tobytes())
    return h.hexdigest()


def save_stats(project_dir: os.PathLike | str, stats: ClusterStats, key: str) -> Path:
    """Write ``stats`` atomically under ``key``; returns the file."""
    ids = np.asarray(stats.ids, dtype=np.int64)
    members = [np.asarray(stats.members[int(c)], dtype=np.int64) for c in ids.tolist()]
    arrays = {
        "key": np.asarray(key), "ids": ids, "centers": np.asarray(stats.centers, dtype=np.float32),
        "distance": np.asarray(stats.distance, dtype=np.float32),
        "order": np.concatenate(members) if members else np.zeros(0, np.int64),
        "sizes": np.asarray([len(m) for m in members], dtype=np.int64),
        "medoids": np.asarray([stats.medoids[int(c)] for c in ids.tolist()], dtype=np.int64),
        "silhouette": np.asarray([stats.silhouette.get(int(c), np.nan) for c in ids.tolist()], dtype=np.float64),
    }
    if stats.linkage is not None:
        arrays["linkage"] = np.asarray(stats.linkage, dtype=np.float64)
    path = stats_path(project_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def load_stats(project_dir: os.PathLike | str, key: str) -> Optional[ClusterStats]:
    """The saved statistics when they were saved under ``key``, else ``None`` (missing, stale or unreadable)."""
    path = stats_path(project_dir)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None
            ids = [int(c) for c in z["ids"].tolist()]
            order, sizes = z["order"], z["sizes"]
            bounds = np.concatenate([[0], np.cumsum(sizes)])
            members = {c: order[bounds[r]:bounds[r + 1]] for r, c in enumerate(ids)}
            linkage = z["linkage"] if "linkage" in z.files else None
            return ClusterStats(ids, z["centers"], members, dict(zip(ids, z["medoids"].tolist())), z["distance"],
                                dict(zip(ids, z["silhouette"].tolist())), linkage,
                                {c: r for r, c in enumerate(ids)})
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
