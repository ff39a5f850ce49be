"""Simple hand-made features: raw pixels and colour histograms."""
from __future__ import annotations

from typing import Optional

import numpy as np
from PIL import Image

from pipeline.features.base import BatchFeatureExtractor
from pipeline.features.contrast import check_contrast_mode, normalize_contrast
from pipeline.features.registry import register


def _resize_batch(images: np.ndarray, size: int) -> np.ndarray:
    if images.shape[1] == size and images.shape[2] == size:
        return images
    return np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR)) for im in images])


@register("pixels")
class PixelFeatures(BatchFeatureExtractor):
    """Raw pixels scaled to [0, 1], optionally resized and converted to gray.

    ``normalize=True`` removes each image's mean and divides by its standard deviation,
    which cancels global lighting changes. ``contrast``: per-image normalisation first
    (see :mod:`pipeline.features.contrast`).
    """

    def __init__(self, size: Optional[int] = None, gray: bool = False, normalize: bool = False,
                 contrast: str = "none"):
        self.size = size
        self.gray = gray
        self.normalize = normalize
        self.contrast = contrast

    def fit(self, images, y=None, *, progress=None, cancel=None) -> "PixelFeatures":
        check_contrast_mode(self.contrast)
        return self

    def transform_batch(self, batch: np.ndarray) -> np.ndarray:
        batch = normalize_contrast(batch, self.contrast)
        if self.size:
            batch = _resize_batch(batch, int(self.size))
        x = batch.astype(np.float32) / 255.0
        if self.gray:
            x = x @ np.array([0.299, 0.587, 0.114], np.float32)
        x = x.reshape(len(x), -1)
        if self.normalize:
            x = (x - x.mean(1, keepdims=True)) / (x.std(1, keepdims=True) + 1e-3)
        return x


def rgb_to_hsv(x: np.ndarray) -> np.ndarray:
    """Vectorised RGB -> HSV for float arrays in [0, 1] with a trailing channel axis."""
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    mx = x.max(-1)
    mn = x.min(-1)
    delta = mx - mn
    safe = np.where(delta == 0, 1.0, delta)
    h = np.where(mx == r, (g - b) / safe % 6, np.where(mx == g, (b - r) / safe + 2, (r - g) / safe + 4))
    h = np.where(delta == 0, 0.0, h / 6.0)
    s = np.where(mx == 0, 0.0, delta / np.where(mx == 0, 1.0, mx))
    return np.stack([h, s, mx], -1).astype(np.float32)


@register("color_hist")
class ColorHistogram(BatchFeatureExtractor):
    """Joint HSV histogram per image (``bins`` = hue, saturation, value bins).

    Optionally computed on a ``grid x grid`` layout of image regions so coarse colour
    layout (red ring around white disc) is kept. Histograms are L1-normalised and
    square-rooted (Hellinger), which makes Euclidean distances meaningful.
    """

    def __init__(self, bins: tuple[int, int, int] | list[int] = (8, 3, 3), grid: int = 1):
        self.bins = bins
        self.grid = grid

    def transform_batch(self, batch: np.ndarray) -> np.ndarray:
        hb, sb, vb = self.bins
        grid = int(self.grid)
        nbins = hb * sb * vb
        hsv = rgb_to_hsv(batch.astype(np.float32) / 255.0)
        n, h, w, _ = hsv.shape
        idx = (
            np.minimum((hsv[..., 0] * hb).astype(int), hb - 1) * sb * vb
            + np.minimum((hsv[..., 1] * sb).astype(int), sb - 1) * vb
            + np.minimum((hsv[..., 2] * vb).astype(int), vb - 1)
        )
        cy = (np.arange(h) * grid // h)[:, None]
        cx = (np.arange(w) * grid // w)[None, :]
        region = (cy * grid + cx)[None]
        flat = (np.arange(n)[:, None, None] * grid * grid + region) * nbins + idx
        hist = np.bincount(flat.ravel(), minlength=n * grid * grid * nbins).astype(np.float32)
        hist = hist.reshape(n, grid * grid, nbins)
        hist /= np.maximum(hist.sum(-1, keepdims=True), 1)
        return np.sqrt(hist).reshape(n, -1)
