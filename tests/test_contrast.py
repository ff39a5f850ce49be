"""Per-image contrast normalisation and multi-crop HOG: what they change and what they keep."""
import numpy as np
import pytest

from pipeline.features.contrast import local_normalize, normalize_contrast, percentile_stretch
from pipeline.features.multicrop import centre_crop_resize
from pipeline.features.registry import make_extractor


def _ramp(n=3, size=32, gain=1.0):
    x = np.linspace(0, 255, size, dtype=np.float32)
    img = np.broadcast_to(x[None, :, None], (size, size, 3)) * gain
    return np.repeat(img[None], n, 0).astype(np.uint8)


def test_stretch_lifts_a_dark_image_to_the_full_range():
    dark = _ramp(gain=0.15)  # values 0..38
    out = percentile_stretch(dark)
    assert dark.max() < 40
    assert out.min() == 0 and out.max() == 255
    # one linear map per image: a dark and a bright copy of the same scene come out alike
    bright = _ramp(gain=0.9)
    assert np.abs(percentile_stretch(bright).astype(int) - out.astype(int)).mean() < 6


def test_stretch_leaves_a_flat_image_flat():
    flat = np.full((2, 16, 16, 3), 100, np.uint8)
    out = percentile_stretch(flat)
    assert out.std() == 0


def test_local_normalisation_removes_a_lighting_gradient():
    rng = np.random.default_rng(0)
    texture = rng.integers(60, 120, (1, 32, 32, 3)).astype(np.float32)
    shade = np.linspace(0.2, 1.0, 32, dtype=np.float32)[None, None, :, None]
    shaded = (texture * shade).astype(np.uint8)
    out = local_normalize(shaded).astype(np.float32)
    # left and right halves differ 3x in brightness before, much less after
    before = shaded[..., 16:, :].mean() / shaded[..., :16, :].mean()
    after = out[..., 16:, :].mean() / out[..., :16, :].mean()
    assert before > 2.0
    assert abs(after - 1.0) < 0.15


def test_unknown_mode_is_refused_in_words():
    with pytest.raises(ValueError, match="contrast must be one of none, stretch, local"):
        normalize_contrast(_ramp(), "clahe")
    with pytest.raises(ValueError, match="contrast must be one of"):
        make_extractor("hog", contrast="bogus").fit(_ramp())


@pytest.mark.parametrize("name", ["hog", "pixels", "hog_multicrop"])
@pytest.mark.parametrize("mode", ["none", "stretch", "local"])
def test_extractors_take_a_contrast_keyword(name, mode):
    images = _ramp(n=4, gain=0.3)
    feats = make_extractor(name, contrast=mode).fit_transform(images)
    assert feats.shape[0] == 4 and feats.dtype == np.float32 and np.isfinite(feats).all()
    assert make_extractor(name, contrast=mode).get_params()["contrast"] == mode


def test_stretch_makes_pixels_features_brightness_invariant():
    dark, bright = _ramp(1, gain=0.2), _ramp(1, gain=1.0)
    plain = make_extractor("pixels")
    stretched = make_extractor("pixels", contrast="stretch")
    gap_plain = np.abs(plain.fit_transform(dark) - plain.fit_transform(bright)).mean()
    gap_stretched = np.abs(stretched.fit_transform(dark) - stretched.fit_transform(bright)).mean()
    assert gap_stretched < gap_plain / 5


def test_centre_crop_resize_zooms_on_the_centre():
    img = np.zeros((1, 32, 32, 3), np.uint8)
    img[:, 8:24, 8:24] = 255  # a centred square covering half the side
    assert centre_crop_resize(img, 1.0) is img
    zoomed = centre_crop_resize(img, 0.5)
    assert zoomed.shape == img.shape
    assert zoomed[:, 2:30, 2:30].min() == 255  # the square now fills the frame


def test_multicrop_is_more_tolerant_to_a_margin_than_one_hog():
    """A sign-like blob framed tightly and with a 15% margin: the mean-pooled crops of the
    framed copy are closer to the tight copy than the plain HOG is."""
    from pipeline.io.demo import render_sign

    rng = np.random.default_rng(1)
    tight = render_sign("14", rng, size=40)[None, 4:36, 4:36]
    framed = np.asarray(
        __import__("PIL.Image", fromlist=["Image"]).fromarray(render_sign("14", np.random.default_rng(1), size=48))
        .resize((32, 32))
    )[None]

    def gap(extractor):
        a, b = extractor.fit_transform(tight), extractor.fit_transform(framed)
        a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
        return float(np.linalg.norm(a - b))

    pooled = make_extractor("hog_multicrop", pool="mean", crops=[1.0, 0.9, 0.8, 0.7, 0.6])
    assert gap(pooled) < gap(make_extractor("hog", color="channels"))


def test_multicrop_shapes_and_bad_settings():
    images = _ramp(n=2)
    concat = make_extractor("hog_multicrop", crops=[1.0, 0.8], pool="concat").fit_transform(images)
    mean = make_extractor("hog_multicrop", crops=[1.0, 0.8], pool="mean").fit_transform(images)
    assert concat.shape[1] == 2 * mean.shape[1]
    with pytest.raises(ValueError, match="pool must be one of"):
        make_extractor("hog_multicrop", pool="max").fit(images)
    with pytest.raises(ValueError, match="crops must be side fractions"):
        make_extractor("hog_multicrop", crops=[1.5]).fit(images)
