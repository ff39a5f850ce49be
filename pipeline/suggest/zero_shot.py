"""Zero-shot class suggestions from the taxonomy's pictograms, before any decision.

Each class icon is rendered many times as a photograph would show it (perspective, scale,
rotation, background clutter, lighting and colour casts, blur, noise, JPEG:
:func:`pipeline.io.demo_signs.render_icon`), the renderings go through the run's own
feature extractor and fitted :class:`~pipeline.reduction.Reducer`, and a ridge classifier
learns the classes there. Icons come from (first that has any):

* the taxonomy's icon column (a CSV ``id,name,icon``) or a GTSRB ``Meta/`` folder
  (:meth:`pipeline.review.taxonomy.Taxonomy.gtsrb`);
* for the default GTSRB taxonomy, the pictograms :mod:`pipeline.io.demo_signs` draws
  (:func:`~pipeline.io.demo_signs.pictogram_classes`), rendered with :func:`render_sign`.

    icons, source = taxonomy_icons(folder)                  # {class id: RGBA array or None}
    zs = ZeroShot(config, reducer).fit(icons)               # seconds, on a worker
    sugg = zs.suggest(features)                             # Suggestions, like Propagator's

A run whose features already hold an icon classifier's class scores (the ``pictogram_prior``
extractor) gets its zero-shot suggestions from those columns, with no rendering at all:
:func:`from_feature_scores`.
"""
from __future__ import annotations

import os
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


#: ``icons_from`` value for the GTSRB pictograms drawn by :mod:`pipeline.io.demo_signs`.
ICONS_DRAWN = "drawn"


def find_icons(icons_from: Optional[str]) -> tuple[dict, str]:
    """``({class id: RGBA icon, or None for a drawn one}, where from)``; ``({}, reason)`` when none.

    ``icons_from``: a folder holding a GTSRB ``Meta/`` folder (or that folder itself), a
    taxonomy CSV with an icon column, ``"drawn"``, or ``None`` (no prior).
    """
    if not icons_from:
        return {}, "no taxonomy icons given"
    if icons_from == ICONS_DRAWN:
        return taxonomy_icons(None)
    path = str(icons_from)
    if not os.path.exists(path):
        raise ValueError(f"pictogram_prior: icons_from {path!r} does not exist (a folder with Meta/, "
                         f"a taxonomy CSV, or {ICONS_DRAWN!r})")
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


def ridge_coef(x: np.ndarray, labels: np.ndarray, n_classes: int, ridge: float) -> np.ndarray:
    """One-vs-all ridge regression of one-hot ``labels`` on ``x`` plus a bias column (float32)."""
    x = _with_bias(x)
    target = np.zeros((len(labels), n_classes), np.float32)
    target[np.arange(len(labels)), labels] = 1.0
    gram = x.T @ x + float(ridge) * np.eye(x.shape[1], dtype=np.float32)
    return np.linalg.solve(gram, x.T @ target).astype(np.float32)


def ridge_scores(x: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Class scores of ``x`` under :func:`ridge_coef`'s coefficients."""
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
    class; ``ridge``: regulariser; ``temperature``: softmax sharpness of the scores.
    Fitted: ``classes_``, ``coef_``.
    """

    def __init__(self, config, reducer, n_per_class: int = 60, *, ridge: float = 1.0,
                 temperature: float = 8.0, seed: int = 0) -> None:
        self.config = config
        self.reducer = reducer
        self.n_per_class = n_per_class
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
        self.coef_ = ridge_coef(x, y, len(self.classes_), self.ridge)
        return self

    def suggest(self, features: np.ndarray) -> Suggestions:
        """A suggestion for every image (``features``: the run's reduced features)."""
        if self.coef_ is None:
            raise RuntimeError("call fit(icons) first")
        scores = ridge_scores(np.asarray(features, dtype=np.float32), self.coef_) * self.temperature
        scores -= scores.max(1, keepdims=True)
        p = np.exp(scores)
        p /= p.sum(1, keepdims=True)
        top = p.argmax(1)
        return Suggestions(list(self.classes_), p.astype(np.float32), top.astype(np.int64),
                           p[np.arange(len(p)), top].astype(np.float32))


def from_feature_scores(features: np.ndarray, config, folder: Optional[str] = None,
                        temperature: float = 8.0) -> Optional[Suggestions]:
    """Zero-shot suggestions read from a ``pictogram_prior`` run's own features, or ``None``.

    Such features are ``[reduced base (at most dims), weight x centred icon-classifier scores]``, each
    row then L2-normalised (``config``: one ``pictogram_prior`` extractor, no outer PCA). The
    base part had unit length before that, so dividing the score block by the base part's
    length and ``weight`` gives the extractor's centred scores back; a softmax at
    ``temperature`` (as :class:`ZeroShot`'s) makes them suggestions. ``folder``: the source,
    where the extractor found its icons when its ``icons_from`` was left to the run. ``None``
    when the config has no such extractor, its prior was off, or the columns do not match.
    """
    specs = list(getattr(config, "features", []) or [])
    if len(specs) != 1 or specs[0].get("name") != "pictogram_prior" or config.pca:
        return None
    params = specs[0].get("params", {}) or {}
    dims, weight = int(params.get("dims", 100)), float(params.get("weight", 2.0))
    try:
        icons, _source = find_icons(params.get("icons_from") or folder)
    except ValueError:
        return None
    x = np.asarray(features, dtype=np.float32)
    if not icons or x.ndim != 2 or weight <= 0:
        return None
    dims = min(dims, len(x))  # the extractor's PCA keeps at most one component per image
    if x.shape[1] != dims + len(icons):
        return None
    base_len = np.maximum(np.linalg.norm(x[:, :dims], axis=1, keepdims=True), 1e-12)
    scores = x[:, dims:] / (base_len * weight) * float(temperature)
    scores -= scores.max(1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(1, keepdims=True)
    top = p.argmax(1)
    return Suggestions(list(icons), p.astype(np.float32), top.astype(np.int64),
                       p[np.arange(len(p)), top].astype(np.float32))
