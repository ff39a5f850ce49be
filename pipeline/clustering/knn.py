"""k nearest neighbours of every image: exact in chunks, or an approximate index for large sets.

Exact search costs O(N^2 d); from :data:`EXACT_LIMIT` images an HNSW graph index from
faiss-cpu (the ``[scale]`` extra) answers in O(N log N) with a recall near 1 at ``ef_search``
64. Without faiss the exact search runs whatever the size (slow, but the same answer).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report

#: From this many images ``approximate=None`` uses the faiss index when faiss is installed.
EXACT_LIMIT = 100_000
CHUNK = 4096
HNSW_LINKS = 32
EF_CONSTRUCTION = 80
EF_SEARCH = 64


def faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def knn_search(
    features: np.ndarray,
    k: int,
    *,
    approximate: Optional[bool] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(distances, indices)``, both ``(N, k)``, nearest first, each image itself left out.

    Euclidean distances (float32). ``approximate``: ``None`` = from :data:`EXACT_LIMIT`
    images when faiss is installed, ``True`` = faiss (``ImportError`` without it),
    ``False`` = exact. Exact duplicates stay neighbours; only the image's own row is dropped.
    """
    n = len(features)
    k = int(min(k, n - 1))
    if k < 1:
        raise ValueError(f"{n} images have no neighbours to find")
    if approximate is None:
        approximate = n >= EXACT_LIMIT and faiss_available()
    search = _faiss_search(features, k + 1) if approximate else _exact_search(features, k + 1)
    dist = np.empty((n, k), dtype=np.float32)
    ind = np.empty((n, k), dtype=np.int64)
    for start, d, i in search:
        check_cancel(cancel)
        report(progress, "neighbours", start, n)
        stop = start + len(d)
        own = i == np.arange(start, stop)[:, None]
        # Drop the image itself; if duplicates pushed it out of the list, drop the farthest.
        drop = np.where(own.any(axis=1), own.argmax(axis=1), k)
        keep = np.ones_like(own)
        keep[np.arange(len(own)), drop] = False
        dist[start:stop] = d[keep].reshape(-1, k)
        ind[start:stop] = i[keep].reshape(-1, k)
    report(progress, "neighbours", n, n)
    return dist, ind


def _exact_search(features, k: int):
    from sklearn.neighbors import NearestNeighbors

    x = np.asarray(features, dtype=np.float32)
    index = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(x)
    for start in range(0, len(x), CHUNK):
        d, i = index.kneighbors(x[start : start + CHUNK])
        yield start, d.astype(np.float32), i


def _faiss_search(features, k: int):
    import faiss

    dim = features.shape[1]
    index = faiss.IndexHNSWFlat(dim, HNSW_LINKS)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    for start in range(0, len(features), 65536):  # add in chunks: memory-mapped input stays on disk
        index.add(np.ascontiguousarray(features[start : start + 65536], dtype=np.float32))
    index.hnsw.efSearch = max(EF_SEARCH, k)
    for start in range(0, len(features), CHUNK):
        d2, i = index.search(np.ascontiguousarray(features[start : start + CHUNK], dtype=np.float32), k)
        yield start, np.sqrt(np.maximum(d2, 0.0)), i.astype(np.int64)


def knn_graph(features: np.ndarray, k: int, *, approximate: Optional[bool] = None, cancel=None):
    """Symmetric sparse k-NN connectivity graph (ones), as scikit-learn's ``kneighbors_graph``
    made symmetric by the element-wise maximum."""
    from scipy.sparse import csr_matrix

    _, ind = knn_search(features, k, approximate=approximate, cancel=cancel)
    n = len(features)
    rows = np.repeat(np.arange(n), ind.shape[1])
    graph = csr_matrix((np.ones(rows.size), (rows, ind.ravel())), shape=(n, n))
    graph.data[:] = 1.0  # duplicate (row, col) pairs were summed
    return graph.maximum(graph.T)
