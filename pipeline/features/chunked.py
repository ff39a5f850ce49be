"""One chunk of a streaming run: decode a list of files and compute their features.

:func:`run_chunk` is a module-level function over a picklable :class:`ChunkTask`, so any
engine (:mod:`pipeline.engine`: a local process pool, a Dask cluster) can run it on its
workers. Only stateless extractors (:class:`~pipeline.features.base.BatchFeatureExtractor`:
they learn nothing from the whole set) can run chunk by chunk; :func:`check_streamable`
says which cannot.

A task without a ``projection`` returns the raw features (the driver fits the PCA on a
sample of chunks); a task with one returns the reduced features, so the raw ones never
travel or touch the disk (5,292 floats an image for ``best``: 21 GB at a million images).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np

from pipeline.features.base import BatchFeatureExtractor
from pipeline.features.registry import make_extractor


@dataclass(frozen=True)
class Projection:
    """A fitted reduction as plain arrays: ``(x * scales - mean) @ matrix``, then L2 if ``l2``.

    ``scales`` (one per feature column; ``None`` = 1) carries the per-block weights of
    several extractors; ``matrix`` holds the PCA components, divided by the singular
    values' scale when whitening. ``mean``/``matrix`` ``None``: no PCA.
    """

    mean: Optional[np.ndarray]
    matrix: Optional[np.ndarray]
    l2: bool = True
    scales: Optional[np.ndarray] = None

    def apply(self, raw: np.ndarray) -> np.ndarray:
        out = np.asarray(raw, dtype=np.float32)
        if self.scales is not None:
            out = out * self.scales[None, :]
        if self.matrix is not None:
            out = (out - self.mean[None, :]) @ self.matrix
        if self.l2:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out = out / np.maximum(norms, 1e-12)
        return np.ascontiguousarray(out, dtype=np.float32)


@dataclass(frozen=True)
class ChunkTask:
    """Files ``(path, roi)`` to decode at ``size`` (w, h) and extract with ``features``
    (a config's extractor specs); ``projection`` reduces the result in the worker."""

    files: Sequence[tuple[str, Optional[tuple]]]
    size: tuple[int, int]
    features: Sequence[dict[str, Any]]
    projection: Optional[Projection] = None
    number: int = 0


@dataclass
class ChunkResult:
    """``images`` (uint8 ``(n_ok, h, w, 3)``), ``features`` (float32 ``(n_ok, d)``, raw
    blocks concatenated, or reduced when ``reduced``), ``ok`` (positions within the task's
    files that decoded) and ``failed`` (position -> reason)."""

    images: np.ndarray
    features: np.ndarray
    ok: np.ndarray
    failed: dict[int, str] = field(default_factory=dict)
    reduced: bool = False
    block_dims: tuple[int, ...] = ()
    number: int = 0


def check_streamable(specs: Sequence[dict[str, Any]]) -> None:
    """``ValueError`` naming the first extractor that must see the whole set at once."""
    for spec in specs:
        extractor = make_extractor(spec["name"], **spec.get("params", {}))
        if not isinstance(extractor, BatchFeatureExtractor):
            raise ValueError(
                f"feature extractor {spec['name']!r} learns from the whole image set, so it cannot run "
                "chunk by chunk; use streaming=False (in memory) or a stateless extractor such as hog"
            )


def extract_blocks(images: np.ndarray, specs: Sequence[dict[str, Any]]) -> list[np.ndarray]:
    """Each stateless extractor's float32 block for ``images``, on one thread (the engine runs
    chunks side by side, one per core)."""
    blocks = []
    for spec in specs:
        extractor = make_extractor(spec["name"], **spec.get("params", {}))
        if isinstance(extractor, BatchFeatureExtractor):
            extractor.threads = 1
        blocks.append(np.asarray(extractor.fit_transform(images), dtype=np.float32))
    return blocks


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Decode the task's files and compute their features (the function engines run)."""
    from pipeline.io.loader import decode_chunk

    indices, images, failed = decode_chunk([(i, p, r) for i, (p, r) in enumerate(task.files)], tuple(task.size))
    if len(indices) == 0:
        dims = 0 if task.projection is None else _projected_dims(task.projection)
        return ChunkResult(images, np.zeros((0, dims), np.float32), indices, failed, task.projection is not None, (), task.number)
    blocks = extract_blocks(images, task.features)
    raw = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)
    dims = tuple(b.shape[1] for b in blocks)
    if task.projection is None:
        return ChunkResult(images, raw, indices, failed, False, dims, task.number)
    return ChunkResult(images, task.projection.apply(raw), indices, failed, True, dims, task.number)


def _projected_dims(projection: Projection) -> int:
    if projection.matrix is not None:
        return int(projection.matrix.shape[1])
    return 0 if projection.scales is None else int(len(projection.scales))
