"""Dimensionality reduction: PCA by variance target or component count, whitening, L2."""
from __future__ import annotations

from typing import Optional, Union

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted

# Randomized PCA is fitted with at most this many components; a variance target then
# keeps the smallest prefix reaching it. Exact SVD of 40k x 2k features is 10x slower.
MAX_COMPONENTS = 256


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Scale each row to unit Euclidean length (zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


class Reducer(TransformerMixin, BaseEstimator):
    """PCA (``pca``: fraction of variance in (0, 1], a component count, or ``None``),
    optional whitening, then optional L2 normalisation; a scikit-learn transformer.

    Set by :meth:`fit`: ``model_`` (the fitted :class:`~sklearn.decomposition.PCA`, or
    ``None`` when no PCA applies: ``pca=None`` or fewer than 3 rows) and
    ``n_components_`` (components kept, or ``None``). :meth:`transform` before
    :meth:`fit` raises :class:`~sklearn.exceptions.NotFittedError`.
    """

    def __init__(
        self,
        pca: Optional[Union[float, int]] = 0.95,
        whiten: bool = False,
        l2: bool = True,
        seed: int = 0,
    ) -> None:
        self.pca = pca
        self.whiten = whiten
        self.l2 = l2
        self.seed = seed

    def fit(self, x: np.ndarray, y=None) -> "Reducer":
        self.model_: Optional[PCA] = None
        self.n_components_: Optional[int] = None
        if self.pca is None or len(x) < 3:
            return self
        limit = min(x.shape[0], x.shape[1])
        if isinstance(self.pca, float) and self.pca <= 1.0:
            n_fit = min(MAX_COMPONENTS, limit)
        else:
            n_fit = min(int(self.pca), limit)
        if self.whiten:
            # whitening gives every kept component unit variance; components estimated
            # from too few images are noise, so keep at most one per 20 images
            n_fit = min(n_fit, max(8, x.shape[0] // 20))
        solver = "randomized" if n_fit < 0.8 * limit else "full"
        model = PCA(n_components=n_fit, whiten=self.whiten, svd_solver=solver, random_state=self.seed)
        model.fit(x)
        keep = n_fit
        if isinstance(self.pca, float) and self.pca <= 1.0:
            cumulative = np.cumsum(model.explained_variance_ratio_)
            keep = int(min(np.searchsorted(cumulative, self.pca) + 1, n_fit))
        self.model_ = model
        self.n_components_ = keep
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        check_is_fitted(self, ["model_", "n_components_"])
        out = np.asarray(x, dtype=np.float32)
        if self.model_ is not None:
            out = self.model_.transform(out)[:, : self.n_components_].astype(np.float32)
        if self.l2:
            out = l2_normalize(out)
        return out

    def fit_transform(self, x: np.ndarray, y=None) -> np.ndarray:
        return self.fit(x).transform(x)


def reduce_features(
    x: np.ndarray,
    *,
    pca: Optional[Union[float, int]] = 0.95,
    whiten: bool = False,
    l2: bool = True,
    seed: int = 0,
) -> np.ndarray:
    """Functional form of :class:`Reducer`: fit on ``x`` and return the reduced ``x``."""
    return Reducer(pca=pca, whiten=whiten, l2=l2, seed=seed).fit_transform(x)
