"""The feature-extractor interfaces (registration lives in :mod:`pipeline.features.registry`)."""
from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report


class FeatureExtractor(TransformerMixin, BaseEstimator):
    """scikit-learn estimator over image batches.

    Input: ``uint8`` array ``(N, H, W, 3)``. Output: ``float32`` array ``(N, D)``.
    Subclasses set ``name`` (through :func:`~pipeline.features.registry.register`),
    declare their parameters as explicit ``__init__`` keywords stored unchanged under
    their own names (so ``get_params``/``set_params``/``sklearn.base.clone`` work), and
    implement :meth:`fit` (setting fitted attributes ending in ``_``) and
    :meth:`transform` (calling ``check_is_fitted``). Parameters must be
    JSON-serialisable so a pipeline config can describe them. ``fit``/``transform``
    also take ``progress`` and ``cancel`` keywords.
    """

    name: str = ""

    def fit(
        self,
        images: np.ndarray,
        y=None,
        *,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> "FeatureExtractor":
        raise NotImplementedError

    def transform(
        self,
        images: np.ndarray,
        *,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> np.ndarray:
        raise NotImplementedError

    def fit_transform(
        self,
        images: np.ndarray,
        y=None,
        *,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> np.ndarray:
        return self.fit(images, progress=progress, cancel=cancel).transform(images, progress=progress, cancel=cancel)


#: Environment variable that sets how many threads describe image batches at once.
THREADS_ENV = "CLUSTER_REVIEW_FEATURE_THREADS"
#: At most this many threads by default (on 2 cores hog-multicrop-ward's features for 39,209 frames took
#: 48 s against 69 s on one thread: bench/results/gtsrb_whole_frames_speed_stop25.md).
MAX_DEFAULT_THREADS = 4


def feature_threads() -> int:
    """Threads for :meth:`BatchFeatureExtractor.transform`: ``$CLUSTER_REVIEW_FEATURE_THREADS``, else the
    usable cores up to :data:`MAX_DEFAULT_THREADS`."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise ValueError(f"{THREADS_ENV} must be a whole number of threads, got {value!r}") from None
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(MAX_DEFAULT_THREADS, cores))


class BatchFeatureExtractor(FeatureExtractor):
    """A stateless extractor that works batch by batch.

    It learns nothing, so it counts as fitted from the start (scikit-learn's
    ``__sklearn_is_fitted__`` protocol, as for ``FunctionTransformer``) and
    :meth:`fit` only validates. Subclasses implement :meth:`transform_batch` (thread-safe:
    it reads only its parameters); :meth:`transform` walks the images in batches of
    ``batch_size`` on ``threads`` threads (``None``: :func:`feature_threads`; numpy releases
    the GIL in the array work), checking ``cancel`` and reporting progress in order.
    """

    batch_size: int = 256
    #: Not a constructor parameter (configs do not carry it): set on an instance, e.g. to 1 where
    #: an engine already runs one process per core.
    threads: Optional[int] = None

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def fit(self, images, y=None, *, progress=None, cancel=None) -> "BatchFeatureExtractor":
        return self

    def transform_batch(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def transform(
        self,
        images: np.ndarray,
        *,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> np.ndarray:
        check_is_fitted(self)
        starts = range(0, len(images), self.batch_size)
        threads = max(1, min(len(starts), int(self.threads or feature_threads())))
        out = []

        def batch(start: int) -> np.ndarray:
            check_cancel(cancel)
            return self.transform_batch(images[start : start + self.batch_size])

        with ThreadPoolExecutor(threads, thread_name_prefix="features") as pool:
            pending = deque()
            for start in starts:  # at most 2 batches per thread in flight: memory stays bounded
                pending.append((start, pool.submit(batch, start)))
                if len(pending) >= 2 * threads:
                    self._collect(pending, out, len(images), progress)
            while pending:
                self._collect(pending, out, len(images), progress)
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    def _collect(self, pending: deque, out: list, n: int, progress) -> None:
        """Wait for the oldest batch, keep its features and report (a cancel raises here)."""
        start, future = pending.popleft()
        try:
            out.append(future.result())
        except BaseException:
            for _, other in pending:
                other.cancel()
            raise
        report(progress, f"features: {self.name}", min(start + self.batch_size, n), n)
