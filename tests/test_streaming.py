"""The streaming path: chunked decode + features into memory-mapped stores, on a generated demo set."""
import numpy as np
import pytest

import pipeline.streaming as streaming
from pipeline.config import get_preset
from pipeline.core.progress import Cancelled, CancelToken
from pipeline.engine import LocalEngine, make_engine
from pipeline.engine.local_pool import ProcessPoolEngine
from pipeline.evaluate import evaluate_clustering
from pipeline.io.demo import write_demo_folder
from pipeline.io.image_store import RowWriter, open_rows
from pipeline.run import run_pipeline


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    write_demo_folder(folder, n_per_class=12, seed=0)
    return folder


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(streaming, "CHUNK", 40)
    monkeypatch.setattr(streaming, "PCA_SAMPLE", 10_000)  # every chunk is in the PCA sample


def config(k=8):
    cfg = get_preset("best")
    cfg.k = k
    return cfg


def test_streamed_images_and_features_match_the_in_memory_run(demo, tmp_path, small_chunks):
    memory = run_pipeline(config(), demo, cache_dir=False, streaming=False)
    streamed = run_pipeline(config(), demo, cache_dir=False, streaming=True, engine=LocalEngine(), store_dir=tmp_path / "s")
    assert streamed.image_set.paths == memory.image_set.paths
    assert isinstance(streamed.image_set.images, np.memmap) and isinstance(streamed.features, np.memmap)
    assert np.array_equal(streamed.image_set.images, memory.image_set.images)
    assert np.allclose(streamed.features, memory.features, atol=1e-4)
    assert abs(streamed.metrics["acc"] - memory.metrics["acc"]) < 0.02
    assert streamed.clusters.n_clusters == 8 and streamed.clusters.linkage.shape == (7, 4)
    assert "streamed in chunks" in streamed.notes[0]


def test_pca_on_a_sample_of_chunks_still_clusters(demo, tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "CHUNK", 16)
    monkeypatch.setattr(streaming, "PCA_SAMPLE", 64)  # 4 chunks of 16 fit the PCA, the rest are projected
    memory = run_pipeline(config(), demo, cache_dir=False, streaming=False)
    streamed = run_pipeline(config(), demo, cache_dir=False, streaming=True, engine=LocalEngine(), store_dir=tmp_path)
    assert streamed.features.shape[0] == len(memory.features)
    assert np.allclose(np.linalg.norm(streamed.features, axis=1), 1.0, atol=1e-4)
    assert streamed.metrics["acc"] >= memory.metrics["acc"] - 0.15


def test_store_survives_a_cancel_and_lists_a_corrupt_file(demo, tmp_path, small_chunks):
    import shutil

    folder = tmp_path / "set"
    shutil.copytree(demo, folder)
    bad = sorted(folder.glob("*/*.png"))[5]
    bad.write_bytes(b"not an image at all")
    store = tmp_path / "store"
    first = run_pipeline(config(), folder, cache_dir=False, streaming=True, engine=LocalEngine(), store_dir=store)
    assert [s.path for s in first.image_set.skipped] == [str(bad)]
    assert first.image_set.skipped[0].reason
    assert str(bad) not in first.image_set.paths
    assert len(first.image_set) == len(first.image_set.images) == len(first.features)
    before = np.array(first.image_set.images)

    token = CancelToken()
    seen = []

    def cancel_midway(p):
        if p.stage == "decode + features" and p.done > 0:
            seen.append(p.done)
            if len(seen) == 3:
                token.cancel()

    with pytest.raises(Cancelled):
        run_pipeline(config(), folder, cache_dir=False, streaming=True, engine=LocalEngine(), store_dir=store,
                     progress=cancel_midway, cancel=token)
    assert not [p for p in store.iterdir() if p.name.endswith(".part")]
    kept = open_rows(store / "images.u8")
    assert kept is not None and np.array_equal(kept, before)  # the committed store is untouched
    again = run_pipeline(config(), folder, cache_dir=False, streaming=True, engine=LocalEngine(), store_dir=store)
    assert np.array_equal(again.image_set.images, before)


def test_row_writer_abort_keeps_nothing(tmp_path):
    writer = RowWriter(tmp_path / "x.f32", (3,), np.float32)
    writer.append(np.ones((4, 3)))
    writer.abort()
    assert open_rows(tmp_path / "x.f32") is None and list(tmp_path.iterdir()) == []
    writer = RowWriter(tmp_path / "x.f32", (3,), np.float32)
    writer.append(np.arange(6).reshape(2, 3))
    rows = writer.commit()
    assert rows.shape == (2, 3) and rows[1, 2] == 5
    with pytest.raises(ValueError):
        RowWriter(tmp_path / "y.f32", (3,), np.float32).append(np.ones((1, 4)))


def test_stateful_extractors_cannot_stream(demo):
    cfg = get_preset("prior-multicrop-ward")  # its icon classifier learns from the whole set
    with pytest.raises(ValueError, match="cannot run chunk by chunk"):
        run_pipeline(cfg, demo, cache_dir=False, streaming=True, engine=LocalEngine())


def test_the_default_guard_decides_on_a_sample_then_streams_its_choice(demo, tmp_path, small_chunks):
    from pipeline.config import DEFAULT_PRESET
    from pipeline.run import _streamable

    assert DEFAULT_PRESET == "guarded" and _streamable(get_preset("guarded"))  # big folders still stream
    cfg = get_preset("guarded").with_k(8)
    memory = run_pipeline(cfg, demo, cache_dir=False, streaming=False)
    streamed = run_pipeline(cfg, demo, cache_dir=False, streaming=True, engine=LocalEngine(), store_dir=tmp_path / "s")
    guard_notes = [n for n in streamed.notes if n.startswith("domain guard:")]
    assert guard_notes and guard_notes == [n for n in memory.notes if n.startswith("domain guard:")]  # same sample, same pick
    assert [f["name"] for f in streamed.config.features] == ["hog_multicrop"]  # what the chunks ran
    assert np.allclose(streamed.features, memory.features, atol=1e-4)
    assert streamed.clusters.n_clusters == 8


def _square(x):
    return x * x


def test_process_pool_engine_keeps_order_and_cancels():
    with make_engine("local", workers=2, in_flight=3) as engine:
        assert isinstance(engine, ProcessPoolEngine)
        assert list(engine.map_ordered(_square, range(20))) == [i * i for i in range(20)]
        token = CancelToken()
        got = []
        with pytest.raises(Cancelled):
            for value in engine.map_ordered(_square, range(1000), cancel=token):
                got.append(value)
                if len(got) == 5:
                    token.cancel()
        assert got == [i * i for i in range(5)]
    assert isinstance(make_engine("local", workers=1), LocalEngine)


def test_streaming_runs_on_the_process_pool(demo, tmp_path, small_chunks):
    with make_engine("local", workers=2) as engine:
        pooled = run_pipeline(config(), demo, cache_dir=False, streaming=True, engine=engine, store_dir=tmp_path / "a")
    local = run_pipeline(config(), demo, cache_dir=False, streaming=True, engine=LocalEngine(), store_dir=tmp_path / "b")
    assert np.array_equal(pooled.features, local.features)
    assert evaluate_clustering(local.clusters.labels, pooled.clusters.labels)["acc"] == 1.0


def test_automatic_streaming_from_the_threshold(demo, tmp_path, monkeypatch, small_chunks):
    import pipeline.run as run

    monkeypatch.setattr(run, "STREAMING_THRESHOLD", 100)
    streamed = run_pipeline(config(), demo, cache_dir=tmp_path)  # 156 images >= 100: streams
    assert isinstance(streamed.features, np.memmap) and "streamed" in streamed.notes[0]
    assert (tmp_path / "streams").is_dir()
    monkeypatch.setattr(run, "STREAMING_THRESHOLD", 10_000)
    memory = run_pipeline(config(), demo, cache_dir=tmp_path)
    assert not isinstance(memory.features, np.memmap)
