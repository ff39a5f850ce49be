"""get_preset hands out copies the caller may edit."""
from pipeline.config import PRESETS, get_preset


def test_editing_a_presets_feature_params_leaves_the_preset_alone():
    before = PRESETS["prior-multicrop-ward"].to_dict()
    config = get_preset("prior-multicrop-ward")
    config.features[0]["params"]["icons_from"] = "drawn"
    config.features.append({"name": "pixels", "params": {}})
    config.method_params["n_neighbors"] = 3
    assert PRESETS["prior-multicrop-ward"].to_dict() == before
    assert get_preset("prior-multicrop-ward").features[0]["params"]["icons_from"] is None
