"""Nearest images by cosine similarity of the pipeline's features ("More like this").

Pure numpy, no Qt: one matrix-vector product over all images, so it runs in milliseconds
for tens of thousands of images and the window can call it directly.
"""
from __future__ import annotations

from typing import Iterable, Optional

import numpy as np


def nearest_images(features, index: int, k: int, exclude: Optional[Iterable[int]] = None) -> np.ndarray:
    """The ``k`` images most similar to image ``index``, most similar first.

    Similarity is the cosine of the feature rows (rows are L2-normalised here, so any
    features work). ``index`` itself and the images in ``exclude`` are never returned;
    fewer than ``k`` come back when fewer remain.
    """
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"features must be one row per image (got an array of shape {x.shape})")
    n = len(x)
    index = int(index)
    if not 0 <= index < n:
        raise ValueError(f"image {index} does not exist (there are {n} images)")
    k = int(k)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    sims = similarities(x, index)
    allowed = np.ones(n, dtype=bool)
    allowed[index] = False
    if exclude is not None:
        ex = np.asarray(list(exclude), dtype=np.int64)
        ex = ex[(ex >= 0) & (ex < n)]
        allowed[ex] = False
    candidates = np.flatnonzero(allowed)
    if not len(candidates):
        return np.zeros(0, dtype=np.int64)
    k = min(k, len(candidates))
    scores = sims[candidates]
    top = np.argpartition(-scores, k - 1)[:k] if k < len(candidates) else np.arange(len(candidates))
    order = np.lexsort((candidates[top], -scores[top]))  # ties: lower index first (deterministic)
    return candidates[top][order].astype(np.int64)


def similarities(features, index: int) -> np.ndarray:
    """Cosine similarity of every image to image ``index`` (a zero row has similarity 0)."""
    x = np.asarray(features, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1)
    norms[norms == 0] = 1.0
    q = x[int(index)] / norms[int(index)]
    return (x @ q) / norms
