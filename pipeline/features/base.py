"""The feature-extractor interfaces (registration lives in :mod:`pipeline.features.registry`)."""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from pipeline.core.progress import CancelToken, ProgressCallback

class FeatureExtractor:
    """scikit-learn-style extractor over image batches.

    Input: ``uint8`` array ``(N, H, W, 3)``. Output: ``float32`` array ``(N, D)``.
    Subclasses set ``name`` and implement :meth:`transform`; those that learn
    (autoencoders, contrastive models) also override :meth:`fit`.
    Constructor keyword arguments are the extractor's parameters and must be
    JSON-serialisable so a pipeline config can describe them.
    """

    name: str = ""

    def __init__(self, **params: Any) -> None:
        self.params = dict(params)

    def get_params(self) -> dict[str, Any]:
        return dict(self.params)

    def fit(
        self,
        images: np.ndarray,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> "FeatureExtractor":
        return self

    def transform(
        self,
        images: np.ndarray,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> np.ndarray:
        raise NotImplementedError

    def fit_transform(
        self,
        images: np.ndarray,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> np.ndarray:
        return self.fit(images, progress, cancel).transform(images, progress, cancel)


class BatchFeatureExtractor(FeatureExtractor):
    """An extractor that needs no fitting and works batch by batch.

    Subclasses implement :meth:`transform_batch`; :meth:`transform` walks the images in
    batches of ``batch_size``, checking ``cancel`` and reporting progress between them.
    """

    batch_size: int = 1024

    def transform_batch(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def transform(
        self,
        images: np.ndarray,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> np.ndarray:
        from pipeline.core.progress import check_cancel, report

        out = []
        for start in range(0, len(images), self.batch_size):
            check_cancel(cancel)
            out.append(self.transform_batch(images[start : start + self.batch_size]))
            report(progress, f"features: {self.name}", min(start + self.batch_size, len(images)), len(images))
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)
