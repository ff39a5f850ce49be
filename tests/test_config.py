"""Pipeline configs: presets, validation, JSON and TOML round trips."""
import json

import numpy as np

import pytest

from pipeline.config import DEFAULT_PRESET, PRESETS, PipelineConfig, get_preset
from pipeline.clustering.registry import available_methods
from pipeline.features.registry import available_extractors


def test_presets_are_valid_and_complete():
    assert DEFAULT_PRESET in PRESETS
    assert {"pixels-kmeans", "pca-ward", "hog-pca-hierarchical", "best"} <= set(PRESETS)
    for name, cfg in PRESETS.items():
        cfg.validate()
        assert cfg.name == name and cfg.description
        assert cfg.method in available_methods()
        assert all(spec["name"] in available_extractors() for spec in cfg.features)


def test_get_preset_returns_a_copy():
    cfg = get_preset("best")
    cfg.k = 7
    assert PRESETS["best"].k == 43
    with pytest.raises(ValueError, match="unknown preset"):
        get_preset("nope")


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_save_load_round_trip(tmp_path, suffix):
    cfg = get_preset("best").with_k(k_range=(30, 60))
    cfg.pca = None if suffix == ".toml" else cfg.pca  # TOML has no null: written as 0
    path = tmp_path / f"cfg{suffix}"
    cfg.save(path)
    assert PipelineConfig.load(path) == cfg


def test_with_k_and_validation():
    cfg = get_preset("best")
    assert cfg.with_k(k_range=(5, 9)).k is None
    assert cfg.with_k(k=12).k_range is None
    with pytest.raises(ValueError, match="unknown pipeline config keys"):
        PipelineConfig.from_dict({"bogus": 1})
    with pytest.raises(ValueError, match="k_range"):
        PipelineConfig.from_dict({"k_range": [9, 3]})
    with pytest.raises(ValueError, match="at least one feature"):
        PipelineConfig.from_dict({"features": []})
    assert json.loads(json.dumps(cfg.to_dict()))["name"] == "best"


def test_labeling_mode_takes_k_as_the_class_count_and_resolves_it_per_run():
    from pipeline.clustering.overcluster import overcluster_k
    from pipeline.clustering.requirements import fit_to_images

    cfg = PipelineConfig.from_dict(dict(get_preset("best").to_dict(), labeling_mode=True, k=43))
    assert PipelineConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    run = fit_to_images(cfg, 39209)  # what a run on 39,209 images uses (and records)
    assert (run.k, run.labeling_mode) == (overcluster_k(39209, 43), False) == (980, False)
    assert fit_to_images(cfg, 200).k == 172 and fit_to_images(cfg, 100).k == 100  # never more than the images
    assert fit_to_images(get_preset("best"), 39209).k == 43  # without it, k is k
    with pytest.raises(ValueError, match="labeling_mode"):
        PipelineConfig.from_dict(dict(get_preset("best").to_dict(), labeling_mode=True, k=None, k_range=[5, 9]))
    with pytest.raises(ValueError, match="labeling_mode"):
        PipelineConfig.from_dict(dict(get_preset("best").to_dict(), labeling_mode="yes"))


def test_a_labeling_mode_run_makes_many_small_clusters():
    from sklearn.datasets import load_digits

    from pipeline.clustering.overcluster import overcluster_k
    from pipeline.core.items import ImageItem, ImageSet
    from pipeline.run import run_pipeline

    digits = load_digits()
    images = np.repeat((digits.images[:600, :, :, None] * 15).astype(np.uint8), 3, axis=3)
    image_set = ImageSet([ImageItem(f"d{i}.png", str(t)) for i, t in enumerate(digits.target[:600])], images)
    config = PipelineConfig(features=[{"name": "pixels", "params": {"size": 8}}], crop_roi=False, pca=20,
                            method="agglomerative", method_params={"linkage": "ward", "n_neighbors": 10},
                            k=10, labeling_mode=True)
    result = run_pipeline(config, image_set, cache_dir=False)
    k = overcluster_k(600, 10)
    assert result.config.k == k == 40 and not result.config.labeling_mode
    assert len(np.unique(result.clusters.labels)) == k
    # smaller clusters are purer than one per class
    plain = run_pipeline(PipelineConfig(**dict(config.to_dict(), labeling_mode=False)), image_set, cache_dir=False)
    assert result.metrics["purity"] > plain.metrics["purity"]
