"""Confident learning on out-of-sample class probabilities (Northcutt et al., 2021).

Pure numpy: per-class thresholds, the confident joint, the noise-rate pruning that
flags label issues, and the self-confidence / normalized-margin label-quality
rankings. ``probs`` is ``(N, C)`` out-of-sample probabilities and ``y`` the given
labels as class indices ``0..C-1``.
"""
from __future__ import annotations

import numpy as np


def per_class_thresholds(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``t_j`` = mean probability of class ``j`` over the images labelled ``j``.

    Classes without any image get threshold 1 (nothing is confidently assigned to them).
    """
    n_classes = probs.shape[1]
    sums = np.zeros(n_classes)
    np.add.at(sums, y, probs[np.arange(len(y)), y])
    counts = np.bincount(y, minlength=n_classes)
    thresholds = np.ones(n_classes)
    seen = counts > 0
    thresholds[seen] = sums[seen] / counts[seen]
    return thresholds


def confident_labels(probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For each image, the most probable class among those at or above their threshold.

    ``-1`` where no class reaches its threshold (the image is confidently nothing).
    """
    above = probs >= thresholds[None, :] - 1e-12
    masked = np.where(above, probs, -np.inf)
    best = masked.argmax(axis=1)
    best[~above.any(axis=1)] = -1
    return best


def confident_joint(probs: np.ndarray, y: np.ndarray, thresholds: np.ndarray | None = None) -> np.ndarray:
    """``C[s, t]`` = number of images given label ``s`` whose confident label is ``t``.

    Calibrated as in the paper: each row is rescaled to the number of images given
    label ``s``, so that the joint sums to ``N``.
    """
    n_classes = probs.shape[1]
    if thresholds is None:
        thresholds = per_class_thresholds(probs, y)
    conf = confident_labels(probs, thresholds)
    keep = conf >= 0
    joint = np.zeros((n_classes, n_classes))
    np.add.at(joint, (y[keep], conf[keep]), 1)
    row = joint.sum(axis=1)
    counts = np.bincount(y, minlength=n_classes)
    scale = np.divide(counts, row, out=np.zeros(n_classes), where=row > 0)
    return joint * scale[:, None]


def find_issues_by_noise_rate(probs: np.ndarray, y: np.ndarray, joint: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of label issues ("prune by noise rate").

    For every off-diagonal cell ``(s, t)`` of the confident joint, flag the
    ``round(C[s, t])`` images given label ``s`` with the largest margin
    ``p_t - p_s``. An image whose given label is also its argmax is never flagged.
    """
    n, n_classes = probs.shape
    if joint is None:
        joint = confident_joint(probs, y)
    issues = np.zeros(n, dtype=bool)
    for s in range(n_classes):
        members = np.flatnonzero(y == s)
        if len(members) == 0:
            continue
        p_s = probs[members, s]
        for t in range(n_classes):
            count = int(round(joint[s, t]))
            if t == s or count <= 0:
                continue
            margin = probs[members, t] - p_s
            order = np.argsort(-margin, kind="stable")[:count]
            issues[members[order]] = True
    issues &= probs.argmax(axis=1) != y
    return issues


def self_confidence(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Label quality = probability of the given label (1 = surely right)."""
    return probs[np.arange(len(y)), y]


def normalized_margin(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Label quality = ``(p_given - max_other + 1) / 2`` in [0, 1] (1 = surely right)."""
    rows = np.arange(len(y))
    given = probs[rows, y]
    others = probs.copy()
    others[rows, y] = -np.inf
    return (given - others.max(axis=1) + 1.0) / 2.0


def threshold_adjusted(probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Probabilities with each class's threshold subtracted, shifted and renormalised.

    Removes the per-class over/under-confidence of the classifier before ranking, as
    cleanlab's ``adjust_pred_probs`` does.
    """
    adjusted = probs - thresholds[None, :]
    adjusted -= adjusted.min(axis=1, keepdims=True)
    total = adjusted.sum(axis=1, keepdims=True)
    return np.divide(adjusted, total, out=np.full_like(adjusted, 1.0 / probs.shape[1]), where=total > 0)
