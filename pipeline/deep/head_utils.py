"""Small helpers shared by the deep clustering heads (DEC, SCAN, IIC)."""
from __future__ import annotations

import numpy as np


def standardize(features: np.ndarray) -> np.ndarray:
    """Zero-mean, unit-variance columns as float32 (constant columns stay 0)."""
    x = np.asarray(features, dtype=np.float32)
    std = x.std(axis=0)
    return ((x - x.mean(axis=0)) / np.where(std > 1e-8, std, 1.0)).astype(np.float32)


def consecutive(labels: np.ndarray) -> np.ndarray:
    """Renumber labels ``0..K'-1`` in order of first appearance of each used cluster id."""
    _, inverse = np.unique(np.asarray(labels), return_inverse=True)
    return inverse.astype(np.int64)


def check_inputs(features: np.ndarray, k: int) -> np.ndarray:
    x = np.asarray(features)
    if x.ndim != 2:
        raise ValueError(f"features must be (N, D), got {x.shape}")
    if not 2 <= int(k) <= len(x):
        raise ValueError(f"k must be in [2, {len(x)}], got {k}")
    return x
