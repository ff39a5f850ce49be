"""Domain guard: the feature set that separates a sample best is used, and the run says so."""
import json

import numpy as np
import pytest
from PIL import Image

from pipeline.config import PipelineConfig
from pipeline.core.items import ImageItem, ImageSet
from pipeline.features.guard import GuardedFeatures, separability
from pipeline.features.registry import make_extractor

CANDIDATES = [
    {"name": "hog", "params": {"color": "channels"}},
    {"name": "color_hist", "params": {"grid": 2}},
    {"name": "pixels", "params": {"size": 16}},
]


def _photo_tiles(per_class=60, seed=0):
    """Crops of four regions of scikit-learn's sample photos (colour/texture classes)."""
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(seed)
    images, labels = [], []
    for p, photo in enumerate(load_sample_images().images):
        h, w = photo.shape[:2]
        for c in range(2):
            x0, x1 = c * w // 2, (c + 1) * w // 2
            for _ in range(per_class):
                side = int(rng.integers(40, 90))
                y, x = int(rng.integers(0, h - side)), int(rng.integers(x0, x1 - side))
                tile = photo[y : y + side, x : x + side].astype(np.float32) * rng.uniform(0.6, 1.2)
                images.append(np.asarray(Image.fromarray(np.clip(tile, 0, 255).astype(np.uint8)).resize((32, 32))))
                labels.append(f"{p}{c}")
    return np.stack(images), labels


def _digits(n=400):
    from sklearn.datasets import load_digits

    d = load_digits()
    gray = (d.images[:n] * 255 / 16).astype(np.uint8)
    big = np.stack([np.asarray(Image.fromarray(g).resize((32, 32), Image.BILINEAR)) for g in gray])
    return np.repeat(big[..., None], 3, -1), [str(t) for t in d.target[:n]]


def test_guard_leaves_gradients_on_photos_and_keeps_them_on_digits():
    photos, _ = _photo_tiles()
    guard = GuardedFeatures(candidates=CANDIDATES, k=8, sample=400).fit(photos)
    assert guard.chosen_[0]["name"] != "hog", guard.note_
    assert set(guard.scores_) == {"hog(color=channels)", "color_hist(grid=2)", "pixels(size=16)"}

    digits, _ = _digits()
    guard = GuardedFeatures(candidates=CANDIDATES, k=10, sample=400).fit(digits)
    assert guard.chosen_[0]["name"] == "hog", guard.note_
    assert guard.transform(digits[:5]).shape == make_extractor("hog", color="channels").fit_transform(digits[:5]).shape


def test_a_tie_combines_the_two_best():
    digits, _ = _digits(200)
    guard = GuardedFeatures(candidates=CANDIDATES[:2], k=10, sample=200, tie=10.0).fit(digits)
    assert len(guard.chosen_) == 2
    feats = guard.transform(digits[:4])
    hog = make_extractor("hog", color="channels").fit_transform(digits[:4])
    hist = make_extractor("color_hist", grid=2).fit_transform(digits[:4])
    assert feats.shape == (4, hog.shape[1] + hist.shape[1])


def test_separability_prefers_real_clusters_to_noise():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1, (5, 20))
    blobs = np.concatenate([c + 0.1 * rng.normal(0, 1, (60, 20)) for c in centres])
    noise = rng.normal(0, 1, (300, 20))
    assert separability(blobs, 5)["score"] > separability(noise, 5)["score"] + 0.5


def test_bad_candidates_are_refused_in_words():
    with pytest.raises(ValueError, match="candidates must be a list of feature specs"):
        GuardedFeatures(candidates=["hog"]).fit(np.zeros((4, 8, 8, 3), np.uint8))


def test_the_run_summary_and_metrics_say_what_the_guard_chose(tmp_path):
    from pipeline.outputs import write_run
    from pipeline.run import run_pipeline

    photos, labels = _photo_tiles(per_class=30)
    image_set = ImageSet([ImageItem(f"p{i}.png", lab) for i, lab in enumerate(labels)], photos)
    config = PipelineConfig(features=[{"name": "guarded", "params": {"candidates": CANDIDATES, "sample": 120}}],
                            crop_roi=False, k=4, pca=20)
    result = run_pipeline(config, image_set, cache_dir=False)
    assert len(result.notes) == 1 and result.notes[0].startswith("domain guard:")
    assert "using " in result.notes[0]
    write_run(result, tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text())["notes"] == result.notes


def test_a_close_score_keeps_the_first_candidate():
    digits, _ = _digits(300)
    swapped = [CANDIDATES[1], CANDIDATES[0]]  # colour histograms first: the default here
    guard = GuardedFeatures(candidates=swapped, k=10, sample=300, margin=10.0).fit(digits)
    assert guard.chosen_[0]["name"] == "color_hist"
    guard = GuardedFeatures(candidates=swapped, k=10, sample=300, margin=0.0).fit(digits)
    assert guard.chosen_[0]["name"] == "hog", guard.note_


def test_keeping_the_first_candidate_does_not_combine_it_with_a_close_second():
    digits, _ = _digits(300)
    swapped = [CANDIDATES[1], CANDIDATES[0]]
    guard = GuardedFeatures(candidates=swapped, k=10, sample=300, margin=10.0).fit(digits)
    assert [c["name"] for c in guard.chosen_] == ["color_hist"]
