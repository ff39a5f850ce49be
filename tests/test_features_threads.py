"""Batch extractors describe their batches on several threads: same features, in order, cancellable."""
import numpy as np
import pytest

from pipeline.core.progress import CancelToken, Cancelled
from pipeline.features.base import THREADS_ENV, feature_threads
from pipeline.features.chunked import extract_blocks
from pipeline.features.registry import make_extractor


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, (700, 32, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize("name", ["hog", "hog_multicrop", "pixels"])
def test_threads_give_the_same_features_in_order(images, name):
    one, many = make_extractor(name), make_extractor(name)
    one.threads, many.threads = 1, 3
    one.batch_size = many.batch_size = 64  # 11 batches, the last one short
    seen = []
    expected = one.transform(images)
    got = many.transform(images, progress=lambda p: seen.append(p.done))
    assert got.shape == expected.shape and np.array_equal(got, expected)
    assert seen == sorted(seen) and seen[-1] == len(images) and len(seen) == 11


def test_a_cancel_stops_the_threads(images):
    ext = make_extractor("hog")
    ext.threads, ext.batch_size = 2, 32
    cancel = CancelToken()
    reports = []

    def progress(p):
        reports.append(p.done)
        if p.done >= 128:
            cancel.cancel()

    with pytest.raises(Cancelled):
        ext.transform(images, progress=progress, cancel=cancel)
    assert reports[-1] < len(images)


def test_thread_count_from_the_environment(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "3")
    assert feature_threads() == 3
    monkeypatch.setenv(THREADS_ENV, "many")
    with pytest.raises(ValueError, match=THREADS_ENV):
        feature_threads()
    monkeypatch.delenv(THREADS_ENV)
    assert 1 <= feature_threads() <= 4


def test_engine_chunks_describe_on_one_thread(images, monkeypatch):
    from pipeline.features.hog import HogFeatures

    used = []
    own = HogFeatures.transform

    def spy(self, batch, **kw):
        used.append(self.threads)
        return own(self, batch, **kw)

    monkeypatch.setattr(HogFeatures, "transform", spy)
    (block,) = extract_blocks(images[:40], [{"name": "hog", "params": {}}])
    assert used == [1] and block.shape[0] == 40
