"""HOG pooled over a few centre crops: tolerance to the margin and small shifts of whole frames.

Whole photographs put the object inside a 5-15 % margin that varies from frame to frame;
a single HOG grid then compares cells that cover different parts of the object. Here
each image is cropped at a few centred fractions of its side (``crops``), each crop is
resized back to the working size (bilinear, vectorised) and described by HOG; the
descriptors are concatenated (``pool="concat"``: the clustering may weigh scales) or
averaged (``pool="mean"``: a blurred, scale-tolerant descriptor of fixed length).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from pipeline.features.base import BatchFeatureExtractor
from pipeline.features.contrast import check_contrast_mode, normalize_contrast
from pipeline.features.hog import hog_batch
from pipeline.features.registry import register

POOLS = ("concat", "mean")


def centre_crop_resize(images: np.ndarray, fraction: float) -> np.ndarray:
    """The centred ``fraction`` x ``fraction`` part of each image, resized to the input size."""
    if fraction >= 1.0:
        return images
    n, h, w, c = images.shape
    half = fraction / 2.0
    ys = (0.5 - half) * (h - 1) + np.linspace(0, fraction * (h - 1), h)
    xs = (0.5 - half) * (w - 1) + np.linspace(0, fraction * (w - 1), w)
    y0 = np.minimum(np.floor(ys).astype(int), h - 2)
    x0 = np.minimum(np.floor(xs).astype(int), w - 2)
    fy = (ys - y0).astype(np.float32)[None, :, None, None]
    fx = (xs - x0).astype(np.float32)[None, None, :, None]
    x = images.astype(np.float32)
    top = x[:, y0][:, :, x0] * (1 - fx) + x[:, y0][:, :, x0 + 1] * fx
    bottom = x[:, y0 + 1][:, :, x0] * (1 - fx) + x[:, y0 + 1][:, :, x0 + 1] * fx
    return np.clip(top * (1 - fy) + bottom * fy + 0.5, 0, 255).astype(np.uint8)


@register("hog_multicrop")
class MultiCropHog(BatchFeatureExtractor):
    """HOG of several centre crops (``crops``: side fractions in (0, 1]), concatenated or averaged.

    ``contrast``: per-image normalisation before HOG (see :mod:`pipeline.features.contrast`).
    The HOG keywords are those of :func:`pipeline.features.hog.hog_batch`.
    """

    def __init__(self, crops: Sequence[float] = (1.0, 0.85, 0.7), pool: str = "concat", cell: int = 4,
                 block: int = 2, bins: int = 9, signed: bool = False, color: str = "channels",
                 contrast: str = "none"):
        self.crops = crops
        self.pool = pool
        self.cell = cell
        self.block = block
        self.bins = bins
        self.signed = signed
        self.color = color
        self.contrast = contrast

    def fit(self, images, y=None, *, progress=None, cancel=None) -> "MultiCropHog":
        check_contrast_mode(self.contrast)
        if self.pool not in POOLS:
            raise ValueError(f"pool must be one of {', '.join(POOLS)}, got {self.pool!r}")
        if not self.crops or not all(0.2 <= float(f) <= 1.0 for f in self.crops):
            raise ValueError(f"crops must be side fractions from 0.2 to 1, got {list(self.crops)}")
        return self

    def transform_batch(self, images: np.ndarray) -> np.ndarray:
        images = normalize_contrast(images, self.contrast)
        hog = dict(cell=self.cell, block=self.block, bins=self.bins, signed=self.signed, color=self.color)
        parts = [hog_batch(centre_crop_resize(images, float(f)), **hog) for f in self.crops]
        if self.pool == "mean":
            return np.mean(parts, axis=0).astype(np.float32)
        return np.concatenate(parts, axis=1)
