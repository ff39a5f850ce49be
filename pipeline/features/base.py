"""The feature-extractor interfaces (registration lives in :mod:`pipeline.features.registry`)."""
from __future__ import annotations

from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from pipeline.core.progress import CancelToken, ProgressCallback


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


class BatchFeatureExtractor(FeatureExtractor):
    """A stateless extractor that works batch by batch.

    It learns nothing, so it counts as fitted from the start (scikit-learn's
    ``__sklearn_is_fitted__`` protocol, as for ``FunctionTransformer``) and
    :meth:`fit` only validates. Subclasses implement :meth:`transform_batch`;
    :meth:`transform` walks the images in batches of ``batch_size``, checking ``cancel``
    and reporting progress between them.
    """

    batch_size: int = 1024

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
        from pipeline.core.progress import check_cancel, report

        check_is_fitted(self)
        out = []
        for start in range(0, len(images), self.batch_size):
            check_cancel(cancel)
            out.append(self.transform_batch(images[start : start + self.batch_size]))
            report(progress, f"features: {self.name}", min(start + self.batch_size, len(images)), len(images))
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)
