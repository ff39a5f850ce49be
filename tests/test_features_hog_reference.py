"""hog_batch (cell histograms by bincount) against the plain dense-histogram formulation."""
import numpy as np
import pytest

from pipeline.features.hog import _gradients, hog_batch


def dense_reference_hog(images, *, cell=4, block=2, bins=9, signed=False, color="max"):
    """The straightforward version: a (N, H, W, C, bins) vote array summed over each cell."""
    x = images.astype(np.float32) / 255.0
    if color == "gray":
        x = (x @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    gx, gy = _gradients(x)
    mag = np.hypot(gx, gy)
    if color == "max":
        pick = mag.argmax(axis=-1)[..., None]
        gx, gy, mag = (np.take_along_axis(a, pick, -1) for a in (gx, gy, mag))
    n, h, w, c = mag.shape
    span = 2 * np.pi if signed else np.pi
    pos = (np.arctan2(gy, gx) % span) / span * bins - 0.5
    lo = np.floor(pos).astype(np.int64)
    frac = (pos - lo).astype(np.float32)
    lo %= bins
    hist = np.zeros((n, h, w, c, bins), np.float32)
    np.put_along_axis(hist, lo[..., None], (mag * (1 - frac))[..., None], -1)
    upper = np.zeros_like(hist)
    np.put_along_axis(upper, ((lo + 1) % bins)[..., None], (mag * frac)[..., None], -1)
    hist += upper
    cy, cx = h // cell, w // cell
    cells = hist[:, : cy * cell, : cx * cell].reshape(n, cy, cell, cx, cell, c, bins).sum(axis=(2, 4))
    by, bx = cy - block + 1, cx - block + 1
    blocks = np.stack([cells[:, i : i + by, j : j + bx] for i in range(block) for j in range(block)], axis=3)
    blocks = np.moveaxis(blocks, 4, 3).reshape(n, by, bx, c, -1)
    blocks = blocks / np.sqrt((blocks**2).sum(-1, keepdims=True) + 1e-6)
    np.minimum(blocks, 0.2, out=blocks)
    blocks = blocks / np.sqrt((blocks**2).sum(-1, keepdims=True) + 1e-6)
    return blocks.reshape(n, -1).astype(np.float32)


@pytest.mark.parametrize("color", ["max", "channels", "gray"])
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("size,cell,block", [(32, 4, 2), (30, 4, 2), (24, 8, 1)])
def test_matches_the_dense_formulation(color, signed, size, cell, block):
    rng = np.random.default_rng(size + cell)
    images = rng.integers(0, 256, (12, size, size, 3), dtype=np.uint8)
    images[0] = 128  # flat image: no gradient anywhere
    images[1, :, : size // 2] = 0  # a pure vertical edge: angles exactly 0 / pi
    images[1, :, size // 2 :] = 255
    ours = hog_batch(images, cell=cell, block=block, bins=9, signed=signed, color=color)
    ref = dense_reference_hog(images, cell=cell, block=block, bins=9, signed=signed, color=color)
    assert ours.shape == ref.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=2e-5)
