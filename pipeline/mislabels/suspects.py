"""Mislabel search over a whole folder: load, compute a preset's features, score the labels.

Also the CSV writers for the near-duplicate conflicts and outliers a report lists.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from pipeline.core.csvio import write_csv
from pipeline.core.progress import CancelToken, ProgressCallback
from pipeline.mislabels.finder import MislabelFinder
from pipeline.mislabels.report import CSV_COLUMNS, SuspectReport

#: Fewest labelled images :func:`find_suspects` scores (the finder's own minimum).
MIN_LABELLED = 3
#: Fewest for the ``mlp`` classifier, whose early stopping holds out a validation set in
#: every fold (it failed on 13 or fewer images, and worked from 14 for 2..14 classes).
MIN_LABELLED_MLP = 15

#: The features the finder scores on unless told otherwise: the preset its figures were measured
#: with (``bench/mislabels.py --preset best``, bench/results/mislabels.md), not the clustering default.
SUSPECTS_PRESET = "best"


def find_suspects(
    source,
    *,
    preset: Optional[str] = None,
    finder: Optional[MislabelFinder] = None,
    crop_roi: Optional[bool] = None,
    cache_dir=None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> tuple[SuspectReport, list[str], int]:
    """Load ``source``, compute the preset's features and score the labelled images.

    Returns ``(report, paths, n_unlabelled)``; images without a label are left out.
    """
    from pipeline.config import get_preset
    from pipeline.io.loader import load_images
    from pipeline.run import compute_features

    config = get_preset(preset or SUSPECTS_PRESET)
    if crop_roi is not None:
        config.crop_roi = crop_roi
    image_set = load_images(source, size=config.image_size, crop_roi=config.crop_roi, cache_dir=cache_dir,
                            progress=progress, cancel=cancel)
    labels = [it.label for it in image_set.items]
    keep = [i for i, lab in enumerate(labels) if lab not in (None, "")]
    if not keep:
        raise ValueError(f"no image in {source} carries a label (use class folders or a path,label CSV)")
    n_classes = len({labels[i] for i in keep})
    if len(keep) < MIN_LABELLED or n_classes < 2:
        raise ValueError(f"too few labelled images: {len(keep)} in {n_classes} class(es) found; the mislabel "
                         f"search needs at least {MIN_LABELLED} images in at least 2 classes")
    finder = finder or MislabelFinder(seed=config.seed)
    if finder.classifier == "mlp" and len(keep) < MIN_LABELLED_MLP:
        raise ValueError(f"too few labelled images for the mlp classifier: {len(keep)} found, at least "
                         f"{MIN_LABELLED_MLP} needed (use --classifier logreg)")
    labelled = image_set.subset(keep) if len(keep) < len(image_set) else image_set
    features = compute_features(config, labelled, progress=progress, cancel=cancel)
    report = finder.fit(features, [labels[i] for i in keep], progress=progress, cancel=cancel)
    return report, labelled.paths, len(image_set) - len(keep)


def write_suspects_csv(path, report: SuspectReport, paths, top: Optional[int] = None) -> Path:
    """The ranked list, worst first (``top``: only the first N), columns ``CSV_COLUMNS``."""
    if len(paths) != len(report):
        raise ValueError(f"{len(paths)} paths for {len(report)} images")
    if top is not None and top < 0:
        raise ValueError(f"top must be 0 or more, got {top}")
    rows = report.rows(paths, top)
    return write_csv(path, CSV_COLUMNS, ([row[c] for c in CSV_COLUMNS] for row in rows))


def write_conflicts_csv(path, report: SuspectReport, paths) -> Path:
    """Near-duplicate pairs with different labels: ``path_a,label_a,path_b,label_b,distance``."""
    cls, given = report.classes, report.given
    return write_csv(path, ["path_a", "label_a", "path_b", "label_b", "distance"],
                     ([paths[i], cls[given[i]], paths[j], cls[given[j]], f"{d:.4f}"]
                      for i, j, d in report.near_duplicate_conflicts))


def write_outliers_csv(path, report: SuspectReport, paths) -> Path:
    """Images that fit no class well, worst first: ``path,given,outlier_score``."""
    return write_csv(path, ["path", "given", "outlier_score"],
                     ([paths[i], report.classes[report.given[i]], f"{report.outlier_scores[i]:.4f}"]
                      for i in report.outliers))
