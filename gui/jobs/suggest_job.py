"""The background refit of class suggestions: a frozen copy of the decisions and the job function.

The UI thread keeps editing the live :class:`~pipeline.review.session.ReviewSession` while
the refit runs, so the job reads a :class:`SessionSnapshot` (copies of the assignments,
names, image labels and rejections: what :mod:`pipeline.suggest` reads) taken when it was
started. The job builds the k-NN graph once per project (``propagator`` ``None``), then
``calibrated_suggestions``; it returns ``(propagator, suggestions, calibrated)``. Until
there are enough decisions to calibrate on (``pipeline.suggest.calibration.MIN_GROUPS``
named clusters) every calibrated confidence is 0; the raw confidence is used instead and
``calibrated`` is False, so the window can say the percentages are not calibrated yet.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Optional

import numpy as np


@dataclass
class SessionSnapshot:
    """The decisions of a session at one moment, with the ``ReviewSession`` reads pipeline.suggest uses."""

    assignments: np.ndarray
    cluster_names: dict
    image_labels: dict
    rejected: set

    @classmethod
    def of(cls, session) -> "SessionSnapshot":
        return cls(session.assignments.copy(), dict(session.cluster_names), dict(session.image_labels),
                   set(session.rejected))

    def __len__(self) -> int:
        return len(self.assignments)

    def members(self, cluster_id: int) -> np.ndarray:
        return np.flatnonzero(self.assignments == int(cluster_id))

    def cluster_ids(self) -> list[int]:
        return sorted(set(self.assignments.tolist()))


def suggestion_job(features, propagator, snapshot: SessionSnapshot, n_taxonomy: Optional[int],
                   threads: Optional[list] = None):
    """``fn(progress, cancel)`` for the model thread; appends its thread id to ``threads``."""
    def job(progress, cancel):
        from pipeline.suggest import Propagator, calibrated_suggestions

        if threads is not None:
            threads.append(threading.get_ident())
        prop = propagator or Propagator().prepare(np.asarray(features), progress=progress, cancel=cancel)
        sugg = calibrated_suggestions(prop, snapshot, n_taxonomy=n_taxonomy or None, progress=progress, cancel=cancel)
        raw = sugg.raw_confidence
        if raw is not None and not sugg.confidence.any() and raw.any():
            return prop, replace(sugg, confidence=raw), False
        return prop, sugg, raw is not None

    return job
