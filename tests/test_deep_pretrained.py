"""Pretrained backbones: weights resolved locally, a clear error when missing, never downloaded."""
import os

os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")

import numpy as np
import pytest

from pipeline.deep import MissingWeightsError
from pipeline.deep.pretrained import BACKBONES, resolve_weights, weights_status
from pipeline.features.registry import make_extractor


@pytest.fixture
def empty_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path / "keras"


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
def test_missing_weights_message_says_what_to_download_and_where(backbone, empty_keras_home):
    ex = make_extractor("pretrained", backbone=backbone)
    with pytest.raises(MissingWeightsError) as info:
        ex.fit_transform(np.zeros((2, 32, 32, 3), np.uint8))
    msg = str(info.value)
    b = BACKBONES[backbone]
    assert b.file_name in msg and b.url in msg
    assert str(empty_keras_home / "models" / b.file_name) in msg
    assert f"keras.applications.{b.constructor}(include_top=False, weights='imagenet')" in msg
    assert not (empty_keras_home / "models").exists()  # nothing was fetched
    available, status = weights_status(backbone)
    assert not available and b.file_name in status


def test_weights_from_a_local_path(tmp_path, empty_keras_home):
    with pytest.raises(MissingWeightsError, match="does not exist"):
        resolve_weights("resnet50", str(tmp_path / "nope.h5"))
    f = tmp_path / "mine.h5"
    f.write_bytes(b"x")
    assert resolve_weights("resnet50", str(f)) == str(f)
    cached = empty_keras_home / "models" / BACKBONES["densenet201"].file_name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert resolve_weights("densenet201", "imagenet") == str(cached)


def test_unknown_backbone():
    with pytest.raises(ValueError, match="unknown backbone"):
        resolve_weights("vgg99", "imagenet")


@pytest.mark.slow
def test_random_init_backbone_gives_pooled_features():
    ex = make_extractor("pretrained", backbone="efficientnetv2b0", weights=None, input_size=32, batch_size=4)
    feats = ex.fit_transform(np.random.default_rng(0).integers(0, 255, (3, 24, 24, 3), dtype=np.uint8))
    assert feats.shape == (3, 1280) and np.isfinite(feats).all()
