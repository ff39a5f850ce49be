"""The taxonomy's pictograms as a prior in the clustering features (``pictogram_prior``).

When the classes come with icons (a GTSRB ``Meta/`` folder, a taxonomy CSV's icon
column, or the GTSRB pictograms :mod:`pipeline.io.demo_signs` draws), each icon is
rendered many times as a photograph would show it, the renderings go through the base
extractor and this extractor's own PCA + L2, and a ridge classifier learns the classes
there (as :mod:`pipeline.suggest.zero_shot` does for suggestions). The output is the
reduced base features followed by ``weight`` times the classifier's centred class scores:
images the icons call alike move together, so a ward tree merges along the taxonomy.

On 3,921 whole GTSRB frames (track-disjoint, k = 43, ``bench/gtsrb.py``), ward on the
multi-crop HOG went from ACC 0.491 / NMI 0.710 to 0.621 / 0.753 with the ``Meta/`` icons
(``bench/results/gtsrb_whole_track_disjoint_prior.md``); with ``center=False`` the
scores seed ``scan``'s heads (``prior_columns``; preset ``deep-prior-multicrop``: 0.676 ->
0.708). Without icons the prior is off:
the output is the reduced base features alone, and ``note_`` says so.
The score columns are also such a run's zero-shot suggestions (:func:`from_feature_scores`).
"""
from __future__ import annotations

import os
from typing import Any, Optional

import numpy as np
from sklearn.utils.validation import check_is_fitted

from pipeline.core.progress import check_cancel, report
from pipeline.features.base import FeatureExtractor
from pipeline.features.registry import make_extractor, register
from pipeline.suggest.zero_shot import SCORERS

#: The base extractor when none is given: HOG mean-pooled over 5 centre crops.
DEFAULT_BASE = {"name": "hog_multicrop", "params": {"pool": "mean", "crops": [1.0, 0.9, 0.8, 0.7, 0.6]}}
#: ``icons_from`` value for the GTSRB pictograms drawn by :mod:`pipeline.io.demo_signs`.
DRAWN = "drawn"


def find_icons(icons_from: Optional[str]) -> tuple[dict, str]:
    """``({class id: RGBA icon, or None for a drawn one}, where from)``; ``({}, reason)`` when none.

    ``icons_from``: a folder holding a GTSRB ``Meta/`` folder (or that folder itself), a
    taxonomy CSV with an icon column, ``"drawn"``, or ``None`` (no prior).
    """
    from pipeline.suggest.zero_shot import taxonomy_icons

    if not icons_from:
        return {}, "no taxonomy icons given"
    if icons_from == DRAWN:
        return taxonomy_icons(None)
    path = str(icons_from)
    if not os.path.exists(path):
        raise ValueError(f"pictogram_prior: icons_from {path!r} does not exist (a folder with Meta/, "
                         f"a taxonomy CSV, or {DRAWN!r})")
    if os.path.isfile(path):
        from pipeline.review.taxonomy import Taxonomy, TaxonomyError

        try:
            taxonomy = Taxonomy.load_csv(path)
        except (OSError, TaxonomyError) as exc:
            raise ValueError(f"pictogram_prior: cannot read taxonomy {path}: {exc}") from None
        icons, source = taxonomy_icons(None, taxonomy)
        return (icons, source) if source == "taxonomy icons" else ({}, f"{path} names no readable icons")
    icons, source = taxonomy_icons(path)  # the folder holding Meta/, or Meta/ itself
    return (icons, source) if source == "Meta/ icons" else ({}, f"no Meta/ icons in {path}")


@register("pictogram_prior")
class PictogramPrior(FeatureExtractor):
    """Reduced base features + ``weight`` x icon-classifier scores (see the module docstring).

    ``base``: a feature spec (``{"name", "params"}``); ``icons_from``: see :func:`find_icons`;
    ``dims``: PCA components of the base features; ``n_per_class``: renderings per icon;
    ``scorer``: the icon classifier, ``"ridge"`` (scores scaled to unit mean length over the
    fitted images) or ``"logistic"`` (row-centred logits divided by ``logit_scale``, so a
    softmax at temperature ``logit_scale`` gives its probabilities back: :func:`from_feature_scores`);
    ``ridge``: the classifier's regulariser (logistic: 1 / C); ``center``: subtract the scores' mean over the
    fitted images (for ward; ``False`` keeps each image's arg-max class and score margins, as
    seeding SCAN needs); ``classes``: when set, the score block always has that many columns
    (zeros while the prior is off), so a method reading it (``scan``'s ``prior_columns``) finds
    it in place; icons of another number of classes are refused.
    Fitted: ``classes_``, ``coef_`` (``None`` without icons), ``source_``, ``note_``.
    """

    def __init__(self, base: Optional[dict] = None, icons_from: Optional[str] = None, weight: float = 2.0,
                 dims: int = 100, n_per_class: int = 60, scorer: str = "ridge", ridge: float = 1.0,
                 logit_scale: float = 16.0, center: bool = True, classes: Optional[int] = None, seed: int = 0):
        self.base = base
        self.icons_from = icons_from
        self.weight = weight
        self.dims = dims
        self.n_per_class = n_per_class
        self.scorer = scorer
        self.ridge = ridge
        self.logit_scale = logit_scale
        self.center = center
        self.classes = classes
        self.seed = seed

    def _base(self) -> Any:
        spec = self.base or DEFAULT_BASE
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise ValueError("pictogram_prior: base must be a feature spec {'name': ..., 'params': {...}}, "
                             f"got {spec!r}")
        if spec["name"] == self.name:
            raise ValueError("pictogram_prior: base cannot be pictogram_prior itself")
        return make_extractor(spec["name"], **spec.get("params", {}))

    def fit(self, images, y=None, *, progress=None, cancel=None) -> "PictogramPrior":
        self._fit(images, progress, cancel)
        return self

    def fit_transform(self, images, y=None, *, progress=None, cancel=None) -> np.ndarray:
        """:meth:`fit` then :meth:`transform` with the base features computed once (they cost most)."""
        return self._output(self._fit(images, progress, cancel))

    def _fit(self, images, progress, cancel) -> np.ndarray:
        """Fit on ``images``; their reduced base features."""
        from pipeline.reduction import Reducer

        if not float(self.weight) > 0:
            raise ValueError(f"pictogram_prior: weight must be above 0, got {self.weight}")
        if self.scorer not in SCORERS:
            raise ValueError(f"pictogram_prior: scorer must be one of {', '.join(SCORERS)}, got {self.scorer!r}")
        if not float(self.logit_scale) > 0:
            raise ValueError(f"pictogram_prior: logit_scale must be above 0, got {self.logit_scale}")
        if int(self.n_per_class) < 1:
            raise ValueError(f"pictogram_prior: n_per_class must be 1 or more, got {self.n_per_class}")
        icons, source = find_icons(self.icons_from)
        if self.classes is not None and icons and len(icons) != int(self.classes):
            raise ValueError(f"pictogram_prior: {len(icons)} classes have icons ({source}) but classes={self.classes}; "
                             "set classes to that number (and scan's prior_columns with it) or leave it unset")
        self.base_ = self._base().fit(images, progress=progress, cancel=cancel)
        raw = self.base_.transform(images, progress=progress, cancel=cancel)
        self.reducer_ = Reducer(pca=int(self.dims), l2=True, seed=int(self.seed)).fit(raw)
        reduced = self.reducer_.transform(raw)
        self.classes_, self.coef_, self.source_ = list(icons), None, source
        if not icons:
            self.note_ = f"pictogram prior off: {source}"
            return reduced
        check_cancel(cancel)
        report(progress, "pictogram prior: rendering icons", 0, 1)
        from pipeline.suggest.zero_shot import icon_coef, render_icons

        rendered, labels = render_icons(icons, int(self.n_per_class), int(images.shape[1]), int(self.seed))
        x = self.reducer_.transform(self.base_.transform(rendered, cancel=cancel))
        self.coef_ = icon_coef(x, labels, len(icons), self.scorer, self.ridge)
        scores = self._scores(reduced)
        self.score_mean_ = scores.mean(0) if self.center else np.zeros(scores.shape[1], np.float32)
        self.score_scale_ = float(self.logit_scale) if self.scorer == "logistic" else \
            float(np.linalg.norm(scores - self.score_mean_, axis=1).mean()) or 1.0
        report(progress, "pictogram prior: rendering icons", 1, 1)
        self.note_ = (f"pictogram prior on: {len(icons)} classes from {source} "
                      f"({int(self.n_per_class)} renderings each, {self.scorer}, weight {float(self.weight):g})")
        return reduced

    def _scores(self, x: np.ndarray) -> np.ndarray:
        """The classifier's scores of reduced features ``x`` (logistic: logits, centred per row)."""
        from pipeline.suggest.zero_shot import ridge_scores

        scores = ridge_scores(x, self.coef_)
        return scores - scores.mean(1, keepdims=True) if self.scorer == "logistic" else scores

    def transform(self, images, *, progress=None, cancel=None) -> np.ndarray:
        check_is_fitted(self, "reducer_")
        return self._output(self.reducer_.transform(self.base_.transform(images, progress=progress, cancel=cancel)))

    def _output(self, x: np.ndarray) -> np.ndarray:
        """Reduced base features ``x`` followed by the weighted score block."""
        if self.coef_ is None:
            if self.classes is None:
                return x
            return np.concatenate([x, np.zeros((len(x), int(self.classes)), np.float32)], axis=1)
        scores = (self._scores(x) - self.score_mean_) / self.score_scale_
        return np.concatenate([x, float(self.weight) * scores], axis=1).astype(np.float32)


def from_feature_scores(features: np.ndarray, config, folder: Optional[str] = None,
                        temperature: float = 8.0):
    """Zero-shot :class:`~pipeline.suggest.propagation.Suggestions` read from a run's own features, or ``None``.

    ``config``: one ``pictogram_prior`` extractor, no outer PCA. Its features are ``[reduced base
    (at most dims), weight x centred icon-classifier scores]``, each row then L2-normalised. The
    base part had unit length before that, so dividing the score block by the base part's
    length and ``weight`` gives the extractor's centred scores back; a softmax at
    ``temperature`` (as :class:`~pipeline.suggest.zero_shot.ZeroShot`'s) makes them suggestions;
    a ``"logistic"`` scorer's block is its logits over ``logit_scale``, so the softmax runs at that
    temperature and gives the classifier's probabilities (exactly so with ``center=False``).
    ``folder``: the source, where the extractor found its icons when its ``icons_from`` was
    left to the run. ``None`` when the config has no such extractor, its prior was off, or the
    columns do not match.
    """
    specs = list(getattr(config, "features", []) or [])
    if len(specs) != 1 or specs[0].get("name") != "pictogram_prior" or config.pca:
        return None
    spec = PictogramPrior(**(specs[0].get("params", {}) or {}))  # its defaults, as the run had them
    try:
        icons, _source = find_icons(spec.icons_from or folder)
    except ValueError:
        return None
    x = np.asarray(features, dtype=np.float32)
    weight = float(spec.weight)
    if not icons or x.ndim != 2 or weight <= 0:
        return None
    dims = min(int(spec.dims), len(x))  # the extractor's PCA keeps at most one component per image
    if x.shape[1] != dims + len(icons):
        return None
    from pipeline.suggest.zero_shot import softmax_suggestions

    base_len = np.maximum(np.linalg.norm(x[:, :dims], axis=1, keepdims=True), 1e-12)
    if spec.scorer == "logistic":  # the block is logits / logit_scale: its own probabilities at that temperature
        temperature = float(spec.logit_scale)
    return softmax_suggestions(list(icons), x[:, dims:] / (base_len * weight), temperature)
