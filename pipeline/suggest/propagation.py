"""Class suggestions propagated from the reviewer's decisions.

:class:`Propagator` mixes two fast learners on the pipeline's features:

* label spreading over the k-NN graph (:func:`pipeline.suggest.graph.knn_graph`), which
  follows the manifold, and
* a ridge-regression classifier (closed form, ``D x D`` solve) on the features lifted by
  random Fourier features (:mod:`pipeline.suggest.kernel_map`, an RBF kernel's reach at a
  linear fit's cost), which generalises to images far from any decision.

``prepare`` (once per feature set) builds the graph and lifts the features; ``fit`` (after
every edit) takes the decided images and costs well under a second at 40,000 images.
Confidence is the blended top probability, damped where the graph carries little label
mass (images far from every decision) and where the two learners disagree.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Optional, Sequence

import numpy as np
import scipy.linalg

from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report
from pipeline.suggest.decided import unmarked_members


@dataclass
class Suggestions:
    """Per-image suggestions: ``proba`` (N, C) over ``classes``, top class index and confidence."""

    classes: list[str]
    proba: np.ndarray
    top: np.ndarray
    confidence: np.ndarray
    fit_seconds: float = 0.0
    #: the uncalibrated confidence when ``confidence`` was calibrated, else ``None``
    raw_confidence: Optional[np.ndarray] = None

    def top_class(self, i: int) -> Optional[str]:
        """Suggested class id of image ``i`` (``None`` before any decision)."""
        return self.classes[int(self.top[i])] if self.classes else None

    def class_index(self, class_id: str) -> int:
        return self.classes.index(class_id)

    def cluster_vote(self, members: np.ndarray) -> tuple[Optional[str], float]:
        """Suggested class for a group of images (mean probability) and its confidence."""
        if not self.classes or len(members) == 0:
            return None, 0.0
        mean = (self.proba[members] * self.confidence[members, None]).mean(0)
        j = int(mean.argmax())
        return self.classes[j], float(mean[j])

    @classmethod
    def empty(cls, n: int) -> "Suggestions":
        return cls([], np.zeros((n, 0), np.float32), np.zeros(n, np.int64), np.zeros(n, np.float32))


class Propagator:
    """Fit on decided images, suggest a class with a confidence for every image.

    ``n_neighbors``: graph degree; ``alpha``: spreading strength; ``n_iter``: spreading
    steps; ``ridge``: regulariser of the linear learner; ``mix``: weight of spreading in
    the blend; ``temperature``: sharpness of the linear learner's softmax; ``mass_ref``:
    graph label mass at which an image counts as well covered; ``none_score``: linear score
    of the implicit "none of the decided classes" option; ``kernel_features``: random Fourier
    features of the ridge learner (0: the plain features), ``kernel_ridge`` its regulariser,
    ``max_fit_rows``: decided images the lifted fit uses at most (a class-balanced draw);
    ``kernel_min_rows``: with fewer decided images the plain features serve (a kernel fit on a
    handful of decisions learns each one by heart, the wrong images a named cluster holds too, and
    stops flagging them).
    """

    def __init__(
        self,
        n_neighbors: int = 10,
        alpha: float = 0.9,
        n_iter: int = 20,
        ridge: float = 1.0,
        mix: float = 0.6,
        temperature: float = 12.0,
        mass_ref: float = 0.01,
        none_score: float = 0.3,
        kernel_features: int = 1000,
        kernel_ridge: float = 0.1,
        max_fit_rows: int = 2000,
        kernel_min_rows: int = 100,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.n_iter = n_iter
        self.ridge = ridge
        self.mix = mix
        self.temperature = temperature
        self.mass_ref = mass_ref
        self.none_score = none_score
        self.kernel_features = kernel_features
        self.kernel_ridge = kernel_ridge
        self.max_fit_rows = max_fit_rows
        self.kernel_min_rows = kernel_min_rows
        self.lifted_ = None
        self.graph_ = None
        self.position_: Optional[np.ndarray] = None
        self._companion: Optional[tuple[np.ndarray, list]] = None  # see also_fit
        self._companion_result: Optional[tuple[tuple[np.ndarray, list], Suggestions]] = None
        self.features_: Optional[np.ndarray] = None

    # ------------------------------------------------------------------ once per feature set
    def prepare(
        self,
        features: np.ndarray,
        *,
        graph=None,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> "Propagator":
        """Keep the features (with a bias column) and build (or take) the k-NN graph."""
        from pipeline.suggest.graph import knn_graph

        from scipy.sparse.csgraph import reverse_cuthill_mckee

        x = np.asarray(features, dtype=np.float32)
        self.features_ = np.concatenate([x, np.ones((len(x), 1), np.float32)], axis=1)
        self.lifted_ = None
        if self.kernel_features > 0:
            from pipeline.suggest.kernel_map import LiftedRows, RandomFourierMap

            self.lifted_ = LiftedRows(x, RandomFourierMap(self.kernel_features).fit(x))
        graph = graph if graph is not None else knn_graph(x, self.n_neighbors, progress=progress, cancel=cancel)
        # Spreading runs with the images renumbered (reverse Cuthill-McKee) where that puts neighbours
        # closer together than the folder's own order: in a mixed folder they are scattered and every
        # product waits on memory (refits 2.5-2.9x slower at 39,209 images, bench/refit_speed.py);
        # GTSRB's class and track order is already closer than the renumbering.
        graph = graph.tocsr()
        n = graph.shape[0]
        order = reverse_cuthill_mckee(graph, symmetric_mode=True).astype(np.int64)
        position = np.empty(n, np.int64)  # image -> its row in graph_
        position[order] = np.arange(n)
        edges = graph.tocoo()
        if spread_distance(edges, position) < spread_distance(edges, np.arange(n)):
            graph = graph[order][:, order].tocsr()
        else:
            position = np.arange(n)
        graph.sort_indices()
        self.graph_, self.position_ = graph, position
        return self

    # ------------------------------------------------------------------ after every edit
    def also_fit(self, indices: Sequence[int], classes: Sequence[str]) -> None:
        """Spread these decisions together with the next :meth:`fit` of other ones (one graph product
        for both: about 30 % less than two); a :meth:`fit` of exactly these then returns that result.
        :func:`~pipeline.suggest.calibration.calibrated_suggestions` announces its full fit so, before
        the held-out fit that calibrates it."""
        self._companion = (np.asarray(indices, dtype=np.int64).copy(), list(classes))
        self._companion_result = None

    def fit(
        self,
        indices: Sequence[int],
        classes: Sequence[str],
        *,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Suggestions:
        """Suggestions for every image from ``classes[j]`` decided for image ``indices[j]``."""
        if self.features_ is None:
            raise RuntimeError("call prepare(features) first")
        idx = np.asarray(indices, dtype=np.int64)
        classes = list(classes)
        done, self._companion_result = self._companion_result, None
        if done is not None and _same(done[0], (idx, classes)):
            return done[1]
        companion, self._companion = self._companion, None
        if len(idx) == 0:
            return Suggestions.empty(len(self.features_))
        if companion is not None and len(companion[0]) and not _same(companion, (idx, classes)):
            mine, theirs = self._fit_sets([(idx, classes), companion], progress, cancel)
            self._companion_result = (companion, theirs)
            return mine
        return self._fit_sets([(idx, classes)], progress, cancel)[0]

    def _fit_sets(self, sets, progress, cancel) -> list[Suggestions]:
        """One :class:`Suggestions` per ``(indices, classes)`` set, spread in one product."""
        t0 = time.perf_counter()
        n = len(self.features_)
        coded = []
        for idx, classes in sets:
            names = sorted(set(classes), key=_class_key)
            col = {c: j for j, c in enumerate(names)}
            coded.append((idx, names, np.fromiter((col[c] for c in classes), dtype=np.int64, count=len(idx))))
        report(progress, "suggest", 0, 2)
        # label spreading (Zhou et al.): F <- alpha S F + (1 - alpha) Y; decisions are not
        # clamped, so a decided image whose neighbourhood says otherwise can be flagged
        offsets = np.cumsum([0] + [len(names) for _, names, _ in coded])
        seed = np.zeros((n, int(offsets[-1])), np.float32)  # in graph_'s order, the sets side by side
        for (idx, _, y), start in zip(coded, offsets[:-1]):
            seed[self.position_[idx], start + y] = 1.0
        restart = (1.0 - self.alpha) * seed
        f = seed
        for _ in range(self.n_iter):  # in place: no (n, c) temporaries besides the product
            check_cancel(cancel)
            f = self.graph_ @ f
            f *= self.alpha
            f += restart
        report(progress, "suggest", 1, 2)
        out = []
        lifted = self.lifted_
        if lifted is not None and min(len(idx) for idx, _, _ in coded) < self.kernel_min_rows:
            lifted = None
        coefs = [self._ridge_coef(idx, len(names), y, lifted) for idx, names, y in coded]
        coef = np.concatenate(coefs, axis=1)  # one product for every set: the lifted rows are read once
        scores = self.features_ @ coef if lifted is None else lifted.times(coef)
        for (idx, names, y), start, stop in zip(coded, offsets[:-1], offsets[1:]):
            out.append(self._blend(f[self.position_, start:stop], scores[:, start:stop], names))  # back in image order
        report(progress, "suggest", 2, 2)
        seconds = time.perf_counter() - t0
        for sugg in out:
            sugg.fit_seconds = seconds
        return out

    def _ridge_coef(self, idx: np.ndarray, c: int, y: np.ndarray, lifted) -> np.ndarray:
        """Coefficients of a ridge classifier on the decisions (on ``lifted`` rows unless ``None``),
        balanced so a large class does not swamp a rare one."""
        rows = np.arange(len(idx)) if lifted is None else balanced_rows(y, c, self.max_fit_rows)
        yr = y[rows]
        counts = np.bincount(yr, minlength=c).astype(np.float32)
        w_row = (len(rows) / (c * counts[yr])).astype(np.float32)
        xl = self.features_[idx[rows]] if lifted is None else lifted.rows(idx[rows])
        xs = xl * np.sqrt(w_row)[:, None]
        gram = xs.T @ xs  # numpy hands a.T @ a to BLAS syrk: half a general product
        gram[np.diag_indices_from(gram)] += self.ridge if lifted is None else self.kernel_ridge
        target = np.zeros((len(rows), c), np.float32)
        target[np.arange(len(rows)), yr] = 1.0
        return scipy.linalg.solve(gram, (xl * w_row[:, None]).T @ target, assume_a="pos", overwrite_a=True,
                                  check_finite=False).astype(np.float32)  # Cholesky

    def _blend(self, f: np.ndarray, linear: np.ndarray, names: list[str]) -> Suggestions:
        """The spread label mass ``f`` blended with the ridge classifier's ``linear`` scores."""
        n, c = f.shape
        mass = f.sum(1)
        p_graph = f / np.maximum(mass, 1e-12)[:, None]

        # an extra "none of the decided classes" column at half the one-hot target keeps
        # images unlike every decided class (e.g. of a class nobody named yet) unconfident
        scores = np.concatenate([linear, np.full((n, 1), self.none_score, np.float32)], 1) * self.temperature
        scores -= scores.max(1, keepdims=True)
        p_lin = np.exp(scores)
        p_lin = (p_lin / p_lin.sum(1, keepdims=True))[:, :c]

        cover = np.clip(mass / self.mass_ref, 0.0, 1.0)[:, None]
        mix = self.mix * cover
        proba = (mix * p_graph + (1.0 - mix) * p_lin).astype(np.float32)
        top = proba.argmax(1)
        agree = (p_graph.argmax(1) == p_lin.argmax(1)) | (cover[:, 0] < 1e-3)
        conf = proba[np.arange(n), top] * np.where(agree, 1.0, 0.5)
        proba = proba / np.maximum(proba.sum(1, keepdims=True), 1e-12)
        return Suggestions(names, proba, top.astype(np.int64), conf.astype(np.float32))

    def fit_session(self, session, **kw) -> Suggestions:
        """:meth:`fit` on the decisions recorded in a :class:`ReviewSession`."""
        from pipeline.suggest.decided import decided_labels

        idx, cls = decided_labels(session)
        return self.fit(idx, cls, **kw)


def balanced_rows(y: np.ndarray, n_classes: int, limit: int) -> np.ndarray:
    """Positions into ``y`` (class codes) to fit on: all of them up to ``limit``, else at most an
    equal share per class (a rare class keeps every image), drawn with a fixed seed."""
    if len(y) <= limit:
        return np.arange(len(y))
    rng = np.random.default_rng(0)
    by_class = [np.flatnonzero(y == j) for j in range(n_classes)]
    sizes = np.sort([len(r) for r in by_class])
    left = limit  # the largest per-class quota whose total stays within the limit: the classes are
    for i, size in enumerate(sizes):  # more than ``limit`` images in all, so some class exceeds its share
        quota = left // (len(sizes) - i)
        if size > quota:
            break
        left -= size
    keep = [r if len(r) <= quota else rng.choice(r, quota, replace=False) for r in by_class]
    return np.sort(np.concatenate(keep))


def spread_distance(edges, position: np.ndarray) -> float:
    """Mean log distance between neighbours' rows (``edges``: the graph as COO) when image ``i`` sits at
    row ``position[i]``: what decides how often a graph product waits on memory (lower is closer)."""
    return float(np.mean(np.log1p(np.abs(position[edges.row] - position[edges.col])))) if edges.nnz else 0.0


def _same(decisions: tuple[np.ndarray, list], other: tuple[np.ndarray, list]) -> bool:
    return np.array_equal(decisions[0], other[0]) and decisions[1] == other[1]


def _class_key(c: str):
    return (0, int(c), c) if c.isdigit() else (1, 0, c)


def disagreements(session, suggestions: Suggestions, min_confidence: float = 0.8) -> np.ndarray:
    """Images inside named clusters whose confident suggestion differs from the name."""
    if not suggestions.classes:
        return np.zeros(0, np.int64)
    out = []
    for cid, name in session.cluster_names.items():
        members = unmarked_members(session, cid)
        if len(members) == 0:
            continue
        sug = np.asarray(suggestions.classes, dtype=object)[suggestions.top[members]]
        bad = (sug != name) & (suggestions.confidence[members] >= min_confidence)
        out.append(members[bad])
    return np.sort(np.concatenate(out)) if out else np.zeros(0, np.int64)


def exclude_declined(suggestions: Suggestions, declined: Optional[dict]) -> Suggestions:
    """The same suggestions with every class the reviewer refused for an image taken out.

    ``declined``: image -> classes refused for it. Such an image is suggested its best
    remaining class, its probabilities renormalised and its confidence scaled by the
    share of probability left (a refused image never stays confident in its refused class).
    """
    if not declined or not suggestions.classes:
        return suggestions
    col = {c: j for j, c in enumerate(suggestions.classes)}
    rows = np.asarray([i for i, cs in declined.items() if any(c in col for c in cs)], dtype=np.int64)
    if len(rows) == 0:
        return suggestions
    proba = suggestions.proba.copy()
    for i in rows.tolist():
        proba[i, [col[c] for c in declined[i] if c in col]] = 0.0
    left = proba[rows].sum(1)
    proba[rows] /= np.maximum(left, 1e-12)[:, None]
    top = suggestions.top.copy()
    top[rows] = proba[rows].argmax(1)
    conf = suggestions.confidence.copy()
    conf[rows] = conf[rows] * left * proba[rows, top[rows]] / np.maximum(suggestions.proba[rows].max(1), 1e-12)
    conf[rows[left <= 1e-12]] = 0.0
    return replace(suggestions, proba=proba, top=top, confidence=conf.astype(np.float32))
