"""Histogram of oriented gradients, vectorised over whole image batches.

A per-image loop over ``skimage.feature.hog`` costs ~1 ms per 32 px image in Python
overhead; computing gradients, orientation binning and block normalisation with numpy
on batches of a few thousand images is an order of magnitude faster on the same CPU.
"""
from __future__ import annotations

import numpy as np

from pipeline.features.base import BatchFeatureExtractor
from pipeline.features.contrast import check_contrast_mode, normalize_contrast
from pipeline.features.registry import register


def _gradients(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference gradients of ``(N, H, W, C)`` float images (edges replicated)."""
    gx = np.empty_like(img)
    gy = np.empty_like(img)
    gx[:, :, 1:-1] = img[:, :, 2:] - img[:, :, :-2]
    gx[:, :, 0] = img[:, :, 1] - img[:, :, 0]
    gx[:, :, -1] = img[:, :, -1] - img[:, :, -2]
    gy[:, 1:-1] = img[:, 2:] - img[:, :-2]
    gy[:, 0] = img[:, 1] - img[:, 0]
    gy[:, -1] = img[:, -1] - img[:, -2]
    return gx, gy


def _strongest_channel(gx, gy, mag):
    """Per pixel the gradient of the channel with the largest magnitude (the first on ties), as ``(N, H, W, 1)``."""
    m0, m1, m2 = mag[..., 0], mag[..., 1], mag[..., 2]
    use0 = (m0 >= m1) & (m0 >= m2)
    use1 = ~use0 & (m1 >= m2)

    def pick(a):
        return np.where(use0, a[..., 0], np.where(use1, a[..., 1], a[..., 2]))[..., None]

    return pick(gx), pick(gy), pick(mag)


def _cell_histograms(mag, frac, lo, hi, cell: int, bins: int) -> np.ndarray:
    """Each cell's orientation histogram per channel: votes split between bins ``lo`` and ``hi``,
    summed with one ``bincount`` per bin side (no dense per-pixel histogram)."""
    n, h, w, c = mag.shape
    cy, cx = h // cell, w // cell
    yi = (np.arange(h) // cell)[None, :, None, None]
    xi = (np.arange(w) // cell)[None, None, :, None]
    ni = np.arange(n)[:, None, None, None]
    ci = np.arange(c)[None, None, None, :]
    base = (((ni * cy + yi) * cx + xi) * c + ci) * bins
    size = n * cy * cx * c * bins
    cells = np.bincount((base + lo).ravel(), (mag * (1 - frac)).ravel(), size)
    cells += np.bincount((base + hi).ravel(), (mag * frac).ravel(), size)
    return cells.astype(np.float32).reshape(n, cy, cx, c, bins)


def hog_batch(
    images: np.ndarray,
    *,
    cell: int = 4,
    block: int = 2,
    bins: int = 9,
    signed: bool = False,
    color: str = "max",
) -> np.ndarray:
    """HOG descriptors for a ``uint8 (N, H, W, 3)`` batch.

    ``color``: ``"gray"`` (luminance), ``"max"`` (per pixel the channel with the
    strongest gradient, as Dalal & Triggs) or ``"channels"`` (one HOG per RGB channel,
    concatenated). Orientation votes are split linearly between the two nearest bins;
    blocks of ``block x block`` cells (stride one cell) are L2-Hys normalised.
    """
    x = images.astype(np.float32) / 255.0
    if color == "gray":
        x = (x @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    elif color not in ("max", "channels"):
        raise ValueError(f"unknown HOG color mode {color!r}")
    gx, gy = _gradients(x)
    mag = np.hypot(gx, gy)
    if color == "max":
        gx, gy, mag = _strongest_channel(gx, gy, mag)
    n, h, w, c = mag.shape
    cy, cx = h // cell, w // cell
    keep = (slice(None), slice(0, cy * cell), slice(0, cx * cell))
    gx, gy, mag = gx[keep], gy[keep], mag[keep]
    span = 2 * np.pi if signed else np.pi
    ang = np.arctan2(gy, gx)
    ang = np.where(ang < 0, ang + np.float32(span), ang)  # [0, span]; span itself lands in the last bin's wrap
    pos = ang * np.float32(bins / span) - np.float32(0.5)
    lo = np.floor(pos)
    frac = pos - lo
    lo = lo.astype(np.int64) % bins
    hi = (lo + 1) % bins
    cells = _cell_histograms(mag, frac, lo, hi, cell, bins)  # (n, cy, cx, c, bins)
    by, bx = cy - block + 1, cx - block + 1
    blocks = np.stack(
        [cells[:, i : i + by, j : j + bx] for i in range(block) for j in range(block)], axis=3
    )  # (n, by, bx, block*block, c, bins)
    blocks = np.moveaxis(blocks, 4, 3).reshape(n, by, bx, c, -1)
    eps = 1e-6
    blocks = blocks / np.sqrt((blocks**2).sum(-1, keepdims=True) + eps)
    np.minimum(blocks, 0.2, out=blocks)
    blocks = blocks / np.sqrt((blocks**2).sum(-1, keepdims=True) + eps)
    return blocks.reshape(n, -1).astype(np.float32)


@register("hog")
class HogFeatures(BatchFeatureExtractor):
    """HOG on the working-size image (see :func:`hog_batch` for the parameters).

    ``contrast``: per-image normalisation first (see :mod:`pipeline.features.contrast`).
    """

    def __init__(self, cell: int = 4, block: int = 2, bins: int = 9, signed: bool = False, color: str = "max",
                 contrast: str = "none"):
        self.cell = cell
        self.block = block
        self.bins = bins
        self.signed = signed
        self.color = color
        self.contrast = contrast

    def fit(self, images, y=None, *, progress=None, cancel=None) -> "HogFeatures":
        check_contrast_mode(self.contrast)
        return self

    def transform_batch(self, images: np.ndarray) -> np.ndarray:
        params = self.get_params()
        images = normalize_contrast(images, params.pop("contrast"))
        return hog_batch(images, **params)
