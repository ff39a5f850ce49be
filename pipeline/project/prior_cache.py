"""The self-trained zero-shot prior of a project, computed with its run and kept beside it.

A run whose features carry the taxonomy's pictogram scores (a ``pictogram_prior`` preset) gets
its zero-shot suggestions sharpened by a SCAN head trained on its own images
(:mod:`pipeline.suggest.self_trained`: 30-55 s on 2 cores for 4,000-40,000 images). That runs in
the pipeline's child process right after the run (:func:`pipeline.project.run_and_store.run_and_store`),
never on the window's model thread, where it would hold every refit behind it. The result is saved
as ``self_trained_prior.npz`` in the project folder (one atomic write) under a key of the features
(shape and a sample of rows); the window's zero-shot job reads it (:func:`load_prior`), and any
other features make it ``None``.
"""
from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path
from typing import Optional

import numpy as np

from pipeline.core.atomic import atomic_write_bytes
from pipeline.suggest.propagation import Suggestions

PRIOR_FILE = "self_trained_prior.npz"
CACHE_VERSION = 1
#: Rows of the feature matrix hashed into the key (evenly spaced; all rows when fewer).
KEY_ROWS = 512


def prior_path(project_dir: os.PathLike | str) -> Path:
    return Path(project_dir) / PRIOR_FILE


def prior_key(features: np.ndarray) -> str:
    """A digest of the features the prior was trained on (shape, dtype and a sample of rows)."""
    x = np.asarray(features)
    h = hashlib.sha256(f"v{CACHE_VERSION} {list(x.shape)} {x.dtype}".encode())
    rows = np.unique(np.linspace(0, len(x) - 1, min(KEY_ROWS, len(x))).astype(np.int64)) if len(x) else []
    h.update(np.ascontiguousarray(np.asarray(x[rows], dtype=np.float32)).tobytes())
    return h.hexdigest()


def save_prior(project_dir: os.PathLike | str, prior: Suggestions, key: str) -> Path:
    """Write ``prior`` under ``key`` atomically; returns the file."""
    buf = io.BytesIO()
    np.savez(buf, proba=np.asarray(prior.proba, np.float32), classes=np.asarray(prior.classes, dtype=str),
             key=np.asarray(key), version=np.asarray(CACHE_VERSION))
    path = prior_path(project_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return path


def load_prior(project_dir: os.PathLike | str, key: str) -> Optional[Suggestions]:
    """The prior saved under ``key``; ``None`` when missing, stale or unreadable."""
    path = prior_path(project_dir)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["version"]) != CACHE_VERSION or str(z["key"]) != key:
                return None
            proba = np.asarray(z["proba"], np.float32)
            classes = [str(c) for c in z["classes"].tolist()]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    if proba.ndim != 2 or proba.shape[1] != len(classes) or not len(classes):
        return None
    top = proba.argmax(1)
    return Suggestions(classes, proba, top.astype(np.int64), proba[np.arange(len(proba)), top])


def train_prior(features: np.ndarray, config, folder: Optional[str], *, progress=None, cancel=None) -> Optional[Suggestions]:
    """The self-trained prior of a run's ``features``, or ``None`` when they carry no pictogram scores.

    ``config``: the run's :class:`~pipeline.config.PipelineConfig`; ``folder``: where its icons were
    found when the config left that to the run. Runs Keras (the pipeline's child process).
    """
    from pipeline.features.pictogram_prior import from_feature_scores

    x = np.asarray(features, dtype=np.float32)
    prior = from_feature_scores(x, config, folder)
    if prior is None:
        return None
    from pipeline.suggest.self_trained import self_trained_prior

    return self_trained_prior(x, prior, seed=int(config.seed), progress=progress, cancel=cancel)
