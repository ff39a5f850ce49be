"""The k-nearest-neighbour graph label spreading runs on (built once per feature set)."""
from __future__ import annotations

from typing import Optional

import numpy as np

from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report


def knn_graph(
    features: np.ndarray,
    n_neighbors: int = 10,
    *,
    chunk: int = 1024,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
):
    """Symmetric, normalised affinity ``S = D^-1/2 W D^-1/2`` (scipy CSR) of the k-NN graph.

    Exact neighbours by blocked matrix products (features are L2-normalised by the
    pipeline, so the dot product ranks like the distance); weights ``exp(-d^2 / sigma^2)``
    with ``sigma`` the median neighbour distance.
    """
    from scipy import sparse

    x = np.ascontiguousarray(features, dtype=np.float32)
    n = len(x)
    k = int(min(n_neighbors, max(1, n - 1)))
    sq = (x * x).sum(1)
    nbr = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, chunk):
        check_cancel(cancel)
        stop = min(n, start + chunk)
        d2 = sq[start:stop, None] - 2.0 * (x[start:stop] @ x.T) + sq[None, :]
        d2[np.arange(stop - start), np.arange(start, stop)] = np.inf
        part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        pd = np.take_along_axis(d2, part, 1)
        nbr[start:stop] = part
        dist[start:stop] = np.maximum(pd, 0.0)
        report(progress, "neighbours", stop, n)
    sigma2 = float(np.median(dist)) or 1.0
    w = np.exp(-dist / sigma2).astype(np.float32)
    rows = np.repeat(np.arange(n), k)
    mat = sparse.csr_matrix((w.ravel(), (rows, nbr.ravel())), shape=(n, n))
    mat = mat.maximum(mat.T).tocsr()
    deg = np.asarray(mat.sum(1)).ravel()
    inv = 1.0 / np.sqrt(np.maximum(deg, 1e-12))
    return sparse.diags(inv) @ mat @ sparse.diags(inv)
