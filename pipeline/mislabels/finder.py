"""MislabelFinder: rank labelled images by how likely their given label is wrong."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report
from pipeline.mislabels import confident_learning as cl
from pipeline.mislabels.classifier import cross_val_probabilities
from pipeline.mislabels.neighbours import (
    cluster_by_kmeans,
    cluster_label_probabilities,
    knn_label_probabilities,
    near_duplicate_conflicts,
    nearest_neighbours,
    outlier_scores,
)
from pipeline.mislabels.report import SuspectReport

#: Weights of the class-probability sources in the combined estimate. Chosen on GTSRB
#: label flips (HOG + PCA 200 features, 5%/10% random/confusable flips): within 0.01
#: precision-at-k of the best weighting tried (classifier 1, cluster 0, knn 2) in all
#: four settings, while still using every source.
DEFAULT_WEIGHTS = {"classifier": 2.0, "cluster": 1.0, "knn": 2.0}


def encode_labels(labels: Sequence) -> tuple[list[str], np.ndarray]:
    """Class names (numeric order when all labels are integers) and class indices."""
    names = [str(lab) for lab in labels]
    if any(lab is None for lab in labels) or any(name == "" for name in names):
        raise ValueError("every image needs a label; drop unlabelled images first")
    unique = set(names)
    if all(name.lstrip("-").isdigit() for name in unique):
        classes = sorted(unique, key=int)
    else:
        classes = sorted(unique)
    lookup = {name: i for i, name in enumerate(classes)}
    return classes, np.array([lookup[name] for name in names], dtype=np.int64)


class MislabelFinder:
    """Score each given label by how likely it is wrong, from image features alone.

    Three sources give every image a class-probability estimate that ignores its own
    label: the labels of its ``n_neighbors`` nearest neighbours, the labels in its
    cluster (``cluster_labels`` passed to :meth:`fit`, else k-means with one cluster
    per class), and a ``cv``-fold cross-validated ``classifier`` ("logreg" or "mlp").
    Their weighted mean (``weights``) is the combined estimate; the score is
    ``1 - normalized margin`` of the given label under it, and confident learning's
    noise-rate pruning on it sets ``flagged``. Each source's own score is kept.

    Near-duplicate conflicts are neighbour pairs closer than ``duplicate_distance``
    (default: ``duplicate_factor`` x the median nearest-neighbour distance) that carry
    different labels. Outliers are images whose mean neighbour distance has a robust
    z-score above ``outlier_z``.

    After :meth:`fit`: ``report_``, ``classes_``, ``sources_`` (each source's ``(N, C)``
    probabilities) and ``duplicate_distance_``.
    """

    def __init__(
        self,
        n_neighbors: int = 10,
        cv: int = 5,
        seed: int = 0,
        *,
        classifier: str = "logreg",
        weights: Optional[dict[str, float]] = None,
        n_clusters: Optional[int] = None,
        smoothing: float = 1.0,
        duplicate_distance: Optional[float] = None,
        duplicate_factor: float = 0.25,
        outlier_z: float = 3.0,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.cv = cv
        self.seed = seed
        self.classifier = classifier
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        self.n_clusters = n_clusters
        self.smoothing = smoothing
        self.duplicate_distance = duplicate_distance
        self.duplicate_factor = duplicate_factor
        self.outlier_z = outlier_z

    def fit(
        self,
        features: np.ndarray,
        labels: Sequence,
        cluster_labels: Optional[np.ndarray] = None,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> SuspectReport:
        """Score every image; the report is returned and kept as ``report_``."""
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2 or len(features) != len(labels):
            raise ValueError(f"features {features.shape} do not match {len(labels)} labels")
        classes, y = encode_labels(labels)
        n, n_classes = len(y), len(classes)
        if n_classes < 2:
            raise ValueError("need at least two classes to find mislabels")
        if n < 3:
            raise ValueError("need at least three images")
        unknown = set(self.weights) - set(DEFAULT_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown weight sources {sorted(unknown)}; known: {sorted(DEFAULT_WEIGHTS)}")

        dist, ind = nearest_neighbours(features, self.n_neighbors, progress=progress, cancel=cancel)
        p_knn = knn_label_probabilities(ind, y, n_classes, smoothing=self.smoothing)

        check_cancel(cancel)
        report(progress, "clusters", 0, 1)
        if cluster_labels is None:
            cluster_labels = cluster_by_kmeans(features, self.n_clusters or n_classes, seed=self.seed)
        cluster_labels = np.asarray(cluster_labels, dtype=np.int64)
        if len(cluster_labels) != n:
            raise ValueError(f"{len(cluster_labels)} cluster labels for {n} images")
        p_cluster = cluster_label_probabilities(cluster_labels, y, n_classes, smoothing=self.smoothing)
        report(progress, "clusters", 1, 1)

        p_clf = cross_val_probabilities(features, y, n_classes, cv=self.cv, classifier=self.classifier,
                                        seed=self.seed, progress=progress, cancel=cancel)

        check_cancel(cancel)
        report(progress, "scoring", 0, 1)
        sources = {"classifier": p_clf, "cluster": p_cluster, "knn": p_knn}
        total = sum(self.weights.get(name, 0.0) for name in sources)
        if total <= 0:
            raise ValueError("weights must not all be zero")
        combined = sum(self.weights.get(name, 0.0) * p for name, p in sources.items()) / total
        score = 1.0 - cl.normalized_margin(combined, y)
        suggested = combined.argmax(axis=1)
        flagged = cl.find_issues_by_noise_rate(combined, y)

        positive = dist[:, 0][dist[:, 0] > 0]
        max_dup = self.duplicate_distance
        if max_dup is None:
            max_dup = self.duplicate_factor * float(np.median(positive)) if len(positive) else 0.0
        conflicts = near_duplicate_conflicts(dist, ind, y, max_dup)
        out_score, out_z = outlier_scores(dist)
        outliers = np.flatnonzero(out_z > self.outlier_z)
        outliers = outliers[np.argsort(-out_z[outliers], kind="stable")]
        report(progress, "scoring", 1, 1)

        self.classes_ = classes
        self.sources_ = sources  # per-source (N, C) probabilities, for inspection and benchmarks
        self.duplicate_distance_ = max_dup
        self.report_ = SuspectReport(
            classes=classes,
            given=y,
            suggested=suggested,
            score=score,
            confidence=combined[np.arange(n), suggested],
            knn=1.0 - cl.self_confidence(p_knn, y),
            cluster=1.0 - cl.self_confidence(p_cluster, y),
            confident_learning=1.0 - cl.normalized_margin(p_clf, y),
            flagged=flagged,
            probabilities=combined,
            outlier_scores=out_score,
            outliers=outliers,
            near_duplicate_conflicts=conflicts,
        )
        return self.report_
