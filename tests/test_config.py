"""Pipeline configs: presets, validation, JSON and TOML round trips."""
import json

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
