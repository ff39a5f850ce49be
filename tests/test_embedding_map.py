"""The embedding map's layout (shape, determinism, cache, cancel) and More like this (nearest_images)."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline import embedding_map as em
from pipeline.core.progress import Cancelled, CancelToken
from pipeline.reduction import Reducer
from pipeline.similar import nearest_images, similarities


@pytest.fixture(scope="module")
def digits():
    """Reduced (whitened PCA + L2) features of 600 sklearn digits and their classes."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = d.data[:600].astype(np.float32), d.target[:600]
    return Reducer(pca=20, whiten=True).fit_transform(x).astype(np.float32), y


def _knn_class_agreement(layout: np.ndarray, y: np.ndarray, k: int = 5) -> float:
    d = ((layout[:, None, :] - layout[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nn = np.argsort(d, axis=1)[:, :k]
    return float((y[nn] == y[:, None]).mean())


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_layout_shape_range_and_determinism(digits, method):
    if method == "tsne":
        pytest.importorskip("openTSNE")
    x, y = digits
    a = em.compute_layout(x, method=method, random_state=3)
    b = em.compute_layout(x, method=method, random_state=3)
    assert a.shape == (len(x), 2) and a.dtype == np.float32
    assert np.all(np.isfinite(a)) and np.abs(a).max() == pytest.approx(1.0)
    np.testing.assert_array_equal(a, b)
    if method == "tsne":  # t-SNE keeps classes together: most 2-D neighbours share the class
        assert _knn_class_agreement(a, y) > 0.85
        assert not np.array_equal(a, em.compute_layout(x, method=method, random_state=4))


def test_tsne_reports_progress_and_cancel_stops_it(digits):
    pytest.importorskip("openTSNE")
    x, _ = digits
    seen = []
    token = CancelToken()

    def progress(p):
        seen.append(p)
        if p.done >= 100:
            token.cancel()

    with pytest.raises(Cancelled):
        em.compute_layout(x, method="tsne", progress=progress, cancel=token)
    assert seen and all(p.stage == em.STAGE for p in seen)
    assert max(p.done for p in seen) < 200  # stopped soon after the cancel, not at the end (750)


def test_cancelled_before_start_and_bad_input():
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        em.compute_layout(np.zeros((20, 3)), method="pca", cancel=token)
    with pytest.raises(ValueError, match="one row per image"):
        em.compute_layout(np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        em.compute_layout(np.full((10, 2), np.nan))
    with pytest.raises(ValueError, match="unknown map method"):
        em.compute_layout(np.zeros((10, 2)), method="umap")


def test_tiny_sets_fall_back_to_pca():
    assert em.compute_layout(np.zeros((0, 4))).shape == (0, 2)
    one = em.compute_layout(np.ones((1, 4)))
    assert one.shape == (1, 2) and np.all(one == 0)
    three = em.compute_layout(np.eye(3, 5), method="tsne")
    assert three.shape == (3, 2) and em.effective_method("tsne", 3) == "pca"


def test_cache_hit_miss_and_replacement(tmp_path, digits, monkeypatch):
    x, _ = digits
    x = x[:200]
    first = em.cached_layout(tmp_path, x, method="pca", random_state=0)
    files = list(tmp_path.glob("map-layout-*.npy"))
    assert len(files) == 1 and not list(tmp_path.glob(".*tmp"))
    calls = []
    real = em.compute_layout
    monkeypatch.setattr(em, "compute_layout", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    messages = []
    again = em.cached_layout(tmp_path, x, method="pca", random_state=0, progress=lambda p: messages.append(p.message))
    assert calls == [] and "loaded" in messages[-1]
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(em.load_cached_layout(tmp_path, x, "pca", 0), first)
    # Other features (a re-run pipeline) miss the cache; the old file is replaced.
    assert em.load_cached_layout(tmp_path, x[:150], "pca", 0) is None
    em.cached_layout(tmp_path, x[:150], method="pca", random_state=0)
    assert calls == [1]
    assert len(list(tmp_path.glob("map-layout-*.npy"))) == 1
    # A damaged cache file is ignored (recomputed), never a crash.
    path = em.layout_path(tmp_path, x[:150], "pca", 0)
    path.write_bytes(b"not an npy file")
    assert em.load_cached_layout(tmp_path, x[:150], "pca", 0) is None


def test_layout_key_depends_on_values_method_and_seed(digits):
    x, _ = digits
    k = em.layout_key(x, "pca", 0)
    y = x.copy()
    y[0, 0] += 1e-3
    assert k == em.layout_key(x.copy(), "pca", 0)
    assert len({k, em.layout_key(y, "pca", 0), em.layout_key(x, "tsne", 0), em.layout_key(x, "pca", 1)}) == 4


def test_nearest_images_are_mostly_the_same_digit(digits):
    x, y = digits
    agree = []
    for i in range(0, len(x), 20):
        nn = nearest_images(x, i, 10)
        assert len(nn) == 10 and i not in nn
        sims = similarities(x, i)[nn]
        assert np.all(np.diff(sims) <= 1e-6)  # most similar first
        agree.append(np.mean(y[nn] == y[i]))
    assert np.mean(agree) > 0.85


def test_nearest_images_exclude_and_edge_cases():
    x = np.array([[1, 0], [0.9, 0.1], [0.5, 0.5], [0, 1], [0, 0]], dtype=np.float32)
    assert nearest_images(x, 0, 2).tolist() == [1, 2]
    assert nearest_images(x, 0, 2, exclude=[1]).tolist() == [2, 3]
    assert nearest_images(x, 0, 10, exclude=[1, 2, 3, 99]).tolist() == [4]  # zero row: similarity 0
    assert nearest_images(x, 0, 0).tolist() == []
    with pytest.raises(ValueError, match="does not exist"):
        nearest_images(x, 5, 3)


def test_without_opentsne_tsne_falls_back_to_pca(digits, monkeypatch, tmp_path):
    x, _ = digits
    monkeypatch.setattr(em, "tsne_available", lambda: False)
    assert em.default_method() == "pca" and em.effective_method("tsne", len(x)) == "pca"
    np.testing.assert_array_equal(em.compute_layout(x, method="tsne"), em.compute_layout(x, method="pca"))
    em.cached_layout(tmp_path, x, method="tsne")
    assert [p.name.split("-")[2] for p in tmp_path.glob("map-layout-*.npy")] == ["pca"]
