"""Mislabel search over a whole folder: load, compute a preset's features, score the labels.

Also the CSV writers for the near-duplicate conflicts and outliers a report lists.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Optional

from pipeline.core.progress import CancelToken, ProgressCallback
from pipeline.core.atomic import atomic_write
from pipeline.mislabels.finder import MislabelFinder
from pipeline.mislabels.report import SuspectReport


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
    from pipeline.config import DEFAULT_PRESET, get_preset
    from pipeline.io.loader import load_images
    from pipeline.run import compute_features

    config = get_preset(preset or DEFAULT_PRESET)
    if crop_roi is not None:
        config.crop_roi = crop_roi
    image_set = load_images(source, size=config.image_size, crop_roi=config.crop_roi, cache_dir=cache_dir,
                            progress=progress, cancel=cancel)
    labels = [it.label for it in image_set.items]
    keep = [i for i, lab in enumerate(labels) if lab not in (None, "")]
    if not keep:
        raise ValueError(f"no image in {source} carries a label (use class folders or a path,label CSV)")
    labelled = image_set.subset(keep) if len(keep) < len(image_set) else image_set
    features = compute_features(config, labelled, progress=progress, cancel=cancel)
    finder = finder or MislabelFinder(seed=config.seed)
    report = finder.fit(features, [labels[i] for i in keep], progress=progress, cancel=cancel)
    return report, labelled.paths, len(image_set) - len(keep)


def write_conflicts_csv(path, report: SuspectReport, paths) -> Path:
    """Near-duplicate pairs with different labels: ``path_a,label_a,path_b,label_b,distance``."""
    path = Path(path)
    with atomic_write(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path_a", "label_a", "path_b", "label_b", "distance"])
        for i, j, d in report.near_duplicate_conflicts:
            writer.writerow([paths[i], report.classes[report.given[i]], paths[j], report.classes[report.given[j]],
                             f"{d:.4f}"])
    return path


def write_outliers_csv(path, report: SuspectReport, paths) -> Path:
    """Images that fit no class well, worst first: ``path,given,outlier_score``."""
    path = Path(path)
    with atomic_write(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "given", "outlier_score"])
        for i in report.outliers:
            writer.writerow([paths[i], report.classes[report.given[i]], f"{report.outlier_scores[i]:.4f}"])
    return path
