"""A streamed run's store: a uniform PCA sample merged back in order, and no folder left behind."""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

import pipeline.streaming as streaming
from pipeline.config import get_preset
from pipeline.core.progress import Cancelled, CancelToken
from pipeline.engine import LocalEngine
from pipeline.io.demo import write_demo_folder
from pipeline.io.image_store import OWNER, RowWriter, claim_store, sweep_stores
from pipeline.io.loader import load_images
from pipeline.run import run_pipeline


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("store_demo") / "set"
    write_demo_folder(folder, n_per_class=12, seed=1)  # class folders: the listing is class-sorted
    bad = sorted(folder.glob("*/*.png"))
    for path in (bad[7], bad[100]):
        path.write_bytes(b"not an image")
    return folder


@pytest.fixture
def small_sample(monkeypatch):
    monkeypatch.setattr(streaming, "CHUNK", 16)
    monkeypatch.setattr(streaming, "PCA_SAMPLE", 48)


def config(k=8):
    cfg = get_preset("best")
    cfg.k = k
    return cfg


class RecordingEngine(LocalEngine):
    def __init__(self):
        self.tasks = []

    def _map(self, fn, tasks, stage, progress, cancel):
        tasks = list(tasks)
        self.tasks.append((stage, tasks))
        return super()._map(fn, tasks, stage, progress, cancel)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_pca_sample_is_uniform_and_merges_back_in_file_order(demo, tmp_path, small_sample):
    engine = RecordingEngine()
    result = run_pipeline(config(), demo, cache_dir=tmp_path, streaming=True, engine=engine)
    (stage, sample_tasks), (_, rest_tasks) = engine.tasks
    assert stage == "features: PCA sample" and all(t.projection is None for t in sample_tasks)
    sampled = [path for t in sample_tasks for path, _ in t.files]
    assert len(sampled) == 48 and len({os.path.basename(os.path.dirname(p)) for p in sampled}) >= 10  # of 13 classes
    rest = [path for t in rest_tasks for path, _ in t.files]
    assert not set(sampled) & set(rest) and len(sampled) + len(rest) == 156  # each image decoded once
    memory = load_images(demo, size=32, cache_dir=False)
    assert result.image_set.paths == memory.paths
    assert np.array_equal(result.image_set.images, memory.images)
    assert sorted(s.path for s in result.image_set.skipped) == sorted(s.path for s in memory.skipped)
    assert len(result.features) == 154 and np.allclose(np.linalg.norm(result.features, axis=1), 1.0, atol=1e-4)
    assert list((tmp_path / "streams").iterdir()) == []  # removed after the run
    assert float(np.asarray(result.features).sum()) != 0.0  # still readable through the maps
    assert "removed after the run" in result.notes[0]


def test_kept_and_temporary_stores(demo, tmp_path, small_sample, monkeypatch):
    kept = run_pipeline(config(), demo, cache_dir=tmp_path, streaming=True, engine=LocalEngine(), keep_store=True)
    (folder,) = (tmp_path / "streams").iterdir()
    assert (folder / "images.u8").is_file() and (folder / "features.f32").is_file() and str(folder) in kept.notes[0]
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    run_pipeline(config(), demo, cache_dir=False, streaming=True, engine=LocalEngine())
    assert list(scratch.iterdir()) == []


def test_cancel_and_errors_leave_no_store(demo, tmp_path, small_sample, monkeypatch):
    token = CancelToken()

    def cancel_midway(p):
        if p.stage == "decode + features" and p.done > 60:
            token.cancel()

    with pytest.raises(Cancelled):
        run_pipeline(config(), demo, cache_dir=tmp_path, streaming=True, engine=LocalEngine(),
                     progress=cancel_midway, cancel=token)
    assert list((tmp_path / "streams").iterdir()) == []
    import pipeline.clustering.large as large

    def broken(*args, **kwargs):
        raise RuntimeError("clustering failed")

    monkeypatch.setattr(large, "cluster_large", broken)
    with pytest.raises(RuntimeError, match="clustering failed"):
        run_pipeline(config(), demo, cache_dir=tmp_path, streaming=True, engine=LocalEngine())
    assert list((tmp_path / "streams").iterdir()) == []


def _store(root, name, owner_pid, *, rows=0, complete=True, age=0.0):
    folder = claim_store(root / name)
    if owner_pid is None:
        (folder / OWNER).unlink()
    else:
        (folder / OWNER).write_text(f'{{"host": "{os.uname().nodename}", "pid": {owner_pid}}}', encoding="utf-8")
    for file, shape, dtype in (("images.u8", (4, 4, 3), np.uint8), ("features.f32", (8,), np.float32)):
        if complete:
            writer = RowWriter(folder / file, shape, dtype)
            writer.append(np.zeros((rows, *shape), dtype))
            writer.commit()
        else:  # what a killed run leaves: a .part file, no header
            (folder / f".{file}.x1y2.part").write_bytes(bytes(64))
    stamp = time.time() - age
    for path in [*folder.iterdir(), folder]:
        os.utime(path, (stamp, stamp))
    return folder


def test_sweep_removes_dead_runs_leftovers_and_bounds_kept_stores(tmp_path):
    root = tmp_path / "streams"
    dead = _dead_pid()
    crashed = _store(root, "crashed", dead, complete=False)
    live = _store(root, "live", os.getpid(), complete=False)
    old = _store(root, "old", dead, rows=100, age=300)
    new = _store(root, "new", dead, rows=100, age=10)
    unknown_fresh = _store(root, "fresh", None, complete=False)
    unknown_idle = _store(root, "idle", None, complete=False, age=7200)
    removed = sweep_stores(root, max_bytes=12_000)
    assert set(removed) == {crashed, old, unknown_idle}  # old + new: 2 x ~8,000 bytes > 12,000: the older goes
    assert sorted(p.name for p in root.iterdir()) == sorted(p.name for p in (live, new, unknown_fresh))
    assert sweep_stores(root, max_bytes=12_000) == []
