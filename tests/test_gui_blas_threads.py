"""The window's process runs BLAS on one thread per call (gui/blas_threads.py)."""
import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")

import gui.blas_threads as blas_threads  # noqa: E402


@pytest.fixture
def one_thread():
    assert blas_threads.one_blas_thread()
    yield
    blas_threads._LIMIT.restore_original_limits()  # the rest of the suite keeps its threads
    blas_threads._LIMIT = None


def test_numpy_and_scipy_blas_are_limited(one_thread):
    blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    assert blas and all(i["num_threads"] == 1 for i in blas)
    assert blas_threads.one_blas_thread()  # a second call keeps the same limit

