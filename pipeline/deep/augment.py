"""Vectorised numpy augmentations for traffic-sign images (uint8 NHWC in, uint8 out).

Geometry (random resized crop, small rotation, perspective, optional horizontal flip)
is one homography per image, applied with bilinear sampling; colour jitter
(brightness, contrast, saturation, small hue shift), random grayscale and a small
Gaussian blur follow. Horizontal flip is off by default: it turns "keep left" into
"keep right" and mirrors the digits on speed limits.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

# RGB <-> YIQ, for hue rotation and grayscale.
_RGB2YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], dtype=np.float32)
_YIQ2RGB = np.linalg.inv(_RGB2YIQ).astype(np.float32)


@dataclass(frozen=True)
class AugmentConfig:
    """Strengths of each augmentation; ``0`` disables one."""

    crop_scale: float = 0.5  # smallest crop area as a fraction of the image
    crop_ratio: float = 4 / 3  # largest aspect-ratio change of the crop
    rotation: float = 15.0  # degrees, uniform in [-rotation, rotation]
    perspective: float = 0.08  # homography distortion
    hflip: bool = False
    brightness: float = 0.4
    contrast: float = 0.4
    saturation: float = 0.4
    hue: float = 0.04  # fraction of a full hue turn
    color_prob: float = 0.8
    grayscale_prob: float = 0.1
    blur_prob: float = 0.5
    blur_sigma: float = 1.0

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> "AugmentConfig":
        return replace(cls(), **(params or {}))

    @classmethod
    def weak(cls) -> "AugmentConfig":
        """Mild geometry only: used for the "original" view of IIC/self-labeling."""
        return cls(crop_scale=0.85, rotation=5.0, perspective=0.0, brightness=0.1, contrast=0.1,
                   saturation=0.1, hue=0.0, color_prob=0.5, grayscale_prob=0.0, blur_prob=0.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _homographies(n: int, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """``(n, 3, 3)`` maps from output coords in [-1, 1] to input coords in [-1, 1]."""
    area = rng.uniform(cfg.crop_scale, 1.0, n)
    log_r = np.log(cfg.crop_ratio)
    ratio = np.exp(rng.uniform(-log_r, log_r, n))
    half_w = np.minimum(1.0, np.sqrt(area * ratio))
    half_h = np.minimum(1.0, np.sqrt(area / ratio))
    cx = rng.uniform(-1, 1, n) * (1 - half_w)
    cy = rng.uniform(-1, 1, n) * (1 - half_h)
    theta = np.deg2rad(rng.uniform(-cfg.rotation, cfg.rotation, n))
    flip = np.where(rng.random(n) < 0.5, -1.0, 1.0) if cfg.hflip else np.ones(n)
    cos, sin = np.cos(theta), np.sin(theta)
    m = np.zeros((n, 3, 3))
    # translate(c) @ rotate(theta) @ scale(half_w * flip, half_h)
    m[:, 0, 0] = cos * half_w * flip
    m[:, 0, 1] = -sin * half_h
    m[:, 0, 2] = cx
    m[:, 1, 0] = sin * half_w * flip
    m[:, 1, 1] = cos * half_h
    m[:, 1, 2] = cy
    m[:, 2, 2] = 1.0
    if cfg.perspective > 0:
        p = np.tile(np.eye(3), (n, 1, 1))
        p[:, 2, :2] = rng.uniform(-cfg.perspective, cfg.perspective, (n, 2))
        m = m @ p
    return m


def _warp(images: np.ndarray, mats: np.ndarray) -> np.ndarray:
    """Bilinear sampling of float images ``(n, H, W, C)`` through ``mats``; edges clamp."""
    n, h, w, c = images.shape
    v, u = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    grid = np.stack([u.ravel(), v.ravel(), np.ones(h * w)], axis=0)  # (3, HW)
    src = mats @ grid  # (n, 3, HW)
    z = src[:, 2]
    z = np.where(np.abs(z) < 1e-6, 1e-6, z)
    x = np.clip((src[:, 0] / z + 1) * 0.5 * (w - 1), 0, w - 1)
    y = np.clip((src[:, 1] / z + 1) * 0.5 * (h - 1), 0, h - 1)
    x0 = np.minimum(np.floor(x).astype(np.int32), w - 2)
    y0 = np.minimum(np.floor(y).astype(np.int32), h - 2)
    fx = (x - x0).astype(np.float32)[..., None]
    fy = (y - y0).astype(np.float32)[..., None]
    flat = images.reshape(n, h * w, c)
    base = y0 * w + x0
    idx = np.arange(n)[:, None]
    top = flat[idx, base] * (1 - fx) + flat[idx, base + 1] * fx
    bottom = flat[idx, base + w] * (1 - fx) + flat[idx, base + w + 1] * fx
    return (top * (1 - fy) + bottom * fy).reshape(n, h, w, c)


def _color(x: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    n = len(x)
    apply = (rng.random(n) < cfg.color_prob)[:, None, None, None]
    y = x
    if cfg.brightness > 0:
        y = y * rng.uniform(1 - cfg.brightness, 1 + cfg.brightness, (n, 1, 1, 1)).astype(np.float32)
    if cfg.contrast > 0:
        mean = y.mean(axis=(1, 2, 3), keepdims=True)
        y = (y - mean) * rng.uniform(1 - cfg.contrast, 1 + cfg.contrast, (n, 1, 1, 1)).astype(np.float32) + mean
    if cfg.saturation > 0 or cfg.hue > 0:
        yiq = y @ _RGB2YIQ.T
        sat = rng.uniform(1 - cfg.saturation, 1 + cfg.saturation, n).astype(np.float32)
        ang = rng.uniform(-cfg.hue, cfg.hue, n) * 2 * np.pi
        cos, sin = (np.cos(ang) * sat).astype(np.float32), (np.sin(ang) * sat).astype(np.float32)
        i, q = yiq[..., 1].copy(), yiq[..., 2]
        yiq[..., 1] = i * cos[:, None, None] - q * sin[:, None, None]
        yiq[..., 2] = i * sin[:, None, None] + q * cos[:, None, None]
        y = yiq @ _YIQ2RGB.T
    x = np.where(apply, y, x)
    if cfg.grayscale_prob > 0:
        gray = (x @ _RGB2YIQ[0])[..., None]
        x = np.where((rng.random(n) < cfg.grayscale_prob)[:, None, None, None], gray, x)
    return x


def _blur(x: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """3-tap separable Gaussian blur with a per-image sigma in [0.1, blur_sigma]."""
    n = len(x)
    sigma = rng.uniform(0.1, max(0.1, cfg.blur_sigma), n)
    side = np.exp(-0.5 / sigma**2)
    w_side = (side / (1 + 2 * side)).astype(np.float32)
    w_side = np.where(rng.random(n) < cfg.blur_prob, w_side, 0.0).astype(np.float32)[:, None, None, None]
    for axis in (1, 2):
        pad = [(0, 0)] * 4
        pad[axis] = (1, 1)
        p = np.pad(x, pad, mode="edge")
        lo = np.take(p, np.arange(0, x.shape[axis]), axis=axis)
        hi = np.take(p, np.arange(2, x.shape[axis] + 2), axis=axis)
        x = x * (1 - 2 * w_side) + (lo + hi) * w_side
    return x


def augment(images: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig | None = None,
            chunk: int = 2048) -> np.ndarray:
    """One random augmented view of every image; ``uint8 (N, H, W, 3)`` in and out."""
    cfg = cfg or AugmentConfig()
    out = np.empty_like(images, dtype=np.uint8)
    for start in range(0, len(images), chunk):
        x = images[start : start + chunk].astype(np.float32) / 255.0
        mats = _homographies(len(x), cfg, rng)
        x = _warp(x, mats)
        x = _color(x, cfg, rng)
        if cfg.blur_prob > 0:
            x = _blur(x, cfg, rng)
        out[start : start + chunk] = np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out
