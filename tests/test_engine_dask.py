"""The Dask engine on a real local cluster (2 worker processes on loopback): order, progress,
cancel, errors, and the distributed k-means against scikit-learn's."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

pytest.importorskip("distributed")
# A hang (a task waiting on a forgotten key, a cluster that does not start or stop) fails its
# test after this many seconds instead of stalling the suite; a whole module run takes ~20 s idle.
pytestmark = pytest.mark.timeout(120)

from sklearn.cluster import KMeans  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402

from dask_tasks import fail_on_three, square_after  # noqa: E402
from pipeline.core.progress import Cancelled, CancelToken  # noqa: E402
from pipeline.engine.base import LocalEngine  # noqa: E402
from pipeline.engine.dask_engine import DaskEngine, EngineError  # noqa: E402
from pipeline.engine.kmeans import EngineKMeans, MemmapRows, engine_micro_clusterer, memmap_location  # noqa: E402


@pytest.fixture(scope="module")
def dask_engine():
    engine = DaskEngine(n_workers=2)
    yield engine
    engine.close()


def test_results_come_in_task_order_from_both_workers(dask_engine):
    # Early tasks are slowest, so they finish last: the order must still be the tasks' order.
    tasks = [(i, 0.3 if i < 2 else 0.01) for i in range(30)]
    seen = []
    out = list(dask_engine.map_ordered(square_after, tasks, stage="squares", progress=seen.append))
    assert [value for value, _ in out] == [i * i for i in range(30)]
    assert len({pid for _, pid in out}) == 2 and os.getpid() not in {pid for _, pid in out}
    assert [p.done for p in seen] == list(range(1, 31))  # one report per finished task
    assert {p.stage for p in seen} == {"squares"} and seen[-1].total == 30
    assert dask_engine.n_threads == 2 and dask_engine.max_in_flight == 4


def test_in_flight_is_bounded_and_cancel_stops_outstanding_tasks(dask_engine):
    cancel = CancelToken()
    results = dask_engine.map_ordered(square_after, [(i, 0.05) for i in range(200)], cancel=cancel)
    got = []
    with pytest.raises(Cancelled):
        for value, _ in results:
            got.append(value)
            assert len(dask_engine.client.futures) <= dask_engine.max_in_flight
            if len(got) == 3:
                cancel.cancel()
    assert got == [0, 1, 4]
    deadline = time.monotonic() + 5
    while dask_engine.client.futures and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not dask_engine.client.futures  # nothing left running for the abandoned tasks


def test_a_failing_task_raises_its_own_error_and_the_engine_stays_usable(dask_engine):
    with pytest.raises(ZeroDivisionError, match="three is not allowed"):
        list(dask_engine.map_ordered(fail_on_three, range(8)))
    assert list(dask_engine.map_ordered(fail_on_three, [0, 1, 2])) == [0, 1, 2]


def test_a_consumer_that_stops_early_leaves_no_tasks_behind(dask_engine):
    results = dask_engine.map_ordered(square_after, [(i, 0.05) for i in range(50)])
    assert next(results)[0] == 0
    results.close()
    deadline = time.monotonic() + 5
    while dask_engine.client.futures and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not dask_engine.client.futures


def test_an_unreachable_scheduler_is_one_plain_error():
    start = time.monotonic()
    with pytest.raises(EngineError, match=r"cannot reach the Dask scheduler at tcp://127.0.0.1:1"):
        DaskEngine("tcp://127.0.0.1:1", connect_timeout_s=2)
    assert time.monotonic() - start < 5
    with pytest.raises(EngineError, match="n_workers is for the local cluster"):
        DaskEngine("tcp://127.0.0.1:1", n_workers=2)


def test_connecting_by_address_uses_that_clusters_workers(dask_engine):
    with DaskEngine(dask_engine.cluster.scheduler_address) as remote:
        assert not remote.shares_files  # a cluster it did not start: files may not be visible
        assert remote.n_threads == 2
        assert [v for v, _ in remote.map_ordered(square_after, [(2, 0), (3, 0)])] == [4, 9]
    assert dask_engine.client.status == "running"  # closing a client leaves the cluster up


# --------------------------------------------------------------------------- k-means


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=4000, centers=10, n_features=12, cluster_std=2.0, random_state=3)
    return X.astype(np.float32), y


def _check_quality(model, X, y):
    reference = KMeans(10, n_init=5, random_state=0).fit(X)
    assert model.inertia_ <= reference.inertia_ * 1.02
    assert adjusted_rand_score(y, model.labels_) >= adjusted_rand_score(y, reference.labels_) - 0.02
    assert model.cluster_centers_.shape == (10, X.shape[1]) and model.labels_.dtype == np.int32


def test_kmeans_in_process_matches_sklearn(blobs):
    X, y = blobs
    seen = []
    model = EngineKMeans(10, seed=0, rows_per_task=700).fit(X, progress=seen.append)
    _check_quality(model, X, y)
    assert 1 <= model.n_iter_ <= 20 and seen[-1].done == seen[-1].total


def test_kmeans_on_the_cluster_reads_a_memmap_by_path_and_agrees_with_in_process(dask_engine, blobs, tmp_path):
    X, y = blobs
    np.save(tmp_path / "features.npy", X)
    mapped = np.load(tmp_path / "features.npy", mmap_mode="r")
    model = EngineKMeans(10, engine=dask_engine, seed=0, rows_per_task=700)
    parts = model._partitions(mapped, dask_engine)
    assert all(isinstance(p, MemmapRows) for p in parts) and len(parts) == 6
    model.fit(mapped)
    _check_quality(model, X, y)
    local = EngineKMeans(10, engine=LocalEngine(), seed=0, rows_per_task=700).fit(X)
    np.testing.assert_array_equal(model.labels_, local.labels_)


def test_kmeans_scatters_partitions_to_a_cluster_that_does_not_share_files(dask_engine, blobs, tmp_path):
    X, y = blobs
    np.save(tmp_path / "features.npy", X)
    mapped = np.load(tmp_path / "features.npy", mmap_mode="r")
    with DaskEngine(dask_engine.cluster.scheduler_address) as remote:
        model = EngineKMeans(10, engine=remote, seed=0, rows_per_task=700)
        assert not any(isinstance(p, MemmapRows) for p in model._partitions(mapped, remote))
        model.fit(mapped)
    _check_quality(model, X, y)


def test_scattering_the_same_rows_again_right_after_releasing_them(dask_engine):
    # What the k-means does when a fit follows another on the same rows: with content-hashed
    # keys, 8 of 30 such rounds lost their data or hung on this machine.
    from dask_tasks import row_total

    rows = [np.full((50, 4), i, np.float32) for i in range(6)]
    for _ in range(15):
        first = [dask_engine.scatter(r) for r in rows]
        del first
        again = [dask_engine.scatter(r) for r in rows]
        assert list(dask_engine.map_ordered(row_total, again)) == [200.0 * i for i in range(6)]


def test_memmap_location_of_views_and_the_micro_clusterer_hook(blobs, tmp_path):
    X, _ = blobs
    np.save(tmp_path / "f.npy", X)
    mapped = np.load(tmp_path / "f.npy", mmap_mode="r")
    name, offset = memmap_location(mapped)
    assert name == str(tmp_path / "f.npy") and offset == 128  # the .npy header
    assert memmap_location(mapped[100:]) == (name, 128 + 100 * X.shape[1] * 4)
    assert memmap_location(X) is None and memmap_location(mapped[:, :3]) is None
    np.testing.assert_array_equal(MemmapRows(name, offset, X.dtype.str, X.shape[1], 10, 20).load(), X[10:20])
    labels = engine_micro_clusterer(LocalEngine(), max_iter=5)(mapped, 50, 0, None, None)
    assert labels.shape == (len(X),) and len(np.unique(labels)) == 50
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        engine_micro_clusterer()(X, 10, 0, None, cancel)


# --------------------------------------------------------------------------- the whole pipeline


@pytest.fixture(scope="module")
def demo_set(tmp_path_factory):
    from pipeline.io.demo import write_demo_folder

    folder = tmp_path_factory.mktemp("dask_demo") / "demo"
    write_demo_folder(folder, n_per_class=8, seed=4, size=32)
    return folder  # 104 images, 13 classes


def _streaming_run(config, folder, engine, tmp_path, **kwargs):
    import inspect

    from pipeline.run import run_pipeline

    if "micro_clusterer" not in inspect.signature(run_pipeline).parameters:
        pytest.skip("run_pipeline has no engine / micro_clusterer parameters yet")
    return run_pipeline(config, folder, engine=engine, streaming=True, cache_dir=False,
                        store_dir=tmp_path / engine.name, **kwargs)


def test_streaming_run_on_dask_gives_the_local_engines_labels(dask_engine, demo_set, tmp_path):
    from pipeline.config import get_preset

    config = get_preset("best").with_k(k=13)
    local = _streaming_run(config, demo_set, LocalEngine(), tmp_path)
    on_dask = _streaming_run(config, demo_set, dask_engine, tmp_path)
    assert len(on_dask.image_set) == len(local.image_set) == 104
    assert on_dask.image_set.paths == local.image_set.paths
    np.testing.assert_allclose(np.asarray(on_dask.features), np.asarray(local.features), atol=1e-5)
    np.testing.assert_array_equal(on_dask.clusters.labels, local.clusters.labels)


def test_two_stage_run_with_the_micro_clusters_on_dask(dask_engine, demo_set, tmp_path, monkeypatch):
    import pipeline.clustering.large as large
    from pipeline.config import get_preset

    monkeypatch.setattr(large, "TWO_STAGE_THRESHOLD", 50)  # two stages even on 104 images
    config = get_preset("best").with_k(k=13)
    local = _streaming_run(config, demo_set, LocalEngine(), tmp_path,
                           micro_clusterer=engine_micro_clusterer(LocalEngine()))
    on_dask = _streaming_run(config, demo_set, dask_engine, tmp_path,
                             micro_clusterer=engine_micro_clusterer(dask_engine))
    np.testing.assert_array_equal(on_dask.clusters.labels, local.clusters.labels)
    assert on_dask.metrics["acc"] > 0.5


def _assignments(folder):
    import csv

    with open(folder / "assignments.csv", newline="", encoding="utf-8") as fp:
        return {row["path"]: row["cluster"] for row in csv.DictReader(fp)}


def test_cli_run_on_a_scheduler_matches_the_local_engine(dask_engine, demo_set, tmp_path, capsys):
    import inspect

    from pipeline.cli.main import main
    from pipeline.run import run_pipeline

    if "engine" not in inspect.signature(run_pipeline).parameters:
        pytest.skip("run_pipeline has no engine parameter yet")
    base = ["run", str(demo_set), "--k", "13", "--no-cache"]
    assert main([*base, "--out", str(tmp_path / "local"), "--engine", "local", "--workers", "1"]) == 0
    address = dask_engine.cluster.scheduler_address
    assert main([*base, "--out", str(tmp_path / "dask"), "--engine", "dask", "--scheduler", address]) == 0
    out = capsys.readouterr().out
    assert "images: 104 clustered, 0 skipped" in out and "on the dask engine" in out
    assert _assignments(tmp_path / "dask") == _assignments(tmp_path / "local")
    assert dask_engine.client.status == "running"  # the CLI closed its own client only
