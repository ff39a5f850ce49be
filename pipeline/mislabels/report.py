"""The result of a mislabel search: per-image suspicion scores, conflicts and outliers."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from pipeline.core.atomic import atomic_write

CSV_COLUMNS = ["rank", "score", "given", "suggested", "confidence", "path",
               "knn", "cluster", "confident_learning", "flagged", "outlier"]


@dataclass
class SuspectReport:
    """Per-image label suspicion from :class:`~pipeline.mislabels.MislabelFinder`.

    All arrays have one entry per image, in input order. ``score`` in [0, 1] is how
    likely the given label is wrong (0.5 = undecided). ``suggested`` is the most likely
    label and ``confidence`` its probability; where the given label looks right,
    ``suggested == given``. Component scores (also in [0, 1], higher = more suspect):
    ``knn`` (disagreement with the nearest neighbours), ``cluster`` (with the cluster
    majority), ``confident_learning`` (normalized margin of the cross-validated
    classifier). ``flagged`` marks the label issues found by confident learning's
    noise-rate pruning on the combined probabilities. ``probabilities`` is ``(N, C)``
    over ``classes``. ``near_duplicate_conflicts``: pairs ``(i, j, distance)`` of
    near-identical images with different labels. ``outliers``: indices of images that
    fit no class well, worst first, with ``outlier_scores`` for every image.
    """

    classes: list[str]
    given: np.ndarray
    suggested: np.ndarray
    score: np.ndarray
    confidence: np.ndarray
    knn: np.ndarray
    cluster: np.ndarray
    confident_learning: np.ndarray
    flagged: np.ndarray
    probabilities: np.ndarray
    outlier_scores: np.ndarray
    outliers: np.ndarray
    near_duplicate_conflicts: list[tuple[int, int, float]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.score)

    @property
    def given_labels(self) -> list[str]:
        return [self.classes[c] for c in self.given]

    @property
    def suggested_labels(self) -> list[str]:
        return [self.classes[c] for c in self.suggested]

    def ranked(self, top: Optional[int] = None) -> np.ndarray:
        """Image indices sorted most suspect first (ties keep input order)."""
        order = np.argsort(-self.score, kind="stable")
        return order if top is None else order[:top]

    def rows(self, paths: Optional[Sequence[str]] = None, top: Optional[int] = None) -> list[dict]:
        """One dict per image (columns of :data:`CSV_COLUMNS`), most suspect first."""
        outlier_set = set(self.outliers.tolist())
        out = []
        for rank, i in enumerate(self.ranked(top), start=1):
            out.append({
                "rank": rank,
                "score": round(float(self.score[i]), 4),
                "given": self.classes[self.given[i]],
                "suggested": self.classes[self.suggested[i]],
                "confidence": round(float(self.confidence[i]), 4),
                "path": paths[i] if paths is not None else str(i),
                "knn": round(float(self.knn[i]), 4),
                "cluster": round(float(self.cluster[i]), 4),
                "confident_learning": round(float(self.confident_learning[i]), 4),
                "flagged": int(bool(self.flagged[i])),
                "outlier": int(i in outlier_set),
            })
        return out

    def to_csv(self, path, paths: Optional[Sequence[str]] = None, top: Optional[int] = None) -> Path:
        """Write the ranked list (worst first) to ``path``; ``paths`` name the images."""
        if paths is not None and len(paths) != len(self):
            raise ValueError(f"{len(paths)} paths for {len(self)} images")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows(paths, top))
        return path
