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


def _prior_config(icons_from, pca=None):
    from dataclasses import replace

    base = {"name": "hog_multicrop", "params": {"pool": "mean", "crops": [1.0, 0.8]}}
    return replace(get_preset("prior-multicrop-ward"), pca=pca, features=[{"name": "pictogram_prior", "params": {
        "base": base, "icons_from": icons_from, "dims": 40, "n_per_class": 12, "weight": 2.0}}])


@pytest.fixture(scope="module")
def prior_run(demo, tmp_path_factory):
    """A pictogram_prior run's reduced features on the demo signs, icons from a taxonomy CSV."""
    from PIL import Image

    _, _, _, truth, ids = demo
    folder = tmp_path_factory.mktemp("icons")
    rows = ["id,name,icon"]
    for c in ids:
        Image.fromarray(pictogram(c)).save(folder / f"icon_{c}.png")
        rows.append(f"{c},class {c},icon_{c}.png")
    (folder / "classes.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    rng = np.random.default_rng(7)
    images = np.stack([render_sign(c, rng, 32) for c in ids for _ in range(12)])
    cfg = _prior_config(str(folder / "classes.csv"))
    feats = Reducer(pca=None, l2=True).fit_transform(extract_features(cfg, images)).astype(np.float32)
    return cfg, feats, truth, ids, folder


def test_a_prior_run_suggests_from_its_own_icon_scores(prior_run):
    """The clustering's icon-classifier columns give the suggestions, without rendering again."""
    from pipeline.features.pictogram_prior import from_feature_scores

    cfg, feats, truth, ids, _ = prior_run
    s = from_feature_scores(feats, cfg)
    assert s is not None and s.classes == ids
    assert s.proba.shape == (len(truth), len(ids)) and np.allclose(s.proba.sum(1), 1.0, atol=1e-4)
    assert np.array_equal(s.top, feats[:, 40:].argmax(1))  # the extractor's own ranking, class for class
    assert np.allclose(s.confidence, s.proba.max(1))
    pred = np.asarray(s.classes, dtype=object)[s.top]
    assert (pred == truth).mean() > 3 / len(ids)
    # the base block's length and the weight are undone: the extractor's centred scores have mean row norm 1
    base_len = np.linalg.norm(feats[:, :40], axis=1, keepdims=True)
    assert np.linalg.norm(feats[:, 40:] / (base_len * 2.0), axis=1).mean() == pytest.approx(1.0, rel=1e-3)
    # sharper at a higher temperature, same ranking
    hot = from_feature_scores(feats, cfg, temperature=16.0)
    assert np.array_equal(hot.top, s.top) and hot.confidence.mean() > s.confidence.mean()


def test_no_feature_prior_without_the_extractor_or_its_columns(prior_run, demo):
    from pipeline.features.pictogram_prior import from_feature_scores

    cfg, feats, _, _, folder = prior_run
    assert from_feature_scores(demo[2], get_preset("best")) is None  # no pictogram_prior extractor
    assert from_feature_scores(feats, _prior_config(cfg.features[0]["params"]["icons_from"], pca=20)) is None
    assert from_feature_scores(feats[:, :40], cfg) is None  # the prior was off: no score columns
    assert from_feature_scores(feats, _prior_config(None)) is None  # no icons to name the columns
    assert from_feature_scores(feats, _prior_config(str(folder / "missing.csv"))) is None


def test_the_window_job_reads_a_prior_run_without_images(prior_run):
    """The window's zero-shot job needs neither stored images nor a size limit for such a run."""
    from gui.jobs.suggest_job import zero_shot_job

    cfg, feats, truth, ids, folder = prior_run
    sugg, source = zero_shot_job(cfg.to_dict(), None, feats, None, str(folder))(None, None)
    assert source == "pictograms the clustering learnt" and sugg.classes == ids
    assert np.mean(np.asarray(ids, dtype=object)[sugg.top] == truth) > 3 / len(ids)


def test_a_prior_run_on_fewer_images_than_components_is_read_too(demo, prior_run):
    """Fewer images than the extractor's ``dims``: its PCA keeps one component per image."""
    from pipeline.features.pictogram_prior import from_feature_scores

    cfg, _, _, ids, _ = prior_run
    rng = np.random.default_rng(3)
    images = np.stack([render_sign(c, rng, 32) for c in ids for _ in range(3)])  # 39 images, dims 40
    n = len(images)
    feats = Reducer(pca=None, l2=True).fit_transform(extract_features(cfg, images)).astype(np.float32)
    assert feats.shape[1] == min(40, n) + len(ids)
    s = from_feature_scores(feats, cfg)
    assert s is not None and np.array_equal(s.top, feats[:, -len(ids):].argmax(1))


def test_logistic_zero_shot_beats_chance_and_its_probabilities_are_the_classifiers(demo):
    from pipeline.suggest.zero_shot import icon_coef, ridge_scores

    cfg, reducer, x, truth, ids = demo
    zs = ZeroShot(cfg, reducer, n_per_class=20, scorer="logistic", ridge=0.5, seed=1).fit({c: None for c in ids})
    s = zs.suggest(x)
    assert (np.asarray(s.classes, dtype=object)[s.top] == truth).mean() > 3 / len(ids)
    logits = ridge_scores(x.astype(np.float32), zs.coef_)  # temperature 1: softmax of the logits
    p = np.exp(logits - logits.max(1, keepdims=True))
    assert np.allclose(s.proba, p / p.sum(1, keepdims=True), atol=1e-4)
    with pytest.raises(ValueError, match="unknown icon classifier 'svm'"):
        icon_coef(x[:4], np.arange(4), 4, "svm", 1.0)
    with pytest.raises(ValueError, match="4 classes but samples of only 2"):
        icon_coef(x[:4], np.array([0, 0, 1, 1]), 4, "logistic", 1.0)
