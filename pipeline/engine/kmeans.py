"""k-means over partitions on an engine: the micro-cluster stage of large runs.

Lloyd's algorithm split the map-reduce way: the driver seeds the centres with k-means++
on a sample, then every iteration sends the centres to one task per partition of the
rows; a task returns per-centre sums and counts, its inertia, its labels and its few
farthest rows (to re-seed centres left empty); the driver adds them up and moves the
centres. The features stay where they are: a memory-mapped file is opened by path on
the workers when they share this machine's files (``engine.shares_files``, true for the
local engines), otherwise partitions are scattered to the workers once
(``engine.scatter``) and only the centres travel each iteration.

:func:`engine_micro_clusterer` gives the streaming pipeline's ``micro_clusterer`` hook.
"""
from __future__ import annotations

import mmap
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report

STAGE = "micro-clusters: k-means"
#: Rows each task owns (65,536 rows of 100 float32 dims are 26 MB).
ROWS_PER_TASK = 65536
#: Rows per block inside a task, so the distance matrix stays small.
_BLOCK = 4096
#: Farthest rows each task proposes for re-seeding empty centres.
_FAR = 8


@dataclass(frozen=True)
class MemmapRows:
    """Rows ``[start, stop)`` of a C-ordered 2-D array stored raw in ``filename`` at ``offset``."""

    filename: str
    offset: int
    dtype: str
    n_cols: int
    start: int
    stop: int

    def load(self) -> np.ndarray:
        itemsize = np.dtype(self.dtype).itemsize
        return np.memmap(self.filename, dtype=self.dtype, mode="r", shape=(self.stop - self.start, self.n_cols),
                         offset=self.offset + self.start * self.n_cols * itemsize)


def memmap_location(x: np.ndarray) -> Optional[tuple[str, int]]:
    """``(filename, byte offset)`` of a C-contiguous array that is (a view into) an
    ``np.memmap``; ``None`` for arrays held in memory."""
    if not isinstance(x, np.memmap) or not x.flags.c_contiguous or getattr(x, "filename", None) is None:
        return None
    root = x
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not isinstance(root, np.memmap) or not isinstance(root.base, mmap.mmap):
        return None
    delta = x.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return str(x.filename), int(root.offset) + int(delta)


def _rows_of(part: Any) -> np.ndarray:
    return part.load() if isinstance(part, MemmapRows) else np.asarray(part)


def partition_step(task: tuple[Any, np.ndarray]) -> dict[str, Any]:
    """One E-step over one partition: ``task = (rows, centres)`` -> sums (k x d, float64),
    counts, inertia, labels (int32) and the farthest rows with their squared distances."""
    part, centres = task
    rows = _rows_of(part)
    k, d = centres.shape
    centres32 = np.ascontiguousarray(centres, dtype=np.float32)
    c_sq = np.einsum("ij,ij->i", centres32, centres32)
    sums = np.zeros((k, d), dtype=np.float64)
    counts = np.zeros(k, dtype=np.int64)
    labels = np.empty(len(rows), dtype=np.int32)
    dist = np.empty(len(rows), dtype=np.float32)
    for s in range(0, len(rows), _BLOCK):
        block = np.ascontiguousarray(rows[s:s + _BLOCK], dtype=np.float32)
        d2 = block @ centres32.T
        d2 *= -2.0
        d2 += c_sq
        nearest = np.argmin(d2, axis=1)
        best = d2[np.arange(len(block)), nearest] + np.einsum("ij,ij->i", block, block)
        labels[s:s + len(block)] = nearest
        dist[s:s + len(block)] = np.maximum(best, 0.0)
        order = np.argsort(nearest, kind="stable")  # rows grouped by centre, summed group by group
        grouped = nearest[order]
        starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
        sums[grouped[starts]] += np.add.reduceat(block[order].astype(np.float64), starts, axis=0)
        counts += np.bincount(nearest, minlength=k)
    far = np.argsort(dist)[::-1][:_FAR]
    return {"sums": sums, "counts": counts, "inertia": float(dist.sum(dtype=np.float64)), "labels": labels,
            "far_rows": np.asarray(rows[np.sort(far)], dtype=np.float32), "far_dist": dist[np.sort(far)]}


class EngineKMeans:
    """k-means (Lloyd) whose E-steps run as engine tasks over row partitions.

    Parameters follow scikit-learn's ``KMeans``: ``n_clusters``, ``max_iter``, ``tol``
    (relative to the mean feature variance), ``seed``; ``init_size`` rows are sampled for
    k-means++ on the driver (default ``max(3 * n_clusters, 4096)``, like MiniBatchKMeans).
    ``engine``: any :class:`pipeline.engine.base.Engine` (``None``: in this process).
    Fitted: ``cluster_centers_``, ``labels_``, ``inertia_``, ``n_iter_``.
    """

    def __init__(self, n_clusters: int = 8, *, engine=None, max_iter: int = 20, tol: float = 1e-4, seed: int = 0,
                 init_size: Optional[int] = None, rows_per_task: int = ROWS_PER_TASK) -> None:
        self.n_clusters = n_clusters
        self.engine = engine
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed
        self.init_size = init_size
        self.rows_per_task = rows_per_task

    def fit(self, X: np.ndarray, *, progress: Optional[ProgressCallback] = None,
            cancel: Optional[CancelToken] = None) -> "EngineKMeans":
        from pipeline.engine.base import LocalEngine

        n, k = len(X), int(self.n_clusters)
        if X.ndim != 2 or n == 0:
            raise ValueError(f"k-means needs a non-empty 2-D array, got shape {X.shape}")
        if not 1 <= k <= n:
            raise ValueError(f"k-means needs 1 <= n_clusters <= {n} rows, got {k}")
        engine = self.engine if self.engine is not None else LocalEngine()
        rng = np.random.default_rng(self.seed)
        report(progress, STAGE, 0, self.max_iter, "seeding (k-means++ on a sample)")
        centres, tol = self._seed(X, k, rng)
        parts = self._partitions(X, engine)
        labels = None
        self.n_iter_ = 0
        for it in range(1, self.max_iter + 1):
            check_cancel(cancel)
            stats = list(engine.map_ordered(partition_step, [(p, centres) for p in parts], stage=STAGE, cancel=cancel))
            new_labels = np.concatenate([s["labels"] for s in stats])
            inertia = sum(s["inertia"] for s in stats)
            new_centres = self._update(centres, stats)
            shift = float(((new_centres - centres) ** 2).sum())
            stable = labels is not None and np.array_equal(labels, new_labels)
            labels, centres, self.n_iter_ = new_labels, new_centres, it
            report(progress, STAGE, it, self.max_iter, f"inertia {inertia:.4g}", inertia=inertia)
            if stable or shift <= tol:
                break
        if not stable:  # labels from the last E-step lag the last M-step: assign once more
            stats = list(engine.map_ordered(partition_step, [(p, centres) for p in parts], stage=STAGE, cancel=cancel))
            labels = np.concatenate([s["labels"] for s in stats])
            inertia = sum(s["inertia"] for s in stats)
        report(progress, STAGE, self.max_iter, self.max_iter, f"{self.n_iter_} iterations")
        self.cluster_centers_ = centres.astype(np.float32)
        self.labels_ = labels.astype(np.int32)
        self.inertia_ = float(inertia)
        return self

    def fit_predict(self, X: np.ndarray, **kwargs) -> np.ndarray:
        return self.fit(X, **kwargs).labels_

    # ------------------------------------------------------------------ steps

    def _seed(self, X: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        """k-means++ centres from a sample, and the absolute tolerance (tol x mean variance)."""
        from sklearn.cluster import kmeans_plusplus

        n = len(X)
        size = min(n, max(int(self.init_size or 0), 3 * k, 4096))
        idx = np.sort(rng.choice(n, size=size, replace=False)) if size < n else np.arange(n)
        sample = np.asarray(X[idx], dtype=np.float64)
        centres, _ = kmeans_plusplus(sample, k, random_state=int(rng.integers(2**31 - 1)))
        return centres, float(self.tol * np.var(sample, axis=0).mean())

    def _partitions(self, X: np.ndarray, engine) -> list[Any]:
        """One reference per task: file rows, scattered blocks, or in-memory slices."""
        n = len(X)
        threads = max(1, int(getattr(engine, "n_threads", 1) or 1))
        step = max(1, min(int(self.rows_per_task), -(-n // threads)))
        bounds = [(s, min(n, s + step)) for s in range(0, n, step)]
        where = memmap_location(X)
        if where is not None and getattr(engine, "shares_files", True):
            filename, offset = where
            return [MemmapRows(filename, offset, X.dtype.str, X.shape[1], s, e) for s, e in bounds]
        scatter = getattr(engine, "scatter", None)
        if scatter is not None:  # rows travel once; each iteration sends only the centres
            return [scatter(np.ascontiguousarray(X[s:e], dtype=np.float32)) for s, e in bounds]
        return [X[s:e] for s, e in bounds]

    @staticmethod
    def _update(centres: np.ndarray, stats: list[dict[str, Any]]) -> np.ndarray:
        """New centres = partition sums / counts; empty ones move to the farthest rows."""
        sums = sum(s["sums"] for s in stats)
        counts = sum(s["counts"] for s in stats)
        new = centres.copy()
        filled = counts > 0
        new[filled] = sums[filled] / counts[filled, None]
        empty = np.flatnonzero(~filled)
        if empty.size:
            far_rows = np.concatenate([s["far_rows"] for s in stats])
            far_dist = np.concatenate([s["far_dist"] for s in stats])
            order = np.argsort(far_dist)[::-1][: empty.size]
            new[empty[: order.size]] = far_rows[order]
        return new


def engine_micro_clusterer(engine=None, **params: Any) -> Callable[..., np.ndarray]:
    """The streaming pipeline's ``micro_clusterer`` hook on ``engine``:
    ``(features, n_micro, seed, progress, cancel) -> labels`` (``params``: see :class:`EngineKMeans`)."""

    def micro_clusterer(features, n_micro, seed, progress=None, cancel=None) -> np.ndarray:
        k = min(int(n_micro), len(features))
        model = EngineKMeans(k, engine=engine, seed=seed, **params)
        return model.fit_predict(features, progress=progress, cancel=cancel)

    return micro_clusterer
