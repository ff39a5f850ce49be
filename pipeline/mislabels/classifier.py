"""Out-of-sample class probabilities from a cross-validated classifier on features."""
from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report

CLASSIFIERS = ("logreg", "mlp")
#: Each fold's classifier trains on at most this many images (a random subset beyond it).
MAX_TRAIN = 100_000


def make_classifier(name: str, seed: int = 0):
    """A fresh probabilistic classifier: ``"logreg"`` (multinomial) or a small ``"mlp"``."""
    if name == "logreg":
        return LogisticRegression(C=0.1, max_iter=300)
    if name == "mlp":
        return MLPClassifier(hidden_layer_sizes=(256,), alpha=1e-3, max_iter=60, early_stopping=True,
                             n_iter_no_change=5, random_state=seed)
    raise ValueError(f"unknown classifier {name!r}; known: {list(CLASSIFIERS)}")


def cross_val_probabilities(
    features: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    *,
    cv: int = 5,
    classifier: str = "logreg",
    seed: int = 0,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> np.ndarray:
    """``(N, n_classes)`` probabilities, each row predicted by a model that never saw that image.

    Folds are stratified when every class has at least ``cv`` images, plain shuffled
    otherwise; a fold trains on at most :data:`MAX_TRAIN` of its images. Features are standardised inside each fold. Classes missing from a
    training fold get probability 0 for that fold's held-out images.
    """
    n = len(y)
    counts = np.bincount(y, minlength=n_classes)
    present = counts[counts > 0]
    n_splits = max(2, min(cv, n))
    if present.min() >= n_splits:
        splitter = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits, shuffle=True, random_state=seed)
    probs = np.zeros((n, n_classes))
    for fold, (train, test) in enumerate(splitter.split(features, y)):
        check_cancel(cancel)
        report(progress, "cross-validation", fold, n_splits, f"fold {fold + 1}/{n_splits}")
        seen = np.unique(y[train])
        if len(seen) == 1:
            probs[np.ix_(test, seen)] = 1.0
            continue
        if len(train) > MAX_TRAIN:  # bounded time and memory on large sets: a fixed random subset trains
            train = np.sort(np.random.default_rng(seed + fold).choice(train, MAX_TRAIN, replace=False))
        scaler = StandardScaler().fit(features[train])
        model = make_classifier(classifier, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(scaler.transform(features[train]), y[train])
        probs[np.ix_(test, model.classes_)] = model.predict_proba(scaler.transform(features[test]))
    report(progress, "cross-validation", n_splits, n_splits, "done")
    return probs
