"""Run a whole pipeline: load, extract features, reduce, cluster, evaluate."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from pipeline.clustering.summary import ClusterResult
from pipeline.clustering.api import cluster_features
from pipeline.clustering.requirements import fit_to_images
from pipeline.config import PipelineConfig
from pipeline.features.registry import make_extractor
from pipeline.core.items import ImageItem, ImageSet
from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report, scaled
from pipeline.reduction import Reducer

Source = Union[str, Path, list[ImageItem], ImageSet]


@dataclass
class PipelineResult:
    """Everything a run produced; ``features`` are the reduced vectors clustering used."""

    config: PipelineConfig
    image_set: ImageSet
    features: np.ndarray
    clusters: ClusterResult
    metrics: Optional[dict[str, Any]] = None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # decisions taken on the way (e.g. the domain guard's)


def _extractor_params(spec: dict[str, Any], config: PipelineConfig, cache_dir: Any) -> dict[str, Any]:
    """The spec's parameters, plus the run's seed and cache folder for extractors that
    train (they take ``seed`` / ``cache_dir``) unless the spec sets them itself."""
    from pipeline.features.registry import extractor_param_names

    params = dict(spec.get("params", {}))
    try:
        accepted = set(extractor_param_names(spec["name"]))  # the estimator's __init__ keywords
    except ValueError:
        accepted = set()
    if "seed" in accepted:
        params.setdefault("seed", config.seed)
    if "cache_dir" in accepted and cache_dir is not None:
        params.setdefault("cache_dir", cache_dir if cache_dir is False else str(cache_dir))
    return params


def extract_features(
    config: PipelineConfig,
    images: np.ndarray,
    *,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    cache_dir: Any = None,
    notes: Optional[list[str]] = None,
) -> np.ndarray:
    """Run every extractor of ``config`` and concatenate the weighted blocks
    (an extractor's ``note_``, such as the domain guard's choice, is appended to ``notes``)."""
    blocks = []
    for spec in config.features:
        check_cancel(cancel)
        extractor = make_extractor(spec["name"], **_extractor_params(spec, config, cache_dir))
        block = extractor.fit_transform(images, progress=scaled(progress, f"features: {spec['name']}"), cancel=cancel)
        block = np.asarray(block, dtype=np.float32)
        if notes is not None and getattr(extractor, "note_", None):
            notes.append(extractor.note_)
        if len(config.features) > 1:
            mean_norm = float(np.linalg.norm(block, axis=1).mean()) or 1.0
            block = block * (float(spec.get("weight", 1.0)) / mean_norm)
        blocks.append(block)
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)


def compute_features(
    config: PipelineConfig,
    image_set: Union[ImageSet, np.ndarray],
    *,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    cache_dir: Any = None,
    notes: Optional[list[str]] = None,
) -> np.ndarray:
    """Extract and reduce features for ``image_set`` as ``config`` describes
    (``cache_dir``: where trained models are kept; ``False`` keeps none; ``notes``: see
    :func:`extract_features`)."""
    images = image_set.images if isinstance(image_set, ImageSet) else image_set
    raw = extract_features(config, images, progress=progress, cancel=cancel, cache_dir=cache_dir, notes=notes)
    check_cancel(cancel)
    report(progress, "reducing", 0, 1)
    reduced = Reducer(pca=config.pca, whiten=config.whiten, l2=config.l2_normalize, seed=config.seed).fit_transform(raw)
    report(progress, "reducing", 1, 1, f"{raw.shape[1]} -> {reduced.shape[1]} dims")
    return reduced


def load_source(
    source: Source,
    config: PipelineConfig,
    *,
    cache_dir: Any = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> ImageSet:
    """Decode ``source`` at the config's working size (an ImageSet passes through)."""
    if isinstance(source, ImageSet):
        return source
    from pipeline.io.loader import load_images

    return load_images(
        source, size=config.image_size, crop_roi=config.crop_roi, cache_dir=cache_dir, progress=progress, cancel=cancel
    )


def run_pipeline(
    config: PipelineConfig,
    source: Source,
    *,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    cache_dir: Any = None,
) -> PipelineResult:
    """Load ``source``, cluster it per ``config`` and score against given labels if any."""
    from pipeline.evaluate import evaluate_clustering

    config.validate()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    image_set = load_source(source, config, cache_dir=cache_dir, progress=progress, cancel=cancel)
    if len(image_set) == 0:
        raise ValueError(f"no readable images ({len(image_set.skipped)} files skipped)")
    config = fit_to_images(config, len(image_set))  # too few images: a plain error, before any work
    timings["load"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    notes: list[str] = []
    features = compute_features(config, image_set, progress=progress, cancel=cancel, cache_dir=cache_dir, notes=notes)
    timings["features"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    check_cancel(cancel)
    k = None if config.k_range else config.k
    clusters = cluster_features(
        features,
        config.method,
        k,
        k_range=tuple(config.k_range) if config.k_range else None,
        criterion=config.k_criterion,
        seed=config.seed,
        images=image_set.images,
        progress=progress,
        cancel=cancel,
        **config.method_params,
    )
    timings["cluster"] = time.perf_counter() - t0

    metrics = None
    labels = image_set.labels
    if labels is not None:
        metrics = evaluate_clustering(labels, clusters.labels)
    timings["total"] = sum(timings.values())
    report(progress, "done", 1, 1)
    return PipelineResult(config, image_set, features, clusters, metrics, timings, notes)
