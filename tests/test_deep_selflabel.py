"""Self-labelled CNN: pseudo-labels from the first clustering, rounds, cache, bad settings."""
import os

os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import numpy as np
import pytest

from pipeline.deep.selflabel import confident_pseudo_labels
from pipeline.features.registry import make_extractor
from pipeline.io.demo import render_signs


def test_confident_pseudo_labels_keep_the_centre_of_each_cluster():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 5, (3, 8))
    x = np.concatenate([c + rng.normal(0, 1, (40, 8)) for c in centres])
    outliers = np.arange(0, 120, 40)  # push the first point of each blob far out
    x[outliers] += 3.0 * np.sign(x[outliers] - x.mean(0))
    idx, labels = confident_pseudo_labels(x, 3, 0.5, seed=0)
    assert 55 <= len(idx) <= 65  # half of each cluster
    assert not set(outliers) & set(idx)
    truth = np.repeat(np.arange(3), 40)[idx]
    # every kept cluster is pure
    assert all(len(set(truth[labels == c])) == 1 for c in np.unique(labels))


def test_selflabel_cnn_trains_rounds_and_embeds(tmp_path):
    images, _ = render_signs(4, seed=0, size=32)  # 13 classes x 4
    reports = []
    ex = make_extractor("selflabel_cnn", k=6, rounds=2, epochs=1, width=8, batch_size=16, cache_dir=str(tmp_path))
    feats = ex.fit_transform(images, progress=reports.append)
    assert feats.shape == (len(images), 32) and np.isfinite(feats).all()
    assert len(ex.history_) == 2  # one epoch per round
    rounds = [r.message for r in reports if r.stage == "selflabel"]
    assert len(rounds) == 2 and "pseudo-labels in 6 clusters" in rounds[0]
    again = make_extractor("selflabel_cnn", k=6, rounds=2, epochs=1, width=8, batch_size=16, cache_dir=str(tmp_path))
    assert np.allclose(again.fit_transform(images), feats, atol=1e-5)
    assert again.from_cache_


def test_selflabel_refuses_a_bad_keep_fraction():
    images, _ = render_signs(2, seed=0, size=32)
    with pytest.raises(ValueError, match="keep must be a fraction"):
        make_extractor("selflabel_cnn", keep=1.5, epochs=1, cache_dir=False).fit(images)
