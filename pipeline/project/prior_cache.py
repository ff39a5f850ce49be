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
import os
from pathlib import Path
from typing import Optional

import numpy as np

from pipeline.project.npz_cache import hash_sample_rows, read_npz, write_npz
from pipeline.suggest.propagation import Suggestions

PRIOR_FILE = "self_trained_prior.npz"
CACHE_VERSION = 1


def prior_path(project_dir: os.PathLike | str) -> Path:
    return Path(project_dir) / PRIOR_FILE


def prior_key(features: np.ndarray) -> str:
    """A digest of the features the prior was trained on (shape, dtype and a sample of rows)."""
    x = np.asarray(features)
    h = hashlib.sha256(f"v{CACHE_VERSION} {list(x.shape)} {x.dtype}".encode())
    hash_sample_rows(h, x)
    return h.hexdigest()


def save_prior(project_dir: os.PathLike | str, prior: Suggestions, key: str) -> Path:
    """Write ``prior`` under ``key`` atomically; returns the file."""
    return write_npz(prior_path(project_dir), key, CACHE_VERSION, proba=np.asarray(prior.proba, np.float32),
                     classes=np.asarray(prior.classes, dtype=str))


def load_prior(project_dir: os.PathLike | str, key: str) -> Optional[Suggestions]:
    """The prior saved under ``key``; ``None`` when missing, stale or unreadable."""
    z = read_npz(prior_path(project_dir), key, CACHE_VERSION)
    if z is None or "proba" not in z or "classes" not in z:
        return None
    proba = np.asarray(z["proba"], np.float32)
    classes = [str(c) for c in z["classes"].tolist()]
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
