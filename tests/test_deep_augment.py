"""Numpy augmentations used by the contrastive and IIC models."""
import numpy as np

from pipeline.deep.augment import AugmentConfig, augment
from pipeline.io.demo import render_signs


def _images():
    return render_signs(2, seed=1, size=32)[0]


def test_augment_keeps_shape_dtype_and_changes_pixels():
    x = _images()
    out = augment(x, np.random.default_rng(0))
    assert out.shape == x.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - x).mean() > 5


def test_augment_is_deterministic_given_the_generator_seed():
    x = _images()
    a = augment(x, np.random.default_rng(3))
    b = augment(x, np.random.default_rng(3))
    c = augment(x, np.random.default_rng(4))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_identity_config_returns_the_image():
    x = _images()
    cfg = AugmentConfig(crop_scale=1.0, crop_ratio=1.0, rotation=0.0, perspective=0.0, brightness=0.0,
                        contrast=0.0, saturation=0.0, hue=0.0, color_prob=0.0, grayscale_prob=0.0, blur_prob=0.0)
    out = augment(x, np.random.default_rng(0), cfg)
    assert np.abs(out.astype(int) - x).max() <= 1


def test_no_horizontal_flip_by_default():
    # A left/right split image must keep its bright half on the left under mild geometry.
    x = np.zeros((64, 32, 32, 3), np.uint8)
    x[:, :, :16] = 255
    cfg = AugmentConfig(crop_scale=0.9, rotation=5.0, perspective=0.0, color_prob=0.0, grayscale_prob=0.0,
                        blur_prob=0.0)
    out = augment(x, np.random.default_rng(0), cfg).astype(float)
    assert (out[:, :, :12].mean(axis=(1, 2, 3)) > out[:, :, 20:].mean(axis=(1, 2, 3))).all()
    flipped = augment(x, np.random.default_rng(0), AugmentConfig(hflip=True, color_prob=0.0, blur_prob=0.0,
                                                                 grayscale_prob=0.0)).astype(float)
    assert (flipped[:, :, :12].mean(axis=(1, 2, 3)) < flipped[:, :, 20:].mean(axis=(1, 2, 3))).any()
