"""The pictogram prior extractor on generated demo signs (no shared data)."""
import numpy as np
import pytest
from PIL import Image

from pipeline.config import get_preset
from pipeline.features.pictogram_prior import PictogramPrior, find_icons
from pipeline.features.registry import make_extractor
from pipeline.io.demo import render_signs
from pipeline.io.demo_signs import DEMO_CLASSES, pictogram

BASE = {"name": "hog_multicrop", "params": {"pool": "mean", "crops": [1.0, 0.8]}}
IDS = [c for c, _ in DEMO_CLASSES]


@pytest.fixture(scope="module")
def signs():
    images, labels = render_signs(10, seed=3, size=32, classes=IDS)
    return images, np.asarray(labels)


def _icon_taxonomy(tmp_path, ids):
    rows = ["id,name,icon"]
    for c in ids:
        Image.fromarray(pictogram(c)).save(tmp_path / f"icon_{c}.png")
        rows.append(f"{c},class {c},icon_{c}.png")
    csv = tmp_path / "classes.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return csv


def test_prior_scores_follow_the_icons(signs, tmp_path):
    images, truth = signs
    csv = _icon_taxonomy(tmp_path, IDS)
    ext = make_extractor("pictogram_prior", base=BASE, icons_from=str(csv), dims=40, n_per_class=12, weight=2.0)
    out = ext.fit_transform(images)
    assert ext.source_ == "taxonomy icons" and ext.classes_ == IDS
    assert out.shape == (len(images), 40 + len(IDS)) and out.dtype == np.float32
    assert "pictogram prior on" in ext.note_ and f"{len(IDS)} classes" in ext.note_
    scores = out[:, 40:]
    pred = np.asarray(IDS)[scores.argmax(1)]
    assert (pred == truth).mean() > 3 / len(IDS)  # the icon classifier is far above chance
    # the score block is centred and scaled to mean row norm ``weight`` on the fitted images
    assert np.allclose(scores.mean(0), 0, atol=1e-3)
    assert np.linalg.norm(scores, axis=1).mean() == pytest.approx(2.0, rel=1e-3)
    # transform of new images uses the fitted state (same rows give the same features)
    assert np.allclose(ext.transform(images[:5]), out[:5], atol=1e-5)
    # uncentred scores (for seeding SCAN) keep the classifier's own arg-max; the class count is checked
    raw = PictogramPrior(base=BASE, icons_from=str(csv), dims=40, n_per_class=12, center=False,
                         classes=len(IDS)).fit(images)
    x = raw.reducer_.transform(raw.base_.transform(images))
    own = (np.hstack([x, np.ones((len(x), 1), np.float32)]) @ raw.coef_).argmax(1)
    assert np.array_equal(raw.transform(images)[:, 40:].argmax(1), own)
    with pytest.raises(ValueError, match=f"{len(IDS)} classes have icons .* but classes=5"):
        PictogramPrior(base=BASE, icons_from=str(csv), dims=40, n_per_class=1, classes=5).fit(images)


def test_without_icons_the_prior_is_off(signs, tmp_path):
    images, _ = signs
    ext = PictogramPrior(base=BASE, icons_from=None, dims=20).fit(images)
    out = ext.transform(images)
    assert ext.coef_ is None and out.shape == (len(images), 20)
    assert ext.note_ == "pictogram prior off: no taxonomy icons given"
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-4)  # reduced base: PCA + L2
    padded = PictogramPrior(base=BASE, icons_from=None, dims=20, classes=7).fit(images).transform(images)
    assert padded.shape == (len(images), 27) and not padded[:, 20:].any()  # a fixed layout for scan
    # a folder without Meta/ icons does not fall back to the drawn GTSRB pictograms
    ext = PictogramPrior(base=BASE, icons_from=str(tmp_path), dims=20).fit(images)
    assert ext.coef_ is None and "no Meta/ icons" in ext.note_


def test_icon_sources_and_bad_input(tmp_path, signs):
    icons, source = find_icons("drawn")
    assert source == "drawn pictograms" and all(v is None for v in icons.values()) and len(icons) >= 26
    meta = tmp_path / "Meta"
    meta.mkdir()
    Image.fromarray(pictogram("14")).save(meta / "14.png")
    for where in (tmp_path, meta):
        icons, source = find_icons(str(where))
        assert source == "Meta/ icons" and list(icons) == ["14"]
    with pytest.raises(ValueError, match="does not exist"):
        find_icons(str(tmp_path / "missing"))
    bad = tmp_path / "bad.csv"
    bad.write_text("1,a,nowhere.png\n", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot read taxonomy"):
        find_icons(str(bad))
    images, _ = signs
    with pytest.raises(ValueError, match="base must be a feature spec"):
        PictogramPrior(base={"params": {}}).fit(images)
    with pytest.raises(ValueError, match="weight must be above 0"):
        PictogramPrior(base=BASE, weight=0).fit(images)


def test_prior_preset_runs_and_says_so(tmp_path):
    from pipeline.io.demo import write_demo_folder
    from pipeline.run import run_pipeline

    folder = tmp_path / "demo"
    write_demo_folder(folder, n_per_class=8, seed=1)
    config = get_preset("prior-multicrop-ward").with_k(k=len(IDS))
    spec = config.features[0]
    spec["params"] = {**spec["params"], "icons_from": "drawn", "n_per_class": 6}
    result = run_pipeline(config, str(folder), cache_dir=False)
    assert any(n.startswith("pictogram prior on:") and "drawn pictograms" in n for n in result.notes)
    assert result.clusters.n_clusters == len(IDS) and result.metrics["acc"] > 0.3


def test_a_folder_with_meta_icons_turns_the_prior_on(tmp_path):
    from pipeline.io.demo import write_demo_folder
    from pipeline.run import run_pipeline

    folder = tmp_path / "signs"
    write_demo_folder(folder, n_per_class=6, seed=2)
    config = get_preset("prior-multicrop-ward").with_k(k=len(IDS))
    config.features[0]["params"] = {**config.features[0]["params"], "n_per_class": 4}
    plain = run_pipeline(config, str(folder), cache_dir=False)  # no Meta/: the prior stays off
    assert any(n.startswith("pictogram prior off: no Meta/ icons") for n in plain.notes)
    meta = folder / "Meta"
    meta.mkdir()
    for c in IDS:
        Image.fromarray(pictogram(c)).save(meta / f"{c}.png")
    result = run_pipeline(config, str(folder), cache_dir=False)  # run_pipeline hands the folder over
    assert any(n.startswith(f"pictogram prior on: {len(IDS)} classes from Meta/ icons") for n in result.notes)
    assert len(result.image_set) == len(IDS) * 6  # the icons are the taxonomy, not images to cluster


def test_logistic_scorer_gives_its_probabilities_back(signs, tmp_path):
    from pipeline.config import PipelineConfig
    from pipeline.features.pictogram_prior import from_feature_scores
    from pipeline.reduction import l2_normalize

    images, truth = signs
    csv = _icon_taxonomy(tmp_path, IDS)
    params = dict(base=BASE, icons_from=str(csv), dims=40, n_per_class=12, scorer="logistic", ridge=0.5,
                  logit_scale=10.0, center=False)
    ext = PictogramPrior(**params).fit(images)
    assert "logistic" in ext.note_ and ext.coef_.shape == (41, len(IDS))
    block = ext.transform(images)[:, 40:]
    assert np.allclose(block.sum(1), 0, atol=1e-4)  # logits centred per row, over logit_scale
    assert (np.asarray(IDS)[block.argmax(1)] == truth).mean() > 3 / len(IDS)
    # the run's features (L2 over both blocks) give the classifier's own probabilities back
    x = ext.reducer_.transform(ext.base_.transform(images))
    logits = np.hstack([x, np.ones((len(x), 1), np.float32)]) @ ext.coef_
    proba = np.exp(logits - logits.max(1, keepdims=True))
    proba /= proba.sum(1, keepdims=True)
    config = PipelineConfig(name="t", features=[{"name": "pictogram_prior", "params": params}], pca=None)
    sugg = from_feature_scores(l2_normalize(ext.transform(images)), config)
    assert sugg is not None and np.allclose(sugg.proba, proba, atol=1e-4)
    with pytest.raises(ValueError, match="scorer must be one of ridge, logistic"):
        PictogramPrior(base=BASE, icons_from=str(csv), scorer="svm").fit(images)
    with pytest.raises(ValueError, match="logit_scale must be above 0"):
        PictogramPrior(base=BASE, icons_from=str(csv), scorer="logistic", logit_scale=0).fit(images)


def test_fit_transform_describes_the_images_once_and_matches_fit_then_transform(signs, tmp_path, monkeypatch):
    from pipeline.features.multicrop import MultiCropHog

    images, _ = signs
    csv = _icon_taxonomy(tmp_path, IDS)
    seen = []
    own = MultiCropHog.transform_batch
    monkeypatch.setattr(MultiCropHog, "transform_batch", lambda self, batch: seen.append(len(batch)) or own(self, batch))
    for icons_from in (str(csv), None):
        seen.clear()
        ext = PictogramPrior(base=BASE, icons_from=icons_from, dims=30, n_per_class=4)
        out = ext.fit_transform(images)
        renderings = 4 * len(IDS) if icons_from else 0
        assert sum(seen) == len(images) + renderings  # the images once, then the icon renderings
        again = PictogramPrior(base=BASE, icons_from=icons_from, dims=30, n_per_class=4).fit(images).transform(images)
        assert out.shape == again.shape and np.allclose(out, again, atol=1e-5)
