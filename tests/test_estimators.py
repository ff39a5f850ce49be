"""Reducer and every built-in extractor follow scikit-learn's estimator contract."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from pipeline.config import PRESETS, get_preset
from pipeline.features.registry import available_extractors, extractor_class, make_extractor
from pipeline.reduction import Reducer

#: Written out by hand: a newly registered extractor must be added here (and so get these checks).
BUILT_IN = ["ae_conv", "ae_dense", "ae_l1", "ae_multilayer", "color_hist", "guarded", "hog", "hog_multicrop",
            "model_file", "pictogram_prior", "pixels", "pretrained", "selflabel_cnn", "simclr"]
STATELESS = ["color_hist", "hog", "hog_multicrop", "pixels"]
#: A non-default value for one parameter of each, to see that clone carries it over.
CHANGED = {"ae_conv": ("epochs", 3), "ae_dense": ("code_dim", 16), "ae_l1": ("l1", 1e-4),
           "ae_multilayer": ("lr", 0.01), "color_hist": ("bins", (4, 2, 2)), "hog": ("cell", 8),
           "pixels": ("size", 12), "pretrained": ("backbone", "densenet201"), "simclr": ("width", 8),
           "guarded": ("sample", 500), "hog_multicrop": ("crops", (1.0, 0.8)), "model_file": ("batch_size", 8),
           "pictogram_prior": ("weight", 3.0), "selflabel_cnn": ("rounds", 3)}


def test_built_in_list_is_complete():
    assert sorted(available_extractors()) == sorted(BUILT_IN)


@pytest.mark.parametrize("name", BUILT_IN)
def test_clone_keeps_every_parameter(name):
    key, value = CHANGED[name]
    ex = make_extractor(name, **{key: value})
    assert not hasattr(ex, "params") and not hasattr(ex, "p")
    params = ex.get_params()
    assert params[key] == value and getattr(ex, key) is value  # stored unchanged under its own name
    twin = clone(ex)
    assert type(twin) is type(ex) and twin is not ex
    assert twin.get_params() == params
    assert set(params) == set(extractor_class(name)._get_param_names())
    assert not [a for a in vars(twin) if a.endswith("_")]  # nothing fitted before fit


@pytest.mark.parametrize("name", sorted(set(BUILT_IN) - set(STATELESS)))
def test_unfitted_learning_extractor_refuses_to_transform(name):
    with pytest.raises(NotFittedError):
        make_extractor(name).transform(np.zeros((2, 32, 32, 3), np.uint8))


@pytest.mark.parametrize("name", STATELESS)
def test_stateless_extractor_is_fitted_from_the_start(name):
    images = np.random.default_rng(0).integers(0, 255, (3, 16, 16, 3), dtype=np.uint8)
    ex = make_extractor(name)
    np.testing.assert_array_equal(ex.transform(images), clone(ex).fit_transform(images))


def test_set_params_changes_behaviour():
    images = np.random.default_rng(0).integers(0, 255, (2, 16, 16, 3), dtype=np.uint8)
    ex = make_extractor("pixels")
    assert ex.transform(images).shape == (2, 16 * 16 * 3)
    assert ex.set_params(size=8, gray=True).transform(images).shape == (2, 64)


def test_every_preset_builds_its_extractors_by_keyword():
    for name in PRESETS:
        for spec in get_preset(name).features:
            ex = make_extractor(spec["name"], **spec.get("params", {}))
            for key, value in spec.get("params", {}).items():
                assert ex.get_params()[key] == value


def test_reducer_clone_and_unfitted_transform():
    x = np.random.default_rng(0).normal(size=(40, 10)).astype(np.float32)
    red = Reducer(pca=4, whiten=True, l2=False, seed=3)
    assert not hasattr(red, "model_")
    with pytest.raises(NotFittedError):
        red.transform(x)
    twin = clone(red)
    assert twin.get_params() == {"pca": 4, "whiten": True, "l2": False, "seed": 3}
    out = twin.fit(x).transform(x)
    assert out.shape[1] == twin.n_components_ <= 4
    np.testing.assert_allclose(clone(red).fit_transform(x), out, rtol=1e-5, atol=1e-6)
    with pytest.raises(NotFittedError):
        clone(twin).transform(x)  # clone drops fitted state


def test_reducer_without_pca_is_still_fitted_explicitly():
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    red = Reducer(pca=None)
    with pytest.raises(NotFittedError):
        red.transform(x)
    out = red.fit(x).transform(x)
    assert red.model_ is None and np.allclose(np.linalg.norm(out, axis=1), 1.0)
