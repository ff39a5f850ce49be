"""Writing a pipeline run to disk: assignments.csv, metrics.json, clusters.json."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.atomic import atomic_write, atomic_write_json
from pipeline.run import PipelineResult


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_json(path: Path, data: Any) -> None:
    atomic_write_json(path, _jsonable(data), indent=1)


def write_run(result: PipelineResult, out_dir: Path) -> dict[str, Path]:
    """Write the three result files (plus skipped.csv) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    items = result.image_set.items
    labels = result.clusters.labels
    files = {
        "assignments": out_dir / "assignments.csv",
        "metrics": out_dir / "metrics.json",
        "clusters": out_dir / "clusters.json",
        "skipped": out_dir / "skipped.csv",
    }
    with atomic_write(files["assignments"], "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "cluster", "label"])
        for item, cluster in zip(items, labels):
            writer.writerow([item.path, int(cluster), "" if item.label is None else item.label])
    with atomic_write(files["skipped"], "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "reason"])
        for skipped in result.image_set.skipped:
            writer.writerow([skipped.path, skipped.reason])
    clusters = result.clusters
    selection = clusters.k_selection
    write_json(
        files["clusters"],
        {
            "method": clusters.method,
            "n_clusters": clusters.n_clusters,
            "ids": clusters.ids,
            "sizes": clusters.sizes,
            "medoids": clusters.medoids,
            "medoid_paths": [items[i].path for i in clusters.medoids],
            "centers": np.round(clusters.centers, 6),
            "linkage": clusters.linkage,
            "k_selection": None
            if selection is None
            else {"criterion": selection.criterion, "ks": selection.ks, "scores": selection.scores, "best_k": selection.best_k},
        },
    )
    metrics = {
        "config": result.config.to_dict(),
        "n_images": len(items),
        "n_skipped": len(result.image_set.skipped),
        "layout": result.image_set.layout,
        "n_clusters": clusters.n_clusters,
        "timings_s": result.timings,
        "scores": result.metrics,
    }
    write_json(files["metrics"], metrics)
    return files
