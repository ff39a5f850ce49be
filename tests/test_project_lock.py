"""The per-project lock: a second process opens read-only and is told who holds the project;
a lock left by a killed process is taken over."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.project.lock import LOCK_NAME, ProjectLock, held_by_other, read_holder
from pipeline.project.sessions import open_for_editing
from pipeline.project.store import ProjectStore
from pipeline.review import ReviewSession
from pipeline.review.session_db import SessionDB

REPO = Path(__file__).resolve().parents[1]

HOLDER = r"""
import sys, time
from pipeline.project.lock import ProjectLock
lock = ProjectLock(sys.argv[1], tool="test script")
assert lock.acquire() is None
print("locked", flush=True)
sys.stdin.readline()  # hold it until told (or killed)
lock.release()
print("released", flush=True)
"""


def start_holder(project: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(project)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.stdout.readline().strip() == "locked", proc.stderr.read()
    return proc


def small_session() -> ReviewSession:
    return ReviewSession.from_result("/f", {}, [f"/f/{i}.png" for i in range(20)], None, [i % 3 for i in range(20)])


def test_a_second_process_gets_the_holder_and_the_lock_after_release(tmp_path):
    proc = start_holder(tmp_path)
    try:
        holder = ProjectLock(tmp_path).acquire()
        assert holder is not None and holder.pid == proc.pid and holder.tool == "test script"
        assert holder.host == socket.gethostname() and holder.user
        text = holder.describe()
        assert f"process {proc.pid}" in text and "since" in text and holder.user in text
        assert held_by_other(tmp_path) == holder
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "released"
    finally:
        proc.kill()
        proc.wait(timeout=10)
    lock = ProjectLock(tmp_path)
    assert lock.acquire() is None and lock.held
    lock.release()
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_killed_holder_leaves_a_stale_lock_that_is_taken_over(tmp_path):
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("no SIGKILL on this platform")
    proc = start_holder(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert (tmp_path / LOCK_NAME).exists()  # the dead process could not clean up
    stale = read_holder(tmp_path / LOCK_NAME)
    assert stale.pid == proc.pid and stale.is_stale()
    lock = ProjectLock(tmp_path)
    assert lock.acquire() is None
    assert read_holder(tmp_path / LOCK_NAME).pid == os.getpid()
    lock.release()


def test_a_lock_from_another_host_or_a_reused_pid(tmp_path):
    path = tmp_path / LOCK_NAME
    path.write_text(json.dumps({"user": "ana", "host": "elsewhere", "pid": 1, "since": 0, "tool": "x"}))
    holder = ProjectLock(tmp_path).acquire()
    assert holder is not None and holder.host == "elsewhere"  # cannot check another machine: respected
    # our own pid but a different start time: the pid was reused by this process, the lock is stale
    path.write_text(json.dumps({"user": "ana", "host": socket.gethostname(), "pid": os.getpid(), "since": 0,
                                "tool": "x", "started": -1.0}))
    if read_holder(path).is_stale():  # only where start times are known (Linux /proc)
        lock = ProjectLock(tmp_path)
        assert lock.acquire() is None
        lock.release()


def test_open_for_editing_is_read_only_while_another_process_holds_the_project(tmp_path):
    store = ProjectStore(tmp_path / "store")
    path = store.new_session_path(tmp_path / "signs", "run")
    s = small_session()
    SessionDB.create(path, s).close()
    proc = start_holder(store.project_dir(tmp_path / "signs"))
    try:
        access = open_for_editing(s, path)
        assert access.readonly and access.journal is None
        reason = access.read_only_reason()
        assert "read-only" in reason and f"process {proc.pid}" in reason and "test script" in reason
        access.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)
    access = open_for_editing(s, path)  # the holder is gone: editable now
    assert not access.readonly
    s.apply(s.name(0, "1"))
    access.close()
    assert ReviewSession.load(path).cluster_names == {0: "1"}


def test_a_pipeline_run_refuses_while_another_process_holds_the_project(tmp_path):
    from pipeline.config import get_preset
    from pipeline.project.run_and_store import run_and_store
    from pipeline.review import ReviewError

    store = ProjectStore(tmp_path / "store")
    folder = tmp_path / "signs"
    folder.mkdir()
    proc = start_holder(store.project_dir(folder))
    try:
        with pytest.raises(ReviewError, match=f"open in another window or program .*process {proc.pid}"):
            run_and_store(get_preset("hog-kmeans").with_k(3), str(folder), str(folder), str(store.root))
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert store.session_files(folder) == []  # nothing was written
