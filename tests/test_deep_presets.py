"""deep-fast / deep-best presets are valid pipeline configs naming registered components."""
import pytest

import pipeline.deep.extractors  # noqa: F401
import pipeline.deep.heads  # noqa: F401
from pipeline.clustering import available_methods
from pipeline.config import PipelineConfig
from pipeline.deep import DEEP_PRESETS
from pipeline.features import available_extractors


@pytest.mark.parametrize("name", ["deep-fast", "deep-best"])
def test_preset_is_a_valid_config(name):
    config = PipelineConfig.from_dict(DEEP_PRESETS[name])
    assert config.name == name and config.k == 43 and config.image_size == 32
    assert all(f["name"] in available_extractors() for f in config.features)
    assert config.method in available_methods()
