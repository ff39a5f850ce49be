"""SCAN seeded by a prior's class scores (the pictogram prior's columns)."""
import os

os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import normalized_mutual_info_score

from pipeline.clustering.registry import get_method
from pipeline.deep.scan import seed_labels, split_prior


@pytest.fixture(scope="module")
def blobs_with_prior():
    x, y = make_blobs(n_samples=[200, 120, 80, 60], n_features=12, cluster_std=1.0, random_state=1)
    rng = np.random.default_rng(0)
    scores = np.eye(4, dtype=np.float32)[y] + rng.normal(0, 0.3, (len(y), 4)).astype(np.float32)
    return x.astype(np.float32), scores, y


def test_split_prior_and_seed_labels(blobs_with_prior):
    x, scores, y = blobs_with_prior
    features = np.hstack([x, scores])
    base, prior = split_prior(features, 4, k=4)
    assert base.shape == x.shape and np.allclose(np.linalg.norm(base, axis=1), 1.0, atol=1e-5)
    assert np.allclose(prior, scores / np.linalg.norm(x, axis=1, keepdims=True))
    assert split_prior(features, 0, k=4)[1] is None
    assert split_prior(np.hstack([x, np.zeros((len(x), 4), np.float32)]), 4, k=4)[1] is None  # prior off
    idx, cls = seed_labels(scores, 0.5)
    assert abs(len(idx) - len(y) / 2) <= 1
    assert (cls == y[idx]).mean() > (scores.argmax(1) == y).mean()  # the widest margins are the surest
    with pytest.raises(ValueError, match="a prior of 4 classes cannot seed k=3"):
        split_prior(features, 4, k=3)
    assert split_prior(np.hstack([x, np.zeros((len(x), 6), np.float32)]), 6, k=3)[1] is None  # off: any k
    with pytest.raises(ValueError, match="must leave feature columns"):
        split_prior(features, features.shape[1], k=40)
    with pytest.raises(ValueError, match="seed_fraction"):
        seed_labels(scores, 0)


def test_scan_starts_from_the_prior(blobs_with_prior):
    x, scores, y = blobs_with_prior
    reports = []
    labels = get_method("scan")(np.hstack([x, scores]), 4, seed=0, epochs=3, self_label_epochs=1, batch_size=64,
                                prior_columns=4, seed_epochs=5, n_heads=1,
                                progress=reports.append)
    assert any("seeding the heads with 230 prior labels" in r.message for r in reports)
    assert normalized_mutual_info_score(y, labels) > 0.9
    reports.clear()
    off = np.hstack([x, np.zeros_like(scores)])
    get_method("scan")(off, 4, seed=0, epochs=1, self_label_epochs=0, batch_size=64, prior_columns=4, n_heads=1,
                       progress=reports.append)
    assert not any("seeding" in r.message for r in reports)


def test_max_steps_caps_the_epochs_by_batches(blobs_with_prior):
    from pipeline.deep.scan import capped_epochs

    assert capped_epochs(30, 153, 600) == 4  # the whole GTSRB split: 4 epochs of 153 batches
    assert capped_epochs(30, 15, 600) == 30  # 3,921 frames: the cap does not bind
    assert capped_epochs(30, 5000, 600) == 1 and capped_epochs(7, 1, None) == 7
    with pytest.raises(ValueError, match="max_steps"):
        capped_epochs(30, 10, 0)
    x, scores, _ = blobs_with_prior
    reports = []
    get_method("scan")(np.hstack([x, scores]), 4, seed=0, epochs=20, max_steps=14, self_label_epochs=0,
                       batch_size=64, prior_columns=4, seed_epochs=1, n_heads=1, progress=reports.append)
    trained = {r.done for r in reports if r.stage == "scan" and r.done}
    assert trained == {1, 2} and {r.total for r in reports if r.stage == "scan"} == {2}  # 7 batches an epoch
