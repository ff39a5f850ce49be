"""Autoencoder and SimCLR extractors: shapes, training curves, caching, determinism, cancel."""
import os

os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import numpy as np
import pytest

from pipeline.io.demo import render_signs
from pipeline.features.registry import available_extractors, make_extractor
from pipeline.core.progress import CancelToken, Cancelled

# Plumbing checks (shapes, curves, cache, seeding, cancel) train for one or two epochs on
# a few images; only the test that judges what training learns is marked slow.


@pytest.fixture(scope="module")
def signs():
    images, labels = render_signs(3, seed=0, size=32)  # 13 classes x 3 = 39 images
    return images, labels


def test_deep_extractors_are_registered():
    assert {"ae_dense", "ae_multilayer", "ae_conv", "ae_l1", "simclr", "pretrained"} <= set(available_extractors())


@pytest.mark.parametrize("name", ["ae_dense", "ae_multilayer", "ae_conv", "ae_l1"])
def test_autoencoder_embeds_to_64_dims_and_reports_loss_per_epoch(name, signs, tmp_path):
    images, _ = signs
    reports = []
    ex = make_extractor(name, epochs=2, cache_dir=str(tmp_path))
    feats = ex.fit_transform(images, progress=reports.append)
    assert feats.shape == (len(images), 64) and feats.dtype == np.float32
    assert np.isfinite(feats).all()
    curve = [r.metrics for r in reports if r.stage == f"train:{name}"]
    assert [c["epoch"] for c in curve] == [1, 2]
    assert all(np.isfinite(c["loss"]) and c["loss"] > 0 for c in curve)
    assert ex.history_ == [c["loss"] for c in curve]
    assert ex.device_.startswith(("CPU", "GPU"))


def test_trained_model_is_cached_and_reused(signs, tmp_path):
    images, _ = signs
    first = make_extractor("ae_dense", epochs=2, cache_dir=str(tmp_path))
    a = first.fit_transform(images)
    assert not first.from_cache_
    assert list((tmp_path / "models").glob("ae_dense-*.weights.h5"))
    second = make_extractor("ae_dense", epochs=2, cache_dir=str(tmp_path))
    b = second.fit_transform(images)
    assert second.from_cache_ and second.history_ == first.history_
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    other = make_extractor("ae_dense", epochs=1, cache_dir=str(tmp_path))  # other params: trains again
    other.fit(images)
    assert not other.from_cache_


def test_training_is_deterministic_given_a_seed(signs):
    images, _ = signs
    a = make_extractor("ae_conv", epochs=1, seed=3, cache_dir=False).fit_transform(images)
    b = make_extractor("ae_conv", epochs=1, seed=3, cache_dir=False).fit_transform(images)
    c = make_extractor("ae_conv", epochs=1, seed=4, cache_dir=False).fit_transform(images)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert not np.allclose(a, c, atol=1e-3)


@pytest.mark.slow
def test_simclr_trains_and_embeds(tmp_path):
    images, _ = render_signs(20, seed=0, size=32)  # 260 images: four batches of 64 per epoch
    reports = []
    ex = make_extractor("simclr", epochs=2, width=8, batch_size=64, cache_dir=str(tmp_path))
    feats = ex.fit_transform(images, progress=reports.append)
    assert feats.shape == (len(images), 32)
    losses = [r.metrics["loss"] for r in reports if r.stage == "train:simclr"]
    assert len(losses) == 2 and all(np.isfinite(losses))
    # a contrastive loss starts near log(2B - 1) and must go down
    assert losses[0] < np.log(2 * 64) + 0.5 and losses[1] < losses[0]


def test_cancel_stops_training(signs):
    images, _ = signs
    token = CancelToken()

    def cancel_after_first_epoch(p):
        if p.metrics.get("epoch") == 1:
            token.cancel()

    ex = make_extractor("ae_dense", epochs=5, cache_dir=False)
    with pytest.raises(Cancelled):
        ex.fit(images, progress=cancel_after_first_epoch, cancel=token)


def test_unknown_parameter_is_rejected():
    with pytest.raises(ValueError, match="unknown parameters"):
        make_extractor("ae_dense", epoch=3)
