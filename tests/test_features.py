"""Feature extractors: shapes, invariances, registry, progress and cancel."""
import numpy as np
import pytest

from pipeline.features.registry import available_extractors, make_extractor
from pipeline.features.hog import hog_batch
from pipeline.features.simple import rgb_to_hsv
from pipeline.core.progress import CancelToken, Cancelled


def _images(n=6, size=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_registry_lists_builtin_extractors():
    names = available_extractors()
    assert {"pixels", "hog", "color_hist"} <= set(names)
    with pytest.raises(ValueError, match="unknown feature extractor"):
        make_extractor("nope")


@pytest.mark.parametrize("color,channels", [("gray", 1), ("max", 1), ("channels", 3)])
def test_hog_shape_and_block_normalisation(color, channels):
    feats = hog_batch(_images(), cell=4, block=2, bins=9, color=color)
    # 32 px / 4 = 8 cells; 7 x 7 blocks of 2x2 cells x 9 bins
    assert feats.shape == (6, 7 * 7 * channels * 4 * 9)
    blocks = feats.reshape(6, 7, 7, channels, 36)
    norms = np.linalg.norm(blocks, axis=-1)
    assert np.all(norms <= 1.0 + 1e-4)
    assert np.all(blocks <= 0.2 / 0.2 + 1e-6)


def test_hog_matches_a_vertical_edge():
    img = np.zeros((1, 16, 16, 3), np.uint8)
    img[:, :, 8:] = 255  # a vertical edge: horizontal gradient, orientation 0
    feats = hog_batch(img, cell=4, block=1, bins=9, color="gray").reshape(4, 4, 9)
    edge_cells = feats[:, 1:3]  # the columns of cells touching x=8
    assert np.all(edge_cells.argmax(-1)[edge_cells.max(-1) > 0] == 0)
    assert feats[:, 0].max() == 0  # flat region: no gradient


def test_hog_is_invariant_to_brightness_scaling():
    img = (_images(2).astype(np.float32) * 0.5).astype(np.uint8)
    brighter = (img.astype(np.float32) * 1.8).clip(0, 255).astype(np.uint8)
    a, b = hog_batch(img), hog_batch(brighter)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.95


def test_pixels_and_color_hist():
    imgs = _images(4, size=24)
    px = make_extractor("pixels", size=12, gray=True).transform(imgs)
    assert px.shape == (4, 144) and px.dtype == np.float32 and px.max() <= 1.0
    norm = make_extractor("pixels", normalize=True).transform(imgs)
    assert np.allclose(norm.mean(1), 0, atol=1e-4)
    hist = make_extractor("color_hist", bins=(6, 2, 2), grid=2).transform(imgs)
    assert hist.shape == (4, 4 * 24)
    # each region histogram sums to one before the square root
    assert np.allclose((hist.reshape(4, 4, 24) ** 2).sum(-1), 1.0, atol=1e-5)


def test_rgb_to_hsv_matches_colorsys():
    import colorsys

    rng = np.random.default_rng(1)
    rgb = rng.random((50, 3)).astype(np.float32)
    ours = rgb_to_hsv(rgb)
    ref = np.array([colorsys.rgb_to_hsv(*px) for px in rgb])
    assert np.allclose(ours, ref, atol=1e-5)


def test_progress_and_cancel():
    seen = []
    ext = make_extractor("hog")
    ext.transform(_images(3), progress=seen.append)
    assert seen and seen[-1].done == seen[-1].total == 3
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        ext.transform(_images(3), cancel=token)
