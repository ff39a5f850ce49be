"""Deep clustering heads DEC, SCAN and IIC through the clustering registry."""
import os

os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import normalized_mutual_info_score

from pipeline.clustering.registry import available_methods, get_method, method_needs_k
from pipeline.deep.dec import target_distribution
from pipeline.io.demo import render_signs
from pipeline.core.progress import CancelToken, Cancelled

# Tests that judge what a head learns are marked slow; plumbing checks (registration,
# seeding, cache reuse, cancel, parameters) train for an epoch on small inputs.

@pytest.fixture(scope="module")
def blobs():
    # imbalanced: cluster sizes 300 / 150 / 60 / 30
    x, y = make_blobs(n_samples=[300, 150, 60, 30], n_features=16, cluster_std=1.0, random_state=0)
    return x.astype(np.float32), y


def _run(method, features, k, **params):
    return get_method(method)(features, k, seed=0, images=params.pop("images", None), progress=params.pop("progress", None),
                            cancel=params.pop("cancel", None), **params)


def test_heads_are_registered_and_need_k():
    for name in ("dec", "scan", "iic"):
        assert name in available_methods() and method_needs_k(name)


def test_dec_target_distribution_sharpens_and_normalises():
    q = np.array([[0.6, 0.4], [0.5, 0.5], [0.2, 0.8]])
    p = target_distribution(q)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    assert p[0, 0] > q[0, 0] and p[2, 1] > q[2, 1]


@pytest.mark.slow
def test_dec_recovers_imbalanced_blobs_and_reports_curves(blobs):
    x, y = blobs
    reports = []
    labels = _run("dec", x, 4, pretrain_epochs=8, epochs=8, progress=reports.append)
    assert labels.shape == y.shape and labels.min() == 0
    assert normalized_mutual_info_score(y, labels) > 0.9
    stages = {r.stage for r in reports if "loss" in r.metrics}
    assert stages == {"dec:pretrain", "dec"}


def test_dec_is_deterministic(blobs):
    x, _ = blobs
    small = dict(pretrain_epochs=1, epochs=2, hidden=(32, 16), latent_dim=8)
    assert np.array_equal(_run("dec", x, 4, **small), _run("dec", x, 4, **small))


@pytest.mark.slow
def test_scan_recovers_imbalanced_blobs_without_equalising_sizes(blobs):
    x, y = blobs
    reports = []
    labels = _run("scan", x, 4, epochs=40, self_label_epochs=5, batch_size=64, progress=reports.append)
    assert normalized_mutual_info_score(y, labels) > 0.75  # 0.85 on tensorflow, 0.78 on jax (other init)
    sizes = np.sort(np.bincount(labels))
    assert sizes[-1] > 2.5 * sizes[0]  # part of the 10x imbalance survives (5x on tensorflow, 3x on jax)
    assert any(r.stage == "scan" and "loss" in r.metrics for r in reports)


def test_scan_honours_cancel(blobs):
    x, _ = blobs
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        _run("scan", x, 4, epochs=3, cancel=token)


def test_iic_trains_on_images_and_reuses_the_cached_model(tmp_path):
    images, _ = render_signs(3, seed=0, size=32)
    feats = np.zeros((len(images), 2), np.float32)
    reports = []
    labels = _run("iic", feats, 5, images=images, epochs=1, width=8, batch_size=32, progress=reports.append,
                  cache_dir=str(tmp_path))
    assert labels.shape == (len(images),) and labels.min() == 0 and labels.max() < 5
    curve = [r.metrics for r in reports if r.stage == "iic"]
    assert [c["epoch"] for c in curve] == [1]
    assert list((tmp_path / "models").glob("iic-*.weights.h5"))
    again = []
    labels2 = _run("iic", feats, 5, images=images, epochs=1, width=8, batch_size=32, progress=again.append,
                   cache_dir=str(tmp_path))
    assert np.array_equal(labels, labels2)
    assert [r.message for r in again if r.stage == "iic"] == ["loaded from cache"]


def test_heads_reject_unknown_parameters(blobs):
    with pytest.raises(TypeError):
        _run("dec", blobs[0], 4, pretrain_epoch=3)


def test_iic_needs_images():
    with pytest.raises(ValueError, match="images"):
        _run("iic", np.zeros((10, 2), np.float32), 2)
