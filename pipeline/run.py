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


def _extractor_params(spec: dict[str, Any], config: PipelineConfig, cache_dir: Any, icons_from: Any = None) -> dict[str, Any]:
    """The spec's parameters, plus the run's seed and cache folder for extractors that
    train (they take ``seed`` / ``cache_dir``) and the source folder for those that read
    its taxonomy icons (``icons_from``), unless the spec sets them itself."""
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
    if "icons_from" in accepted and icons_from is not None and params.get("icons_from") is None:
        params["icons_from"] = str(icons_from)
    return params


def extract_features(
    config: PipelineConfig,
    images: np.ndarray,
    *,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    cache_dir: Any = None,
    notes: Optional[list[str]] = None,
    icons_from: Any = None,
) -> np.ndarray:
    """Run every extractor of ``config`` and concatenate the weighted blocks
    (an extractor's ``note_``, such as the domain guard's choice, is appended to ``notes``;
    ``icons_from``: the source folder, for extractors that read its taxonomy icons)."""
    blocks = []
    for spec in config.features:
        check_cancel(cancel)
        extractor = make_extractor(spec["name"], **_extractor_params(spec, config, cache_dir, icons_from))
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
    icons_from: Any = None,
) -> np.ndarray:
    """Extract and reduce features for ``image_set`` as ``config`` describes
    (``cache_dir``: where trained models are kept; ``False`` keeps none; ``notes``,
    ``icons_from``: see :func:`extract_features`)."""
    images = image_set.images if isinstance(image_set, ImageSet) else image_set
    raw = extract_features(config, images, progress=progress, cancel=cancel, cache_dir=cache_dir, notes=notes,
                           icons_from=icons_from)
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


#: From this many images ``streaming=None`` streams (bench/results/scale.md measures both paths).
STREAMING_THRESHOLD = 50_000


def run_pipeline(
    config: PipelineConfig,
    source: Source,
    *,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    cache_dir: Any = None,
    engine: Any = None,
    streaming: Optional[bool] = None,
    micro_clusterer: Any = None,
    store_dir: Any = None,
    keep_store: Optional[bool] = None,
) -> PipelineResult:
    """Load ``source``, cluster it per ``config`` and score against given labels if any.

    ``streaming``: ``True`` decodes and extracts in chunks on ``engine`` (default: the local
    engine on every core) into memory-mapped arrays under ``store_dir`` (default: the cache
    folder's ``streams/``), then clusters in two stages above
    :data:`pipeline.clustering.large.TWO_STAGE_THRESHOLD` images; ``False`` holds everything
    in memory; ``None`` streams from :data:`STREAMING_THRESHOLD` images or when a non-local
    ``engine`` is given. The streamed store is removed when the run ends (its arrays stay
    readable through the result's memory maps on POSIX), failed or not, unless ``keep_store``
    (default: kept when ``store_dir`` is given). ``micro_clusterer`` replaces the micro-cluster stage
    (``(features, n_micro, seed, progress, cancel) -> labels``, e.g. k-means on a cluster).
    """
    config.validate()
    found = None
    if streaming is None and not isinstance(source, ImageSet):
        remote = engine is not None and getattr(engine, "name", "local") != "local"
        if not remote:
            from pipeline.io.sources import discover

            found = discover(source, crop_roi=config.crop_roi)
        streaming = (remote or len(found.items) >= STREAMING_THRESHOLD) and _streamable(config)
    if streaming and not isinstance(source, ImageSet):
        return _run_streaming(
            config, source, found=found, engine=engine, micro_clusterer=micro_clusterer, store_dir=store_dir,
            keep_store=store_dir is not None if keep_store is None else bool(keep_store),
            cache_dir=cache_dir, progress=progress, cancel=cancel,
        )
    return _run_in_memory(config, source, progress=progress, cancel=cancel, cache_dir=cache_dir)


def _run_streaming(config, source, *, found, engine, micro_clusterer, store_dir, keep_store, cache_dir, progress, cancel):
    """Stream decode + features into memory-mapped arrays, then cluster them (two-stage
    above :data:`pipeline.clustering.large.TWO_STAGE_THRESHOLD` images); the store goes
    afterwards unless ``keep_store`` (a cluster's k-means reads it by path until then)."""
    from pipeline.io.image_store import remove_store

    from pipeline.clustering.large import cluster_large
    from pipeline.engine import make_engine
    from pipeline.evaluate import evaluate_clustering
    from pipeline.io.sources import discover
    from pipeline.streaming import CHUNK, resolve_guard, stream_features

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    found = found if found is not None else discover(source, crop_roi=config.crop_roi)
    config, guard_note = resolve_guard(config, found, progress=progress, cancel=cancel)
    own_engine = engine is None
    engine = make_engine("local") if own_engine else engine
    try:
        streamed = stream_features(
            config, source, engine=engine, store_dir=store_dir, cache_dir=cache_dir, keep_store=keep_store,
            progress=progress, cancel=cancel, found=found,
        )
    finally:
        if own_engine:
            engine.close()
    timings["features"] = time.perf_counter() - t0  # decoding included: one pass does both
    try:
        config = fit_to_images(config, len(streamed.image_set))
        t0 = time.perf_counter()
        clusters, notes = cluster_large(streamed.features, config, micro_clusterer=micro_clusterer, progress=progress, cancel=cancel)
        timings["cluster"] = time.perf_counter() - t0
    finally:
        if not keep_store:
            remove_store(streamed.store)
    labels = streamed.image_set.labels
    metrics = evaluate_clustering(labels, clusters.labels) if labels is not None else None
    timings["total"] = sum(timings.values())
    where = f"arrays kept in {streamed.store}" if keep_store else "arrays memory-mapped from a store removed after the run"
    notes.insert(0, f"streamed in chunks of {CHUNK} on the {engine.name} engine; {where}")
    if guard_note:
        notes.insert(1, guard_note)
    report(progress, "done", 1, 1)
    return PipelineResult(config, streamed.image_set, streamed.features, clusters, metrics, timings, notes)


def _streamable(config: PipelineConfig) -> bool:
    from pipeline.streaming import check_streamable_config

    try:
        check_streamable_config(config)
    except ValueError:
        return False
    return True


def _run_in_memory(config, source, *, progress, cancel, cache_dir) -> PipelineResult:
    from pipeline.evaluate import evaluate_clustering

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    image_set = load_source(source, config, cache_dir=cache_dir, progress=progress, cancel=cancel)
    if len(image_set) == 0:
        raise ValueError(f"no readable images ({len(image_set.skipped)} files skipped)")
    config = fit_to_images(config, len(image_set))  # too few images: a plain error, before any work
    timings["load"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    notes: list[str] = []
    icons_from = source if isinstance(source, (str, Path)) and Path(source).is_dir() else None  # a local folder
    features = compute_features(config, image_set, progress=progress, cancel=cancel, cache_dir=cache_dir, notes=notes,
                                icons_from=icons_from)
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
