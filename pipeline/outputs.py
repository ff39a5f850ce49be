"""Writing a pipeline run to disk: assignments.csv, metrics.json, clusters.json."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.atomic import atomic_write_json
from pipeline.core.csvio import write_csv
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
    """Write the three result files (plus skipped.csv) into ``out_dir``.

    Each file is written atomically (a full disk leaves the old file or none, never a
    truncated one); paths keep non-UTF-8 bytes (see :mod:`pipeline.core.csvio`).
    ``metrics.json`` records the number of clusters actually made (``n_clusters``) and,
    under ``config``, the ``k`` the clustering was asked for after validation.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    items = result.image_set.items
    labels = result.clusters.labels
    files = {
        "assignments": out_dir / "assignments.csv",
        "metrics": out_dir / "metrics.json",
        "clusters": out_dir / "clusters.json",
        "skipped": out_dir / "skipped.csv",
    }
    write_csv(files["assignments"], ["path", "cluster", "label"],
              ([item.path, int(cluster), "" if item.label is None else item.label] for item, cluster in zip(items, labels)))
    write_csv(files["skipped"], ["path", "reason"], ([s.path, s.reason] for s in result.image_set.skipped))
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
        "notes": result.notes,
        "scores": result.metrics,
    }
    write_json(files["metrics"], metrics)
    return files
