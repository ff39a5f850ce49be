"""Decode and extract features chunk by chunk into memory-mapped arrays (bounded memory).

The streaming path of :func:`pipeline.run.run_pipeline`: a uniform random sample of the
images runs first (raw features kept, the PCA fitted on them), then every chunk of the
rest runs with the fitted projection, so workers return reduced features. Images and reduced features are appended
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
from pipeline.io.image_store import RowWriter, claim_store, remove_store, sweep_stores
from pipeline.reduction import Reducer

#: Images per task: a multiple of the HOG batch; ~1.5 MB of images and features in flight each.
CHUNK = 512
#: Images whose raw features fit the PCA (drawn uniformly at random from the whole set).
PCA_SAMPLE = 16384


def guarded_spec(specs) -> Optional[dict]:
    """The one ``guarded`` spec of a feature list, or ``None`` when the list is anything else."""
    specs = list(specs or [])
    return specs[0] if len(specs) == 1 and specs[0].get("name") == "guarded" else None


def resolve_guard(config, found, *, progress: Optional[ProgressCallback] = None,
                  cancel: Optional[CancelToken] = None) -> tuple[Any, Optional[str]]:
    """``(config, note)``: a config whose features are one ``guarded`` spec gets the candidate the
    guard picks on its own random sample of ``found``'s images (decoded here; the chunks then run
    that stateless extractor), with the guard's note; any other config comes back as it is, with
    ``None``. The sample is the one the in-memory path clusters (``GuardedFeatures.sample_indices``)."""
    from dataclasses import replace

    from pipeline.features.guard import GuardedFeatures
    from pipeline.io.decode import normalize_size
    from pipeline.io.loader import decode_chunk

    spec = guarded_spec(config.features)
    if spec is None:
        return config, None
    guard = GuardedFeatures(**spec.get("params", {}))
    items = found.items
    pick = guard.sample_indices(len(items))
    report(progress, "domain guard", 0, 1, f"decoding a sample of {len(pick)} images")
    tasks = [(int(i), items[i].path, items[i].roi) for i in pick.tolist()]
    blocks = []
    for lo in range(0, len(tasks), CHUNK):
        check_cancel(cancel)
        _ok, block, _failed = decode_chunk(tasks[lo : lo + CHUNK], normalize_size(config.image_size))
        blocks.append(block)
    sample = np.concatenate(blocks) if blocks else np.zeros((0,), np.uint8)
    if len(sample) < 2:
        raise ValueError("domain guard: fewer than 2 readable images in its sample")
    guard.fit(sample, progress=progress, cancel=cancel)
    return replace(config, features=[dict(s) for s in guard.chosen_]), guard.note_


def check_streamable_config(config) -> None:
    """:func:`~pipeline.features.chunked.check_streamable` of the features, a guard's candidates for a guard."""
    spec = guarded_spec(config.features)
    if spec is None:
        check_streamable(config.features)
        return
    from pipeline.features.guard import GuardedFeatures

    check_streamable(GuardedFeatures(**spec.get("params", {})).candidate_specs())


@dataclass
class StreamedSet:
    """What :func:`stream_features` produced: the decoded set (images memory-mapped) and
    its reduced features (memory-mapped), plus the fitted projection and the store folder."""

    image_set: ImageSet
    features: np.ndarray
    projection: Projection
    store: Path


def store_folder(source: Any, config, cache_dir: Any) -> Path:
    """A fresh folder for one run's arrays: ``<cache>/streams/<size, ROI, source digest>-<random>``,
    or a temporary folder when ``cache_dir`` is ``False``. Stores left there (kept ones, or a
    crashed run's) are swept first (:func:`~pipeline.io.image_store.sweep_stores`)."""
    if cache_dir is False:
        return claim_store(Path(tempfile.mkdtemp(prefix="cluster-review-stream-")))
    root = default_cache_dir() if cache_dir is None else Path(cache_dir)
    if isinstance(source, (str, os.PathLike)):
        ident = os.path.abspath(os.fspath(source))
    else:  # a list of items: the same list gets the same folder (first and last file, count)
        paths = [getattr(it, "path", it) for it in source]
        ident = f"list|{len(paths)}|{os.fspath(paths[0]) if paths else ''}|{os.fspath(paths[-1]) if paths else ''}"
    digest = hashlib.sha1(f"{ident}|{config.image_size}|{config.crop_roi}".encode("utf-8", "surrogatepass")).hexdigest()[:16]
    streams = root / "streams"
    sweep_stores(streams)
    streams.mkdir(parents=True, exist_ok=True)
    prefix = f"{config.image_size}px-{'roi' if config.crop_roi else 'full'}-{digest}-"
    return claim_store(Path(tempfile.mkdtemp(prefix=prefix, dir=streams)))


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
    keep_store: Optional[bool] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    found: Any = None,
) -> StreamedSet:
    """Decode ``source`` at the config's size and compute its reduced features in chunks on
    ``engine`` (``found``: the source's :class:`~pipeline.io.sources.Discovery` if already made).

    The PCA fits on :data:`PCA_SAMPLE` images drawn uniformly from the whole set (a seeded
    random subset, so a class-sorted listing gives an unbiased sample); they are decoded first,
    kept, and merged back into their places, so every image is decoded once. On an error or a
    cancel the store folder is removed unless it is kept (``keep_store``; default: kept when
    ``store_dir`` is given, the previous committed arrays then stay).
    """
    from pipeline.io.decode import normalize_size
    from pipeline.io.sources import SourceError, discover

    check_streamable(config.features)
    found = found if found is not None else discover(source, crop_roi=config.crop_roi)
    items = found.items
    size = normalize_size(config.image_size)
    n = len(items)
    picked = np.sort(np.random.default_rng(config.seed).choice(n, min(n, PCA_SAMPLE), replace=False))
    in_sample = np.zeros(n, dtype=bool)
    in_sample[picked] = True

    def task(indices: np.ndarray, projection: Optional[Projection], number: int) -> ChunkTask:
        files = [(items[i].path, items[i].roi) for i in indices.tolist()]
        return ChunkTask(files, size, list(config.features), projection, number)

    report(progress, "decode + features", 0, n, f"{n} images, PCA sample of {len(picked)} first")
    groups = [picked[s : s + CHUNK] for s in range(0, len(picked), CHUNK)]
    results = []
    for result in engine.map_ordered(run_chunk, [task(g, None, i) for i, g in enumerate(groups)],
                                     stage="features: PCA sample", cancel=cancel):
        results.append(result)
        report(progress, "decode + features", sum(len(g) for g in groups[: len(results)]), n)
    projection = _fit_projection(config, {r.number: r for r in results}, progress)
    sample = _SampleRows(groups, results, (size[1], size[0], 3))
    del results

    named = source if isinstance(source, (str, os.PathLike)) else items  # a generator is spent by now
    keep = store_dir is not None if keep_store is None else bool(keep_store)
    folder = Path(store_dir) if store_dir is not None else store_folder(named, config, cache_dir)
    images_out = RowWriter(folder / "images.u8", (size[1], size[0], 3), np.uint8)
    features_out: Optional[RowWriter] = None
    kept: list[ImageItem] = []
    skipped: list[SkippedFile] = list(found.skipped)
    starts = range(0, n, CHUNK)
    rest_of = [np.flatnonzero(~in_sample[s : s + CHUNK]) + s for s in starts]
    done = len(picked)
    try:
        rest = engine.map_ordered(
            run_chunk, (task(r, projection, c) for c, r in enumerate(rest_of) if len(r)), stage="features", cancel=cancel,
        )
        for c, s in enumerate(starts):
            check_cancel(cancel)
            result = next(rest) if len(rest_of[c]) else None
            where, images, features, failed = sample.merge(s, min(n, s + CHUNK), rest_of[c], result)
            if features_out is None and len(where):
                features_out = RowWriter(folder / "features.f32", features.shape[1:], np.float32)
            images_out.append(images)
            if len(where):
                features_out.append(features)
            kept.extend(items[i] for i in where.tolist())
            skipped.extend(SkippedFile(items[i].path, reason) for i, reason in failed)
            done += len(rest_of[c])
            if len(rest_of[c]):
                report(progress, "decode + features", done, n)
        if not kept:
            first = f": {skipped[0].path}: {skipped[0].reason}" if skipped else ""
            raise SourceError(f"no image could be decoded ({len(skipped)} files failed{first})")
        images = images_out.commit()
        features = features_out.commit()
    except BaseException:
        images_out.abort()
        if features_out is not None:
            features_out.abort()
        if not keep:
            remove_store(folder)
        raise
    report(progress, "decode + features", n, n, f"{len(kept)} images, {len(skipped)} skipped")
    return StreamedSet(ImageSet(kept, images, skipped, found.layout), features, projection, folder)


class _SampleRows:
    """The PCA sample's decoded images and reduced features, merged back into their chunks."""

    def __init__(self, groups: list[np.ndarray], results: list[ChunkResult], image_shape: tuple) -> None:
        self.image_shape = tuple(image_shape)
        oks = [g[r.ok] for g, r in zip(groups, results)]
        self.where = np.concatenate(oks) if oks else np.zeros(0, np.int64)  # sorted: groups and ok ascend
        with_rows = [r for r in results if len(r.ok)]
        self.images = np.concatenate([r.images for r in with_rows]) if with_rows else None
        self.features = np.concatenate([r.features for r in with_rows]) if with_rows else None
        self.failed = sorted((int(g[i]), reason) for g, r in zip(groups, results) for i, reason in r.failed.items())

    def merge(self, lo: int, hi: int, rest: np.ndarray, result: Optional[ChunkResult]):
        """``(indices, images, features, failed)`` of images ``lo..hi-1`` in file order: the
        chunk's ``result`` for the ``rest`` plus the sample's rows in that range."""
        a, b = np.searchsorted(self.where, [lo, hi])
        where = [self.where[a:b]]
        images = [self.images[a:b]] if b > a else []
        features = [self.features[a:b]] if b > a else []
        failed = [(i, reason) for i, reason in self.failed if lo <= i < hi]
        if result is not None:
            where.append(rest[result.ok])
            if len(result.ok):
                images.append(result.images)
                features.append(result.features.reshape(len(result.ok), -1))
            failed += [(int(rest[i]), reason) for i, reason in result.failed.items()]
        where = np.concatenate(where)
        if not len(where):
            return where, np.zeros((0, *self.image_shape), np.uint8), None, sorted(failed)
        order = np.argsort(where, kind="stable")
        return where[order], np.concatenate(images)[order], np.concatenate(features)[order], sorted(failed)


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

