"""Classes nobody has named yet, suggested from the zero-shot prior.

The propagation only knows the classes the reviewer has decided; an image of a class
nobody has named yet gets a decided class, at a low confidence at best. The zero-shot
prior (the taxonomy's pictograms) knows every class. :func:`with_unnamed_classes` adds the
taxonomy's unnamed classes to the suggestions and suggests one for the images whose prior
prefers it over every decided class more firmly than the propagation holds its own choice.
The calibration then learns from the distance columns (no decided image of that class is
near) and from what became of such suggestions how far to trust them.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

import numpy as np

from pipeline.suggest.propagation import Suggestions


def with_unnamed_classes(suggestions: Suggestions, prior: Optional[Suggestions]) -> Suggestions:
    """``suggestions`` over the decided classes, plus the prior's classes not among them.

    An image switches to the prior's class when that class is unnamed, is the prior's top
    choice, and the prior's probability of it is above the propagation's confidence; its
    confidence is then the prior's, its probabilities the propagation's scaled by what the
    prior leaves. Every other image keeps its suggestion (zeros in the new columns).
    """
    if prior is None or not prior.classes or not suggestions.classes:
        return suggestions
    known = set(suggestions.classes)
    new = [c for c in prior.classes if c not in known]
    if not new:
        return suggestions
    n, c = suggestions.proba.shape
    col = {name: j for j, name in enumerate(prior.classes)}
    new_index = np.full(len(prior.classes), -1, np.int64)
    new_index[[col[name] for name in new]] = np.arange(c, c + len(new))
    prior_top = np.asarray(prior.top, dtype=np.int64)
    prior_conf = np.asarray(prior.confidence, dtype=np.float32)
    switch = (new_index[prior_top] >= 0) & (prior_conf > suggestions.confidence)
    proba = np.zeros((n, c + len(new)), np.float32)
    proba[:, :c] = suggestions.proba
    rows = np.flatnonzero(switch)
    proba[rows, :c] *= (1.0 - prior_conf[rows])[:, None]
    proba[rows, new_index[prior_top[rows]]] = prior_conf[rows]
    top = np.where(switch, new_index[prior_top], suggestions.top).astype(np.int64)
    conf = np.where(switch, prior_conf, suggestions.confidence).astype(np.float32)
    return replace(suggestions, classes=list(suggestions.classes) + new, proba=proba, top=top, confidence=conf)
