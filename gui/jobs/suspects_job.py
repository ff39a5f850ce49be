"""The mislabel search as a model-thread job (Qt-free function, result on the GUI thread).

:func:`suspects_job` packs what :meth:`MislabelFinder.fit` needs (features, the given
labels of the labelled images, the session's clusters) into a Qt-free
``fn(progress, cancel)``; start it with :meth:`gui.jobs.runner.JobRunner.start` so it
runs on the model thread with progress and cancel, and the result, a
:class:`SuspectsResult`, arrives on the GUI thread. With ``cache_dir`` the job also saves
the report there (:mod:`pipeline.project.suspects_cache`), so the next window shows it
again without searching; :func:`cached_suspects` reads it back.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from operator import is_not
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np

from pipeline.core.gil_slices import fromiter_in_slices, map_in_slices
from pipeline.review.label_stats import session_label_codes

from pipeline.review import ReviewSession

from gui.jobs.worker import JobFn

if TYPE_CHECKING:  # pipeline.mislabels imports scikit-learn: the job imports it on the model thread
    from pipeline.mislabels import MislabelFinder, SuspectReport


@dataclass
class SuspectsResult:
    """A report over the labelled images; ``indices[r]`` is the session image of entry ``r``."""

    report: "SuspectReport"
    indices: np.ndarray
    from_cache: bool = False
    cache_error: str = ""  # why the result could not be saved for the next window ("" if it was)


def cache_key(given_labels: Sequence[Optional[str]], features: np.ndarray, config: Optional[dict] = None,
              timings: Optional[dict] = None) -> str:
    """The key a saved search over the labelled ones of ``given_labels`` is stored under (see suspects_cache)."""
    from pipeline.project.suspects_cache import suspects_key

    indices = _labelled(given_labels)
    given = given_labels if len(indices) == len(given_labels) else map_in_slices(given_labels.__getitem__, indices.tolist())
    return suspects_key(features, indices, given, config, timings)


def cached_suspects(given_labels: Sequence[Optional[str]], features: np.ndarray, cache_dir,
                    config: Optional[dict] = None, timings: Optional[dict] = None) -> Optional[SuspectsResult]:
    """The search saved for this project run and these given labels (one per image), or ``None``.

    Reads only its arguments (safe on a helper thread with a copy of the session's labels).
    """
    from pipeline.project.suspects_cache import load_suspects

    if len(features) != len(given_labels):
        return None
    loaded = load_suspects(cache_dir, cache_key(given_labels, features, config, timings))
    if loaded is None or (len(loaded[1]) and int(loaded[1].max()) >= len(given_labels)):
        return None
    return SuspectsResult(loaded[0], loaded[1], from_cache=True)


def _labelled(given_labels: Sequence[Optional[str]]) -> np.ndarray:
    if None not in given_labels:  # (one C-level scan) every image labelled, the usual case
        return np.arange(len(given_labels), dtype=np.int64)
    return np.flatnonzero(fromiter_in_slices(partial(is_not, None), given_labels, bool))  # (C-level slices)


def labelled_images(session: ReviewSession) -> np.ndarray:
    """Indices of the session's images that came with a label."""
    return _labelled(session.given_labels)


def can_find_suspects(session: Optional[ReviewSession]) -> bool:
    """True when at least two classes and three images carry labels (what the finder needs)."""
    if session is None:
        return False
    codes, _ = session_label_codes(session)  # cached per session: numpy, not a loop over a million labels
    labelled = codes[codes >= 0]
    return len(labelled) >= 3 and bool((labelled != labelled[0]).any())  # two classes: no sort of a million codes


def suspects_job(
    session: ReviewSession,
    features: np.ndarray,
    *,
    finder: Optional["MislabelFinder"] = None,
    use_clusters: bool = True,
    cache_dir: Optional[Path] = None,
    config: Optional[dict] = None,
    timings: Optional[dict] = None,
) -> JobFn:
    """A job scoring the labelled images of ``session`` on ``features`` (one row per image).

    The labels, indices and cluster assignments are copied now, on the GUI thread, so
    the job never reads the session while the reviewer edits it. With ``use_clusters``
    the reviewer's clusters are the finder's cluster source (else it runs k-means).
    ``features`` is indexed only when the job runs (a memory-mapped array is fine).
    ``cache_dir`` (the project folder), ``config`` and ``timings`` (the project run's)
    say where and under which key the report is saved.
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
        result = SuspectsResult(report, indices)
        if cache_dir is not None:
            from pipeline.project.suspects_cache import save_suspects, suspects_key

            try:
                save_suspects(cache_dir, report, indices, suspects_key(features, indices, labels, config, timings))
            except OSError as exc:
                result.cache_error = str(exc)
        return result

    return run
