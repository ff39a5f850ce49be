"""The one atomic-write helper every output goes through."""
from __future__ import annotations

import os
import stat
import threading

import numpy as np
import pytest

from pipeline.core import atomic as atomic_mod
from pipeline.core.atomic import (
    atomic_path,
    atomic_save_npy,
    atomic_write,
    atomic_write_bytes,
    atomic_write_json,
)


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_concurrent_threads_writing_one_path_never_collide(tmp_path):
    target = tmp_path / "shared.bin"
    n_threads, rounds = 8, 25
    payloads = [bytes([i]) * (50_000 + i) for i in range(n_threads)]
    errors: list[BaseException] = []
    start = threading.Barrier(n_threads)

    def writer(i):
        try:
            start.wait()
            for _ in range(rounds):
                atomic_write_bytes(target, payloads[i])
                # whatever a reader sees is one writer's complete payload, never a mix
                assert target.read_bytes() in payloads
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert target.read_bytes() in payloads
    assert _names(tmp_path) == ["shared.bin"]  # no temp file left behind


def test_temp_names_are_unique_per_write(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        real_replace(src, dst)

    monkeypatch.setattr(atomic_mod.os, "replace", spy)
    for _ in range(5):
        atomic_write_bytes(tmp_path / "x", b"1")
    assert len(set(seen)) == 5 and all(name.startswith(".x.") for name in seen)


def test_failure_mid_write_keeps_old_file_and_removes_temp(tmp_path):
    target = tmp_path / "data.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(target, "w") as fh:
            fh.write("new, half")
            raise RuntimeError("boom")
    assert target.read_text() == "old\n"
    assert _names(tmp_path) == ["data.csv"]


def test_failure_in_fsync_keeps_old_file(tmp_path, monkeypatch):
    target = tmp_path / "a.json"
    atomic_write_json(target, {"v": 1})

    def failing_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(atomic_mod.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="Input/output"):
        atomic_write_json(target, {"v": 2})
    monkeypatch.undo()
    assert target.read_text() == '{"v": 1}'
    assert _names(tmp_path) == ["a.json"]


def test_write_is_fsynced_and_folder_synced(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(atomic_mod.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    atomic_write_bytes(tmp_path / "f", b"abc")
    assert len(synced) >= (1 if os.name == "nt" else 2)  # the file, then its folder


def test_atomic_path_for_name_based_writers(tmp_path):
    target = tmp_path / "model.weights.h5"
    with atomic_path(target, suffix=".weights.h5") as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".weights.h5") and tmp != target
        tmp.write_bytes(b"weights")
    assert target.read_bytes() == b"weights"
    with pytest.raises(ValueError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise ValueError
    assert target.read_bytes() == b"weights"
    assert _names(tmp_path) == ["model.weights.h5"]


def test_npy_round_trip_and_ordinary_permissions(tmp_path):
    array = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]  # not contiguous
    target = tmp_path / "f.npy"
    atomic_save_npy(target, array)
    np.testing.assert_array_equal(np.load(target), array)
    if os.name != "nt":
        plain = tmp_path / "plain"
        plain.write_bytes(b"")
        assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_backup_keeps_the_previous_version(tmp_path):
    target, backup = tmp_path / "s.json", tmp_path / "s.json.bak"
    atomic_write_bytes(target, b"one", backup=backup)
    assert not backup.exists()
    atomic_write_bytes(target, b"two", backup=backup)
    assert target.read_bytes() == b"two" and backup.read_bytes() == b"one"
    assert _names(tmp_path) == ["s.json", "s.json.bak"]


def test_pipeline_writers_leave_no_temp_files(tmp_path):
    """The CSV/JSON writers of the run and the mislabel search use the helper."""
    from pipeline.mislabels.report import SuspectReport  # noqa: F401 - imported for its writer
    from pipeline.mislabels import suspects, report
    from pipeline import outputs

    from pipeline.core import csvio

    assert report.atomic_write is atomic_write
    assert csvio.atomic_write_bytes is atomic_write_bytes and outputs.atomic_write_json is atomic_write_json
    for module in (suspects, outputs):
        assert module.write_csv is csvio.write_csv


def test_csv_writer_failing_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    from pipeline.core.csvio import write_csv

    target = tmp_path / "out.csv"
    write_csv(target, ["path"], [[os.fsdecode(b"bad\xe9.png")]])
    before = target.read_bytes()
    assert before == b"path\r\nbad\xe9.png\r\n"  # the name's own bytes

    def half(fileobj, data):
        fileobj.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_mod, "_write_all", half)
    with pytest.raises(OSError, match="No space"):
        write_csv(target, ["path"], [[f"img_{i}.png"] for i in range(1000)])
    assert target.read_bytes() == before and _names(tmp_path) == ["out.csv"]
