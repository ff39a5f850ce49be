"""The mislabel search as a model-thread job (Qt-free function, result on the GUI thread).

:func:`suspects_job` packs what :meth:`MislabelFinder.fit` needs (features, the given
labels of the labelled images, the session's clusters) into a Qt-free
``fn(progress, cancel)``; start it with :meth:`gui.jobs.runner.JobRunner.start` so it
runs on the model thread with progress and cancel, and the result, a
:class:`SuspectsResult`, arrives on the GUI thread.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import numpy as np

from pipeline.review import ReviewSession

from gui.jobs.worker import JobFn

if TYPE_CHECKING:  # pipeline.mislabels imports scikit-learn: the job imports it on the model thread
    from pipeline.mislabels import MislabelFinder, SuspectReport


@dataclass
class SuspectsResult:
    """A report over the labelled images; ``indices[r]`` is the session image of entry ``r``."""

    report: "SuspectReport"
    indices: np.ndarray


def labelled_images(session: ReviewSession) -> np.ndarray:
    """Indices of the session's images that came with a label."""
    return np.fromiter((i for i, g in enumerate(session.given_labels) if g is not None), dtype=np.int64)


def can_find_suspects(session: Optional[ReviewSession]) -> bool:
    """True when at least two classes and three images carry labels (what the finder needs)."""
    if session is None:
        return False
    labels = [g for g in session.given_labels if g is not None]
    return len(labels) >= 3 and len(set(labels)) >= 2


def suspects_job(
    session: ReviewSession,
    features: np.ndarray,
    *,
    finder: Optional["MislabelFinder"] = None,
    use_clusters: bool = True,
) -> JobFn:
    """A job scoring the labelled images of ``session`` on ``features`` (one row per image).

    The labels, indices and cluster assignments are copied now, on the GUI thread, so
    the job never reads the session while the reviewer edits it. With ``use_clusters``
    the reviewer's clusters are the finder's cluster source (else it runs k-means).
    ``features`` is indexed only when the job runs (a memory-mapped array is fine).
    """
    if len(features) != len(session):
        raise ValueError(f"{len(features)} feature rows for {len(session)} images")
    indices = labelled_images(session)
    labels = [session.given_labels[i] for i in indices.tolist()]
    clusters = session.assignments[indices].copy() if use_clusters else None
    seed = int(session.config.get("seed", 0) or 0)

    def run(progress, cancel) -> SuspectsResult:
        from pipeline.mislabels import MislabelFinder

        x = np.asarray(features[indices], dtype=np.float32)
        report = (finder or MislabelFinder(seed=seed)).fit(x, labels, cluster_labels=clusters,
                                                           progress=progress, cancel=cancel)
        return SuspectsResult(report, indices)

    return run
