"""The run's self-trained zero-shot prior: trained with the run, kept beside the project, read by the zero-shot job."""
from __future__ import annotations

import numpy as np

from pipeline.config import get_preset
from pipeline.io.demo import write_demo_folder
from pipeline.project.prior_cache import load_prior, prior_key, prior_path, save_prior
from pipeline.project.run_and_store import run_and_store
from pipeline.project.store import ProjectStore
from pipeline.suggest.zero_shot import softmax_suggestions


def test_a_saved_prior_comes_back_under_its_key_only(tmp_path):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(50, 8)).astype(np.float32)
    prior = softmax_suggestions(["1", "14", "33"], rng.normal(size=(50, 3)), 4.0)
    key = prior_key(features)
    save_prior(tmp_path, prior, key)
    back = load_prior(tmp_path, key)
    assert back is not None and back.classes == ["1", "14", "33"]
    assert np.allclose(back.proba, prior.proba) and np.array_equal(back.top, prior.top)
    assert np.allclose(back.confidence, prior.confidence)
    other = features.copy()
    other[0, 0] += 1.0
    assert load_prior(tmp_path, prior_key(other)) is None  # other features: stale
    prior_path(tmp_path).write_bytes(b"not a zip")
    assert load_prior(tmp_path, key) is None  # unreadable: none, no error
    assert load_prior(tmp_path / "missing", key) is None


def test_a_pictogram_run_stores_its_sharpened_prior_and_the_zero_shot_job_serves_it(tmp_path):
    from gui.jobs.suggest_job import SHARPENED_SOURCE, zero_shot_job

    folder = tmp_path / "demo"
    write_demo_folder(folder, n_per_class=10, seed=0)
    store = ProjectStore(tmp_path / "store")
    config = get_preset("prior-multicrop-ward").with_k(13)
    config.features[0]["params"].update(icons_from="drawn", n_per_class=10)  # the pictograms the project draws
    data, session = run_and_store(config, str(folder), str(folder), str(store.root))
    project_dir = store.project_dir(folder)
    sharpened = load_prior(project_dir, prior_key(data.features))
    assert sharpened is not None and len(sharpened.proba) == len(data.features)
    assert np.allclose(sharpened.proba.sum(1), 1.0, atol=1e-4)
    job = zero_shot_job(data.config, data.images, data.features, None, str(folder), project_dir=project_dir)
    suggestions, source = job(None, None)
    assert source == SHARPENED_SOURCE and suggestions.classes == sharpened.classes
    without = zero_shot_job(data.config, data.images, data.features, None, str(folder))(None, None)
    assert without[1] == "pictograms the clustering learnt"  # no project folder given: the icons' own scores

    run_and_store(get_preset("hog-kmeans").with_k(13), str(folder), str(folder), str(store.root))
    assert not prior_path(project_dir).exists()  # a run without pictogram scores leaves none behind
