"""Zero-shot class suggestions from the taxonomy's pictograms, before any decision.

Each class icon is rendered many times as a photograph would show it (perspective, scale,
rotation, background clutter, lighting and colour casts, blur, noise, JPEG:
:func:`pipeline.io.demo_signs.render_icon`), the renderings go through the run's own
feature extractor and fitted :class:`~pipeline.reduction.Reducer`, and a linear classifier
(ridge, or multinomial logistic regression: :data:`SCORERS`) learns the classes there. Icons come from (first that has any):

* the taxonomy's icon column (a CSV ``id,name,icon``) or a GTSRB ``Meta/`` folder
  (:meth:`pipeline.review.taxonomy.Taxonomy.gtsrb`);
* for the default GTSRB taxonomy, the pictograms :mod:`pipeline.io.demo_signs` draws
  (:func:`~pipeline.io.demo_signs.pictogram_classes`), rendered with :func:`render_sign`.

    icons, source = taxonomy_icons(folder)                  # {class id: RGBA array or None}
    zs = ZeroShot(config, reducer).fit(icons)               # seconds, on a worker
    sugg = zs.suggest(features)                             # Suggestions, like Propagator's

A run whose features already hold an icon classifier's class scores (the ``pictogram_prior``
extractor) gets its zero-shot suggestions from those columns, with no rendering at all:
:func:`pipeline.features.pictogram_prior.from_feature_scores`.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from pipeline.suggest.propagation import Suggestions

#: ``None`` in an icon dict: draw the class with :func:`pipeline.io.demo_signs.render_sign`.
DRAWN = None


def load_icon(path: str) -> Optional[np.ndarray]:
    """An icon file as ``uint8`` RGBA, or ``None`` when it cannot be read."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGBA"))
    except (OSError, ValueError):
        return None


def taxonomy_icons(folder: Optional[str] = None, taxonomy=None) -> tuple[dict, str]:
    """``({class id: icon array, or None for a drawn pictogram}, where they came from)``.

    ``taxonomy`` (a :class:`~pipeline.review.taxonomy.Taxonomy`) wins when it has icons;
    otherwise ``folder``'s ``Meta/`` icons; otherwise the drawn GTSRB pictograms.
    """
    from pipeline.io.demo_signs import pictogram_classes
    from pipeline.review.taxonomy import Taxonomy

    for tax, source in ((taxonomy, "taxonomy icons"), (_gtsrb_with_meta(folder), "Meta/ icons")):
        if tax is None:
            continue
        icons = {c.id: load_icon(c.icon) for c in tax if c.icon}
        icons = {k: v for k, v in icons.items() if v is not None}
        if icons:
            return icons, source
    drawable = set(pictogram_classes())
    ids = [c.id for c in Taxonomy.gtsrb() if c.id in drawable] if taxonomy is None else \
        [c.id for c in taxonomy if c.id in drawable]
    return {c: DRAWN for c in ids}, "drawn pictograms"


def render_icons(icons: dict, n_per_class: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(images, class index)``: ``n_per_class`` photograph-like renderings of every icon
    (``None`` icons drawn by :func:`pipeline.io.demo_signs.render_sign`)."""
    from pipeline.io.demo_signs import render_icon, render_sign

    rng = np.random.default_rng(seed)
    images, labels = [], []
    for j, (cid, icon) in enumerate(icons.items()):
        for _ in range(n_per_class):
            images.append(render_sign(cid, rng, size) if icon is None else render_icon(icon, rng, size))
            labels.append(j)
    return np.stack(images).astype(np.uint8), np.asarray(labels, dtype=np.int64)


#: The icon classifiers: one-vs-all ridge regression, or multinomial logistic regression (whose
#: scores are logits: a softmax at temperature 1 gives its probabilities).
SCORERS = ("ridge", "logistic")


def ridge_coef(x: np.ndarray, labels: np.ndarray, n_classes: int, ridge: float) -> np.ndarray:
    """One-vs-all ridge regression of one-hot ``labels`` on ``x`` plus a bias column (float32)."""
    x = _with_bias(x)
    target = np.zeros((len(labels), n_classes), np.float32)
    target[np.arange(len(labels)), labels] = 1.0
    gram = x.T @ x + float(ridge) * np.eye(x.shape[1], dtype=np.float32)
    return np.linalg.solve(gram, x.T @ target).astype(np.float32)


def logistic_coef(x: np.ndarray, labels: np.ndarray, n_classes: int, strength: float) -> np.ndarray:
    """Multinomial logistic regression (L2 penalty ``strength`` = 1 / C) as a ``(D + 1, n_classes)``
    matrix for :func:`ridge_scores`; its scores are the logits. Every class must have a sample."""
    from sklearn.linear_model import LogisticRegression

    if np.unique(labels).size != n_classes:
        raise ValueError(f"logistic_coef: {n_classes} classes but samples of only {np.unique(labels).size}")
    model = LogisticRegression(C=1.0 / float(strength), max_iter=500).fit(x, labels)
    return np.concatenate([model.coef_.T, model.intercept_[None, :]], 0).astype(np.float32)


def icon_coef(x: np.ndarray, labels: np.ndarray, n_classes: int, scorer: str, strength: float) -> np.ndarray:
    """The ``scorer`` classifier's coefficients (one of :data:`SCORERS`; ``strength``: its regulariser)."""
    if scorer == "ridge":
        return ridge_coef(x, labels, n_classes, strength)
    if scorer == "logistic":
        return logistic_coef(x, labels, n_classes, strength)
    raise ValueError(f"unknown icon classifier {scorer!r}; known: {', '.join(SCORERS)}")


def ridge_scores(x: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Class scores of ``x`` under :func:`ridge_coef`'s (or :func:`logistic_coef`'s) coefficients."""
    return _with_bias(x) @ coef


def _with_bias(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, np.ones((len(x), 1), np.float32)], 1)


def _gtsrb_with_meta(folder):
    if not folder:
        return None
    from pipeline.review.taxonomy import Taxonomy, TaxonomyError

    try:
        tax = Taxonomy.gtsrb(folder)
    except (OSError, TaxonomyError):
        return None
    return tax if any(c.icon for c in tax) else None


class ZeroShot:
    """Learn each class from augmented renderings of its icon, in the run's feature space.

    ``config``: the run's :class:`~pipeline.config.PipelineConfig` (its extractors and
    working size); ``reducer``: the run's fitted Reducer; ``n_per_class``: renderings per
    class; ``scorer``: ``"ridge"`` or ``"logistic"`` (:data:`SCORERS`); ``ridge``: its
    regulariser; ``temperature``: softmax sharpness of the scores (``None``: 8 for ridge, 1 for
    logistic, whose logits are already calibrated). Fitted: ``classes_``, ``coef_``.
    """

    def __init__(self, config, reducer, n_per_class: int = 60, *, scorer: str = "ridge", ridge: float = 1.0,
                 temperature: Optional[float] = None, seed: int = 0) -> None:
        self.config = config
        self.reducer = reducer
        self.n_per_class = n_per_class
        self.scorer = scorer
        self.ridge = ridge
        self.temperature = temperature
        self.seed = seed
        self.classes_: list[str] = []
        self.coef_: Optional[np.ndarray] = None

    def render(self, icons: dict) -> tuple[np.ndarray, np.ndarray]:
        """``(images, class index)`` of ``n_per_class`` renderings of every icon."""
        return render_icons(icons, self.n_per_class, int(self.config.image_size), self.seed)

    def fit(self, icons: dict) -> "ZeroShot":
        """Render, extract, reduce and fit the classifier (``icons`` as from :func:`taxonomy_icons`)."""
        from pipeline.run import extract_features

        if not icons:
            raise ValueError("no class has an icon to learn from")
        self.classes_ = list(icons)
        images, y = self.render(icons)
        x = np.asarray(self.reducer.transform(extract_features(self.config, images)), dtype=np.float32)
        self.coef_ = icon_coef(x, y, len(self.classes_), self.scorer, self.ridge)
        return self

    def suggest(self, features: np.ndarray) -> Suggestions:
        """A suggestion for every image (``features``: the run's reduced features)."""
        if self.coef_ is None:
            raise RuntimeError("call fit(icons) first")
        scores = ridge_scores(np.asarray(features, dtype=np.float32), self.coef_)
        temperature = self.temperature if self.temperature is not None else (1.0 if self.scorer == "logistic" else 8.0)
        return softmax_suggestions(self.classes_, scores, temperature)


def softmax_suggestions(classes: list, scores: np.ndarray, temperature: float) -> Suggestions:
    """Suggestions from class ``scores`` (N, C): a softmax at ``temperature``, top class and its probability."""
    scores = np.asarray(scores, dtype=np.float32) * float(temperature)
    scores -= scores.max(1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(1, keepdims=True)
    top = p.argmax(1)
    return Suggestions(list(classes), p.astype(np.float32), top.astype(np.int64),
                       p[np.arange(len(p)), top].astype(np.float32))

