"""Zero-shot suggestions from class icons on generated demo signs (no shared data)."""
import numpy as np
import pytest

from pipeline.config import get_preset
from pipeline.io.demo_signs import DEMO_CLASSES, pictogram, pictogram_classes, render_icon, render_sign
from pipeline.reduction import Reducer
from pipeline.run import extract_features
from pipeline.suggest.zero_shot import ZeroShot, load_icon, taxonomy_icons


@pytest.fixture(scope="module")
def demo():
    rng = np.random.default_rng(7)
    ids = [c for c, _ in DEMO_CLASSES]
    images = np.stack([render_sign(c, rng, 32) for c in ids for _ in range(12)])
    truth = np.repeat(ids, 12)
    cfg = get_preset("best")
    reducer = Reducer(pca=cfg.pca, whiten=cfg.whiten, l2=True).fit(extract_features(cfg, images))
    return cfg, reducer, reducer.transform(extract_features(cfg, images)), truth, ids


@pytest.mark.parametrize("kind", ["drawn", "icon"])
def test_suggestion_from_icon_beats_chance(demo, kind):
    cfg, reducer, x, truth, ids = demo
    icons = {c: (None if kind == "drawn" else pictogram(c)) for c in ids}
    s = ZeroShot(cfg, reducer, n_per_class=20, seed=1).fit(icons).suggest(x)
    pred = np.asarray(s.classes, dtype=object)[s.top]
    chance = 1.0 / len(ids)
    assert (pred == truth).mean() > 3 * chance
    assert s.proba.shape == (len(truth), len(ids)) and np.allclose(s.proba.sum(1), 1.0, atol=1e-4)
    # a cluster of one class is suggested as that class more often than by chance
    votes = [s.cluster_vote(np.flatnonzero(truth == c))[0] == c for c in ids]
    assert np.mean(votes) > 3 * chance


def test_icons_come_from_meta_folder_or_drawn_pictograms(tmp_path):
    from PIL import Image

    icons, source = taxonomy_icons(None)
    assert source == "drawn pictograms" and set(icons) == set(pictogram_classes()) and len(icons) >= 26
    meta = tmp_path / "Meta"
    meta.mkdir()
    Image.fromarray(pictogram("14")).save(meta / "14.png")
    (meta / "3.png").write_bytes(b"not a png")
    icons, source = taxonomy_icons(str(tmp_path))
    assert source == "Meta/ icons" and list(icons) == ["14"] and icons["14"].shape[2] == 4
    assert load_icon(str(meta / "3.png")) is None


def test_render_icon_makes_photo_like_images_and_refuses_bad_icons():
    rng = np.random.default_rng(0)
    icon = pictogram("17", 40)
    a, b = render_icon(icon, rng, 32), render_icon(icon, rng, 32)
    assert a.shape == (32, 32, 3) and a.dtype == np.uint8 and not np.array_equal(a, b)
    assert render_icon(icon[..., :3], rng, 24).shape == (24, 24, 3)
    with pytest.raises(ValueError, match="icon must be"):
        render_icon(np.zeros((2, 2, 3), np.uint8), rng)
    with pytest.raises(ValueError, match="no pictogram"):
        pictogram("99")
