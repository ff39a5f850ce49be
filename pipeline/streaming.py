"""Decode and extract features chunk by chunk into memory-mapped arrays (bounded memory).

The streaming path of :func:`pipeline.run.run_pipeline`: a sample of chunks runs first
(raw features kept, the PCA fitted on them), then every other chunk runs with the fitted
projection, so workers return reduced features. Images and reduced features are appended
in file order to an on-disk store (:mod:`pipeline.io.image_store`) and come back memory-mapped:
the process holds one chunk in flight per worker plus the sample, whatever the number of images.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from pipeline.core.items import ImageItem, ImageSet, SkippedFile
from pipeline.core.paths import default_cache_dir
from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report
from pipeline.engine.base import Engine
from pipeline.features.chunked import ChunkResult, ChunkTask, Projection, check_streamable, run_chunk
from pipeline.io.image_store import RowWriter
from pipeline.reduction import Reducer

#: Images per task: a multiple of the HOG batch; ~1.5 MB of images and features in flight each.
CHUNK = 512
#: Images whose raw features fit the PCA (whole chunks picked at random across the set).
PCA_SAMPLE = 16384


@dataclass
class StreamedSet:
    """What :func:`stream_features` produced: the decoded set (images memory-mapped) and
    its reduced features (memory-mapped), plus the fitted projection and the store folder."""

    image_set: ImageSet
    features: np.ndarray
    projection: Projection
    store: Path


def store_folder(source: Any, config, cache_dir: Any) -> Path:
    """Where a run's arrays go: ``<cache>/streams/<source, size, ROI digest>`` (reused, replaced
    atomically by each run), or a fresh temporary folder when ``cache_dir`` is ``False``."""
    if cache_dir is False:
        return Path(tempfile.mkdtemp(prefix="cluster-review-stream-"))
    root = default_cache_dir() if cache_dir is None else Path(cache_dir)
    if isinstance(source, (str, os.PathLike)):
        ident = os.path.abspath(os.fspath(source))
    else:  # a list of items: the same list gets the same folder (first and last file, count)
        paths = [getattr(it, "path", it) for it in source]
        ident = f"list|{len(paths)}|{os.fspath(paths[0]) if paths else ''}|{os.fspath(paths[-1]) if paths else ''}"
    digest = hashlib.sha1(f"{ident}|{config.image_size}|{config.crop_roi}".encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return root / "streams" / f"{config.image_size}px-{'roi' if config.crop_roi else 'full'}-{digest}"


def projection_from(reducer: Reducer, scales: Optional[np.ndarray]) -> Projection:
    """The fitted :class:`Reducer` as a :class:`Projection` (plain arrays a worker applies)."""
    model = reducer.model_
    if model is None:
        return Projection(None, None, reducer.l2, scales)
    n = reducer.n_components_
    matrix = model.components_[:n].T.astype(np.float64)
    if model.whiten:
        matrix = matrix / np.sqrt(model.explained_variance_[:n])[None, :]
    return Projection(model.mean_.astype(np.float32), matrix.astype(np.float32), reducer.l2, scales)


def _block_scales(raw: np.ndarray, dims: tuple[int, ...], specs) -> Optional[np.ndarray]:
    """Per-column weights that give each block unit mean row norm times its weight (as
    :func:`pipeline.run.extract_features` does over the whole set), from the sample."""
    if len(specs) < 2:
        return None
    scales = []
    start = 0
    for dim, spec in zip(dims, specs):
        norm = float(np.linalg.norm(raw[:, start : start + dim], axis=1).mean()) or 1.0
        scales.append(np.full(dim, float(spec.get("weight", 1.0)) / norm, np.float32))
        start += dim
    return np.concatenate(scales)


def stream_features(
    config,
    source: Any,
    *,
    engine: Engine,
    store_dir: Optional[Path] = None,
    cache_dir: Any = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    found: Any = None,
) -> StreamedSet:
    """Decode ``source`` at the config's size and compute its reduced features in chunks on
    ``engine`` (``found``: the source's :class:`~pipeline.io.sources.Discovery` if already made)."""
    from pipeline.io.decode import normalize_size
    from pipeline.io.sources import SourceError, discover

    check_streamable(config.features)
    found = found if found is not None else discover(source, crop_roi=config.crop_roi)
    items = found.items
    size = normalize_size(config.image_size)
    n = len(items)
    starts = list(range(0, n, CHUNK))
    rng = np.random.default_rng(config.seed)
    n_sample = min(len(starts), max(1, -(-PCA_SAMPLE // CHUNK)))
    sample = set(rng.choice(len(starts), n_sample, replace=False).tolist())

    def task(c: int, projection: Optional[Projection]) -> ChunkTask:
        chunk = items[starts[c] : starts[c] + CHUNK]
        return ChunkTask([(it.path, it.roi) for it in chunk], size, list(config.features), projection, c)

    report(progress, "decode + features", 0, n, f"{n} images, PCA sample first")
    held: dict[int, ChunkResult] = {}
    done = 0
    for result in engine.map_ordered(run_chunk, [task(c, None) for c in sorted(sample)], stage="features: PCA sample", cancel=cancel):
        held[result.number] = result
        done += len(items[starts[result.number] : starts[result.number] + CHUNK])
        report(progress, "decode + features", done, n)
    projection = _fit_projection(config, held, progress)

    named = source if isinstance(source, (str, os.PathLike)) else items  # a generator is spent by now
    folder = Path(store_dir) if store_dir is not None else store_folder(named, config, cache_dir)
    dims = int(next((r.features.shape[1] for r in held.values() if len(r.ok)), 0))
    images_out = RowWriter(folder / "images.u8", (size[1], size[0], 3), np.uint8)
    features_out = RowWriter(folder / "features.f32", (dims,), np.float32)
    kept: list[ImageItem] = []
    skipped: list[SkippedFile] = list(found.skipped)
    try:
        rest = engine.map_ordered(
            run_chunk, (task(c, projection) for c in range(len(starts)) if c not in sample),
            stage="features", cancel=cancel,
        )
        for c in range(len(starts)):
            check_cancel(cancel)
            result = held.pop(c) if c in sample else next(rest)
            chunk = items[starts[c] : starts[c] + CHUNK]
            images_out.append(result.images)
            features_out.append(result.features.reshape(len(result.ok), dims))
            kept.extend(chunk[i] for i in result.ok.tolist())
            skipped.extend(SkippedFile(chunk[i].path, reason) for i, reason in sorted(result.failed.items()))
            if c not in sample:
                done += len(chunk)
                report(progress, "decode + features", done, n)
        if not kept:
            first = f": {skipped[0].path}: {skipped[0].reason}" if skipped else ""
            raise SourceError(f"no image could be decoded ({len(skipped)} files failed{first})")
        images = images_out.commit()
        features = features_out.commit()
    except BaseException:
        images_out.abort()
        features_out.abort()
        raise
    report(progress, "decode + features", n, n, f"{len(kept)} images, {len(skipped)} skipped")
    return StreamedSet(ImageSet(kept, images, skipped, found.layout), features, projection, folder)


def _fit_projection(config, held: dict[int, ChunkResult], progress) -> Projection:
    """Fit the config's reduction on the sample chunks' raw features and reduce them in place."""
    results = [r for r in held.values() if len(r.ok)]
    if not results:
        return Projection(None, None, config.l2_normalize, None)
    raw = np.concatenate([r.features for r in results])
    scales = _block_scales(raw, results[0].block_dims, config.features)
    report(progress, "reducing", 0, 1, f"PCA on a sample of {len(raw)} images")
    scaled_raw = raw if scales is None else raw * scales[None, :]
    reducer = Reducer(pca=config.pca, whiten=config.whiten, l2=config.l2_normalize, seed=config.seed).fit(scaled_raw)
    projection = projection_from(reducer, scales)
    del raw, scaled_raw
    for r in held.values():
        r.features = projection.apply(r.features) if len(r.ok) else np.zeros((0, 0), np.float32)
        r.reduced = True
    report(progress, "reducing", 1, 1)
    return projection

