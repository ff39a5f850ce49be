"""A 2-D layout of every image for the window's embedding map, and its cache in the project folder.

:func:`compute_layout` maps the pipeline's reduced features to two dimensions with
openTSNE's t-SNE (an optional dependency: ``pip install cluster-review[map]``) or, when
openTSNE is missing or asked for, with PCA. :func:`cached_layout` keeps the result in the
project folder under a name that carries a hash of the features, the method and the seed,
so a reopened project loads it instantly and a re-run pipeline computes a fresh one.
Headless: no Qt.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

import numpy as np

from pipeline.core.atomic import atomic_save_npy
from pipeline.core.progress import Cancelled, CancelToken, ProgressCallback, check_cancel, report

METHODS = ("tsne", "pca")
STAGE = "embedding map"
#: Bump when the layout computation changes, so old cache files are not reused.
LAYOUT_VERSION = 1
CACHE_PREFIX = "map-layout-"
#: Fewer images than this are laid out by PCA (t-SNE needs a neighbourhood per point).
MIN_TSNE_POINTS = 8
_TSNE_ITERATIONS = (250, 500)  # early exaggeration, then the normal phase (openTSNE's defaults)


def tsne_available() -> bool:
    """Whether openTSNE is installed."""
    try:
        import openTSNE  # noqa: F401
    except ImportError:
        return False
    return True


def default_method() -> str:
    return "tsne" if tsne_available() else "pca"


def _normalise(layout: np.ndarray) -> np.ndarray:
    """Centre the layout and scale it into [-1, 1] (the view's range does not depend on the method)."""
    layout = np.asarray(layout, dtype=np.float64)
    if not len(layout):
        return np.zeros((0, 2), dtype=np.float32)
    layout = layout - layout.mean(axis=0, keepdims=True)
    scale = float(np.abs(layout).max()) if layout.size else 0.0
    return (layout / scale if scale > 0 else layout).astype(np.float32)


def _pca_layout(x: np.ndarray, random_state: int) -> np.ndarray:
    if len(x) < 2 or x.shape[1] < 1:
        return np.zeros((len(x), 2), dtype=np.float32)
    from sklearn.decomposition import PCA

    n_comp = min(2, x.shape[1], len(x))
    out = PCA(n_components=n_comp, random_state=random_state).fit_transform(x)
    if n_comp < 2:
        out = np.column_stack([out, np.zeros(len(x))])
    return out


def _tsne_layout(x: np.ndarray, random_state: int, progress: Optional[ProgressCallback],
                 cancel: Optional[CancelToken], n_jobs: int) -> np.ndarray:
    from openTSNE import TSNE

    total = sum(_TSNE_ITERATIONS)
    phase = {"offset": 0}

    def callback(iteration: int, error: float, embedding) -> bool:
        check_cancel(cancel)  # raises Cancelled out of openTSNE's optimiser
        done = phase["offset"] + iteration
        report(progress, STAGE, done, total, f"t-SNE iteration {done} of {total}")
        if iteration >= _TSNE_ITERATIONS[0]:
            phase["offset"] = _TSNE_ITERATIONS[0]
        return False

    perplexity = float(min(30.0, max(2.0, (len(x) - 1) / 3.0)))
    tsne = TSNE(n_components=2, perplexity=perplexity, early_exaggeration_iter=_TSNE_ITERATIONS[0],
                n_iter=_TSNE_ITERATIONS[1], initialization="pca", random_state=random_state, n_jobs=n_jobs,
                callbacks=callback, callbacks_every_iters=25, verbose=False)
    report(progress, STAGE, 0, total, "finding each image's neighbours")
    return np.asarray(tsne.fit(x))


def compute_layout(features, *, method: str = "tsne", progress: Optional[ProgressCallback] = None,
                   cancel: Optional[CancelToken] = None, random_state: int = 0, n_jobs: int = 1) -> np.ndarray:
    """An ``(n, 2)`` float32 layout of ``features`` (rows are images), scaled into [-1, 1].

    ``method`` is ``"tsne"`` (openTSNE; falls back to PCA when it is not installed or
    there are fewer than :data:`MIN_TSNE_POINTS` images) or ``"pca"``. The same
    ``random_state`` gives the same layout. Raises :class:`Cancelled` when ``cancel`` is set.
    """
    if method not in METHODS:
        raise ValueError(f"unknown map method {method!r}; choose one of {', '.join(METHODS)}")
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"features must be one row per image (got an array of shape {x.shape})")
    if not np.all(np.isfinite(x)):
        raise ValueError("features contain NaN or infinite values")
    check_cancel(cancel)
    if method == "tsne" and tsne_available() and len(x) >= MIN_TSNE_POINTS:
        layout = _tsne_layout(x, random_state, progress, cancel, n_jobs)
    else:
        report(progress, STAGE, 0, 1, "projecting on the first two principal components")
        layout = _pca_layout(x, random_state)
    check_cancel(cancel)
    report(progress, STAGE, 1, 1, "map ready")
    return _normalise(layout)


# -- cache -------------------------------------------------------------------------------------
def layout_key(features, method: str, random_state: int) -> str:
    """A short hash of the features' shape and bytes, the method and the seed."""
    x = np.ascontiguousarray(np.asarray(features, dtype=np.float32))
    h = hashlib.sha1(f"v{LAYOUT_VERSION}|{method}|{random_state}|{x.shape}".encode())
    h.update(memoryview(x).cast("B"))
    return h.hexdigest()[:20]


def layout_path(project_dir, features, method: str, random_state: int = 0) -> Path:
    return Path(project_dir) / f"{CACHE_PREFIX}{method}-{layout_key(features, method, random_state)}.npy"


def effective_method(method: str, n_images: int) -> str:
    """The method :func:`compute_layout` really uses for ``n_images`` images."""
    return "tsne" if method == "tsne" and tsne_available() and n_images >= MIN_TSNE_POINTS else "pca"


def load_cached_layout(project_dir, features, method: str = "tsne", random_state: int = 0) -> Optional[np.ndarray]:
    """The cached layout for exactly these features, or ``None`` (missing or unreadable file)."""
    path = layout_path(project_dir, features, effective_method(method, len(features)), random_state)
    if not path.is_file():
        return None
    try:
        layout = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if layout.shape != (len(features), 2) or not np.all(np.isfinite(layout)):
        return None
    return layout.astype(np.float32, copy=False)


def cached_layout(project_dir, features, *, method: str = "tsne", progress: Optional[ProgressCallback] = None,
                  cancel: Optional[CancelToken] = None, random_state: int = 0, n_jobs: int = 1) -> np.ndarray:
    """:func:`load_cached_layout`, else :func:`compute_layout` and store it (atomically) for next time.

    Layouts of earlier features (another pipeline run) are removed when a new one is stored.
    """
    found = load_cached_layout(project_dir, features, method, random_state)
    if found is not None:
        report(progress, STAGE, 1, 1, "map loaded from the project folder")
        return found
    used = effective_method(method, len(features))
    layout = compute_layout(features, method=used, progress=progress, cancel=cancel, random_state=random_state,
                            n_jobs=n_jobs)
    folder = Path(project_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = layout_path(folder, features, used, random_state)
    atomic_save_npy(path, layout)
    for old in folder.glob(f"{CACHE_PREFIX}*.npy"):
        if old != path:
            try:
                old.unlink()
            except OSError:
                pass
    return layout


__all__ = ["Cancelled", "METHODS", "cached_layout", "compute_layout", "default_method", "effective_method",
           "layout_key", "layout_path", "load_cached_layout", "tsne_available"]
