"""One BLAS thread in the window's process, so the UI thread never waits behind a background job's BLAS call.

OpenBLAS with a thread pool serves one caller at a time: while the model thread multiplies a
million-row matrix (the suggestion refit's k-NN graph), a 2,000 x 64 product on the UI thread
(the cluster statistics after a merge) waits for it to finish, seconds instead of a millisecond.
With one thread per call, each caller runs its own product at once. The pipeline runs in a child
process (started fresh, it keeps the default threads), so only the window's own work is affected:
its background jobs use one core for BLAS, the UI thread keeps the other.
"""
from __future__ import annotations

_LIMIT = None  # the threadpoolctl limiter, kept alive for the life of the process


def one_blas_thread() -> bool:
    """Limit numpy's and scipy's BLAS (loading them) to one thread; False where threadpoolctl is missing."""
    global _LIMIT
    if _LIMIT is not None:
        return True
    try:
        import numpy  # noqa: F401  (numpy and scipy each load their own OpenBLAS; both must be
        import scipy.linalg  # noqa: F401  loaded for the limit to reach them)
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    _LIMIT = threadpool_limits(limits=1, user_api="blas")
    return True


__all__ = ["one_blas_thread"]
