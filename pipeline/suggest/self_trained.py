"""The pictogram prior sharpened by a model trained on the images themselves (no label used).

The icon classifier's scores (a ``pictogram_prior`` run's score block: its zero-shot suggestions,
:func:`pipeline.features.pictogram_prior.from_feature_scores`) seed a SCAN head
(:func:`pipeline.deep.scan.scan_probabilities`: each head first learns the arg-max class of the
half of the images the icons call most clearly, then neighbours in the features are pulled into
one cluster and confident images self-label). Column ``j`` of the head starts as class ``j``, but
training can move a head to another class, so the head alone is a poor suggestion at the top
(a scratch check at stop 26 on the 39,209 whole GTSRB frames: its most confident 30 % were 0.87
right, the icons' 0.96).
The product of the two, ``prior x head ** power``, keeps the icons' precision where they are sure
and takes the head's neighbourhood evidence elsewhere. ``bench/review_effort.py --self-trained-prior``
(``prior-multicrop-ward``, whole frames, stop 26): image top-1 0.629 -> 0.713 on the full split (55 s
on 2 cores) and 0.597 -> 0.659 on its 3,921 track-disjoint frames (28 s); what that does to the
reviewer's actions is in bench/results/review_effort.md (eighth pass).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from pipeline.core.progress import CancelToken, ProgressCallback, report
from pipeline.suggest.propagation import Suggestions

#: SCAN settings of the ``deep-prior-multicrop`` preset (30 epochs, at most 600 batches, 5 of self-labelling).
SCAN_PARAMS = {"epochs": 30, "max_steps": 600, "self_label_epochs": 5}


def combine(prior: Suggestions, head: np.ndarray, power: float = 0.5) -> Suggestions:
    """``prior x head ** power`` per image, renormalised, over the prior's classes."""
    head = np.asarray(head, np.float64)
    if head.shape != prior.proba.shape:
        raise ValueError(f"self-trained prior: head probabilities {head.shape} do not match the prior's "
                         f"{prior.proba.shape}")
    if not float(power) >= 0:
        raise ValueError(f"self-trained prior: power must be 0 or more, got {power}")
    q = np.asarray(prior.proba, np.float64) * np.power(np.maximum(head, 1e-6), float(power))
    q /= np.maximum(q.sum(1, keepdims=True), 1e-300)
    top = q.argmax(1)
    return Suggestions(list(prior.classes), q.astype(np.float32), top.astype(np.int64),
                       q[np.arange(len(q)), top].astype(np.float32))


def self_trained_prior(features: np.ndarray, prior: Suggestions, *, power: float = 0.5, seed: int = 0,
                       progress: Optional[ProgressCallback] = None, cancel: Optional[CancelToken] = None,
                       **scan_params) -> Suggestions:
    """The zero-shot ``prior`` combined with a SCAN head seeded by it and trained on ``features``.

    ``features``: a ``pictogram_prior`` run's features, whose last ``len(prior.classes)`` columns are
    the prior's score block (split off to seed the head, as in the ``deep-prior-multicrop`` preset).
    ``scan_params`` override :data:`SCAN_PARAMS`. Runs Keras: call it on the worker that runs TensorFlow.
    """
    from pipeline.deep.scan import scan_probabilities

    c = len(prior.classes)
    x = np.asarray(features, np.float32)
    if c < 2 or x.ndim != 2 or len(x) != len(prior.proba) or x.shape[1] <= c:
        raise ValueError(f"self-trained prior: features {x.shape} must end with the prior's {c} score columns")
    report(progress, "self-trained prior", 0, 1, f"training a SCAN head on {len(x)} images, seeded by the icons")
    head = scan_probabilities(x, c, seed=int(seed), progress=progress, cancel=cancel, prior_columns=c,
                              **{**SCAN_PARAMS, **scan_params})
    out = combine(prior, head, power)
    report(progress, "self-trained prior", 1, 1)
    return out
