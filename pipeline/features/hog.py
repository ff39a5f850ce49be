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
        pick = mag.argmax(axis=-1)[..., None]
        gx = np.take_along_axis(gx, pick, -1)
        gy = np.take_along_axis(gy, pick, -1)
        mag = np.take_along_axis(mag, pick, -1)
    n, h, w, c = mag.shape
    span = 2 * np.pi if signed else np.pi
    ang = np.arctan2(gy, gx) % span
    pos = ang / span * bins - 0.5
    lo = np.floor(pos).astype(np.int64)
    frac = (pos - lo).astype(np.float32)
    lo %= bins
    hi = (lo + 1) % bins
    hist = np.zeros((n, h, w, c, bins), np.float32)
    np.put_along_axis(hist, lo[..., None], (mag * (1 - frac))[..., None], -1)
    hist_hi = np.zeros_like(hist)
    np.put_along_axis(hist_hi, hi[..., None], (mag * frac)[..., None], -1)
    hist += hist_hi
    cy, cx = h // cell, w // cell
    hist = hist[:, : cy * cell, : cx * cell]
    cells = hist.reshape(n, cy, cell, cx, cell, c, bins).sum(axis=(2, 4))  # (n, cy, cx, c, bins)
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
