"""Per-image photometric normalisation applied before feature extraction.

Extractors take a ``contrast`` keyword naming one of :data:`CONTRAST_MODES`:

* ``"none"``: the image as decoded.
* ``"stretch"``: each image's luminance 1st..99th percentiles are mapped to 0..255 (all
  channels by the same linear map, so hues stay), which lifts near-black photos.
* ``"local"``: local contrast normalisation: each pixel minus the mean of its
  neighbourhood (a Gaussian of ``sigma`` = 1/8 of the image side), divided by the local
  standard deviation, mapped back to uint8. Shadows and uneven light across a frame are
  removed, not only a global gain.
"""
from __future__ import annotations

import numpy as np

CONTRAST_MODES = ("none", "stretch", "local")
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def check_contrast_mode(mode: str) -> str:
    if mode not in CONTRAST_MODES:
        raise ValueError(f"contrast must be one of {', '.join(CONTRAST_MODES)}, got {mode!r}")
    return mode


def percentile_stretch(images: np.ndarray, low: float = 1.0, high: float = 99.0) -> np.ndarray:
    """Map each image's luminance ``low``..``high`` percentiles to 0..255 (``uint8`` in and out)."""
    x = images.astype(np.float32)
    luma = (x @ _LUMA).reshape(len(x), -1)
    lo = np.percentile(luma, low, axis=1)[:, None, None, None]
    hi = np.percentile(luma, high, axis=1)[:, None, None, None]
    scale = 255.0 / np.maximum(hi - lo, 8.0)  # flat images are not blown up into noise
    return np.clip((x - lo) * scale, 0, 255).astype(np.uint8)


def _gaussian_blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of ``(N, H, W, C)`` floats over H and W (edges reflected)."""
    radius = max(1, int(round(3 * sigma)))
    t = np.arange(-radius, radius + 1, dtype=np.float32)
    kernel = np.exp(-0.5 * (t / sigma) ** 2)
    kernel /= kernel.sum()
    for axis in (1, 2):
        pad = [(0, 0)] * x.ndim
        pad[axis] = (radius, radius)
        p = np.pad(x, pad, mode="reflect")
        size = x.shape[axis]
        out = np.zeros_like(x)
        for j, w in enumerate(kernel):
            out += w * np.take(p, np.arange(j, j + size), axis=axis)
        x = out
    return x


def local_normalize(images: np.ndarray, sigma_fraction: float = 0.125) -> np.ndarray:
    """Local contrast normalisation (see the module docstring); ``uint8`` in and out."""
    x = images.astype(np.float32) / 255.0
    sigma = max(1.0, sigma_fraction * min(images.shape[1], images.shape[2]))
    luma = (x @ _LUMA)[..., None]
    mean = _gaussian_blur(luma, sigma)
    var = _gaussian_blur((luma - mean) ** 2, sigma)
    # a floor on the local spread keeps flat regions flat instead of amplifying noise
    std = np.sqrt(np.maximum(var, 0.0)) + 0.05
    y = (x - mean) / std
    return np.clip(y * 48.0 + 128.0, 0, 255).astype(np.uint8)


def normalize_contrast(images: np.ndarray, mode: str = "none") -> np.ndarray:
    """``images`` (``uint8 (N, H, W, 3)``) normalised by ``mode`` (one of :data:`CONTRAST_MODES`)."""
    check_contrast_mode(mode)
    if mode == "none" or len(images) == 0:
        return images
    if mode == "stretch":
        return percentile_stretch(images)
    return local_normalize(images)
