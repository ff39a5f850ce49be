"""The last mislabel search of a project, kept beside it so reopening the window shows it again.

A search over 39,209 GTSRB images takes about a minute; its :class:`SuspectReport`
(plus which session images its entries are) is saved as ``suspects.npz`` in the project
folder with an atomic write, under a key of what the search depended on: the run (its
config and timings, which every pipeline run rewrites), the features (shape and a
sample of rows) and the labelled images with their given labels. A re-run, other
features or other labels change the key, and :func:`load_suspects` then returns
``None`` (the stale file is removed by the next save or by :func:`clear_suspects`).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from pipeline.mislabels.report import SuspectReport
from pipeline.project.npz_cache import hash_sample_rows, read_npz, write_npz

SUSPECTS_FILE = "suspects.npz"
CACHE_VERSION = 1

_ARRAYS = ("given", "suggested", "score", "confidence", "knn", "cluster", "confident_learning", "flagged",
           "probabilities", "outlier_scores", "outliers")


def suspects_path(project_dir: os.PathLike | str) -> Path:
    return Path(project_dir) / SUSPECTS_FILE


def suspects_key(features: np.ndarray, indices: np.ndarray, given: Sequence[str], config: Optional[dict] = None,
                 timings: Optional[dict] = None) -> str:
    """A digest of what a search over ``features[indices]`` with labels ``given`` depends on."""
    h = hashlib.sha256()
    h.update(json.dumps({"v": CACHE_VERSION, "config": config or {}, "timings": timings or {},
                         "shape": list(features.shape), "dtype": str(features.dtype)},
                        sort_keys=True, default=str).encode("utf-8"))
    hash_sample_rows(h, features)
    h.update(np.ascontiguousarray(np.asarray(indices, dtype=np.int64)).tobytes())
    h.update("\x1f".join(given).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def save_suspects(project_dir: os.PathLike | str, report: SuspectReport, indices: np.ndarray, key: str) -> Path:
    """Write ``report`` (scored on session images ``indices``) atomically; returns the file."""
    arrays: dict[str, Any] = {name: np.asarray(getattr(report, name)) for name in _ARRAYS}
    pairs = report.near_duplicate_conflicts
    arrays["conflicts"] = np.asarray([(i, j, d) for i, j, d in pairs], dtype=np.float64).reshape(-1, 3)
    arrays["indices"] = np.asarray(indices, dtype=np.int64)
    arrays["classes"] = np.asarray(report.classes, dtype=str)
    return write_npz(suspects_path(project_dir), key, CACHE_VERSION, **arrays)


def load_suspects(project_dir: os.PathLike | str, key: str) -> Optional[tuple[SuspectReport, np.ndarray]]:
    """``(report, indices)`` saved under ``key``; ``None`` when missing, stale or unreadable."""
    z = read_npz(suspects_path(project_dir), key, CACHE_VERSION)
    if z is None:
        return None
    try:
        fields = {name: z[name] for name in _ARRAYS}
        conflicts = [(int(i), int(j), float(d)) for i, j, d in z["conflicts"]]
        report = SuspectReport(classes=[str(c) for c in z["classes"]], near_duplicate_conflicts=conflicts, **fields)
        indices = z["indices"]
    except (KeyError, ValueError, TypeError):
        return None
    if len(indices) != len(report):
        return None
    return report, indices


def clear_suspects(project_dir: os.PathLike | str) -> bool:
    """Remove the saved search (e.g. when the project is re-run); True if there was one."""
    try:
        suspects_path(project_dir).unlink()
        return True
    except FileNotFoundError:
        return False
