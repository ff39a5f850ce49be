"""Session files: round trip, versions, corrupt files, atomic writes, backups, autosave and SIGKILL."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pipeline.review import Autosaver, ReviewError, ReviewSession, backup_path
from pipeline.core.atomic import atomic_write_text
from pipeline.core import atomic as atomic_mod
from pipeline.review import persistence as session_mod

REPO = Path(__file__).resolve().parents[1]


def edited_session() -> ReviewSession:
    labels = [0, 0, 1, 1, 1, 2, 2, 7, 7, -1]
    given = ["a", "b", None, "b", "b", "c", "c", "ü", "ü", None]
    s = ReviewSession.from_result(
        "/data/signs", {"method": "kmeans", "k": 4, "features": [{"name": "hog", "params": {}}]},
        [f"/data/signs/ünï code {i}.png" for i in range(10)], given, labels,
    )
    s.apply(s.name(1, "b"))
    s.apply(s.accept(2))
    s.apply(s.reject([9]))
    s.apply(s.set_image_label([0], "a", mark_reviewed=True))
    s.apply(s.split(7, [0, 1]))
    s.notes["comment"] = "checked the 7s"
    return s


def test_save_load_round_trip(tmp_path):
    s = edited_session()
    path = tmp_path / "p.review.json"
    s.save(path)
    loaded = ReviewSession.load(path)
    assert loaded.to_dict() == s.to_dict()
    assert loaded.assignments.dtype == np.int64
    assert np.array_equal(loaded.assignments, s.assignments)
    assert loaded.cluster_names == {1: "b"} and loaded.accepted == {2}
    assert loaded.rejected == {9} and loaded.reviewed == {0} and loaded.image_labels == {0: "a"}
    assert loaded.notes == {"comment": "checked the 7s"}
    assert loaded.config["features"][0]["name"] == "hog"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == session_mod.FORMAT_VERSION and data["format"] == "cluster-review-session"
    # a loaded session keeps working: edits and undo
    e = loaded.merge([0, 1])
    loaded.apply(e)
    loaded.revert(e)
    assert loaded.to_dict() == s.to_dict()


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")


def test_newer_version_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "p.json"
    data = edited_session().to_dict()
    data["version"] = session_mod.FORMAT_VERSION + 1
    _write_json(path, data)
    with pytest.raises(ReviewError, match="newer version of Cluster Review.*update"):
        ReviewSession.load(path)


def test_older_version_goes_through_a_registered_migration(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    data = edited_session().to_dict()
    old = dict(data, version=0)
    old["clusterNames"] = old.pop("cluster_names")  # pretend version 0 spelled it differently
    _write_json(path, old)
    with pytest.raises(ReviewError, match="no migration"):
        ReviewSession.load(path)

    def upgrade(d):
        d["cluster_names"] = d.pop("clusterNames")
        return d

    monkeypatch.setitem(session_mod._MIGRATIONS, 0, upgrade)
    assert ReviewSession.load(path).to_dict() == data


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(format="something-else"), "not a Cluster Review session file"),
        (lambda d: d.update(version="1"), "invalid format version"),
        (lambda d: d["paths"].pop(), "inconsistent lengths"),
        (lambda d: d["assignments"].update(base64="###"), "not valid base64"),
        (lambda d: d["assignments"].update(base64="AAAAAAA="), "truncated"),
        (lambda d: d["assignments"].update(dtype="float64"), "unknown encoding"),
        (lambda d: d.update(rejected=[10]), "out of range"),
        (lambda d: d.update(reviewed=["x"]), "list of integers"),
        (lambda d: d.update(cluster_names={"1": 5}), "non-empty string"),
        (lambda d: d.pop("given_labels"), "malformed session data"),
    ],
)
def test_invalid_contents_raise_review_error(tmp_path, mutate, message):
    path = tmp_path / "p.json"
    data = edited_session().to_dict()
    mutate(data)
    _write_json(path, data)
    with pytest.raises(ReviewError, match=message) as info:
        ReviewSession.load(path)
    assert str(path) in str(info.value)


def test_corrupt_truncated_empty_and_missing_files(tmp_path):
    path = tmp_path / "p.json"
    edited_session().save(path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ReviewError, match="truncated"):
        ReviewSession.load(path)
    path.write_bytes(b"{" + b"\x00garbage" * 10 + raw[20:])
    with pytest.raises(ReviewError, match="corrupt"):
        ReviewSession.load(path)
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ReviewError, match="corrupt"):
        ReviewSession.load(path)
    path.write_bytes(b"")
    with pytest.raises(ReviewError, match="empty"):
        ReviewSession.load(path)
    with pytest.raises(ReviewError, match="not found"):
        ReviewSession.load(tmp_path / "absent.json")


def test_save_keeps_previous_good_version_as_bak(tmp_path):
    path = tmp_path / "p.json"
    s = edited_session()
    s.save(path)
    first = s.to_dict()
    assert not backup_path(path).exists()
    s.apply(s.name(0, "a"))
    s.save(path)
    assert ReviewSession.load(backup_path(path)).to_dict() == first
    assert ReviewSession.load(path).to_dict() == s.to_dict()
    second = s.to_dict()

    # something else damages the file: it must not replace the good backup...
    path.write_bytes(b'{"format": "cluster-review-session", "vers')
    with pytest.raises(ReviewError, match=r"previous version is kept in .*p\.json\.bak"):
        ReviewSession.load(path)
    s.apply(s.name(2, "c"))
    s.save(path)
    assert ReviewSession.load(backup_path(path)).to_dict() == first
    assert ReviewSession.load(path).to_dict() == s.to_dict()
    # ...but a valid file written by another session object is backed up
    other = ReviewSession.load(path)
    other.apply(other.accept(0))
    other.save(path)
    assert ReviewSession.load(backup_path(path)).to_dict() == s.to_dict()
    assert second != s.to_dict()


def test_failure_mid_write_leaves_the_original_intact(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    s = edited_session()
    s.save(path)
    good = path.read_bytes()

    def half_then_fail(fileobj, data):
        fileobj.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_mod, "_write_all", half_then_fail)
    s.apply(s.name(0, "zzz"))
    with pytest.raises(OSError, match="No space left"):
        s.save(path)
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]  # no temp file left
    monkeypatch.undo()

    def failing_replace(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic_mod.os, "replace", failing_replace)
    with pytest.raises(PermissionError):
        s.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert ReviewSession.load(path).cluster_names == {1: "b"}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_atomic_write_text_and_stale_temp_cleanup(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "one\ntwo\n", newline="\r\n")
    assert target.read_bytes() == b"one\r\ntwo\r\n"
    stale = tmp_path / ".out.txt.999999.tmp"
    stale.write_text("partial")
    fresh = tmp_path / ".out.txt.999998.tmp"
    fresh.write_text("in progress")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    assert atomic_mod.remove_stale_temps(target) == 1
    assert not stale.exists() and fresh.exists()


def test_autosaver_saves_after_every_apply_and_revert(tmp_path):
    path = tmp_path / "auto.json"
    s = edited_session()
    errors = []
    with Autosaver(s, path, on_error=errors.append) as auto:
        e = s.move([2, 3], 0)
        s.apply(e)
        assert ReviewSession.load(path).to_dict() == s.to_dict()
        s.revert(e)
        assert ReviewSession.load(path).to_dict() == s.to_dict()
        assert auto.saves == 2 and auto.last_error is None and auto.last_save_seconds >= 0
        # a failing save is reported, not raised into the edit
        (tmp_path / "blocker").mkdir()
        auto.path = tmp_path / "blocker"
        s.apply(s.name(0, "q"))
        assert isinstance(auto.last_error, OSError) and errors == [auto.last_error]
        assert s.cluster_names[0] == "q"
    s.apply(s.name(0, "r"))
    assert auto.saves == 2  # closed: no more saves


KILL_SCRIPT = r"""
import sys
from pipeline.review import Autosaver, ReviewSession
path, n = sys.argv[1], int(sys.argv[2])
s = ReviewSession.from_result(
    "/data", {"k": 50}, [f"/data/Train/{i % 43}/img_{i:06d}.png" for i in range(n)],
    [str(i % 43) for i in range(n)], [i % 50 for i in range(n)])
auto = Autosaver(s, path, save_now=True)
print(0, flush=True)
k = 0
while True:
    s.apply(s.mark_reviewed([k]))
    if auto.last_error is not None:
        raise auto.last_error
    k += 1
    print(k, flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.004, 0.011])
def test_sigkill_during_autosave_loses_at_most_the_last_edit(tmp_path, delay):
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("no SIGKILL on this platform")
    path = tmp_path / "killed.json"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(path), "20000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=env, text=True,
    )
    last = -1
    try:
        for line in proc.stdout:
            last = int(line)
            if last >= 8:
                break
        time.sleep(delay)  # kill at varying points of the next save
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        err = proc.stderr.read()
    assert last >= 8, f"child died early: {err}"
    loaded = ReviewSession.load(path)
    m = len(loaded.reviewed)
    assert loaded.reviewed == set(range(m))  # a prefix of the edits, nothing torn
    assert m >= last  # every save reported complete is there
    assert len(loaded) == 20000 and loaded.size(0) == 400
    bak = ReviewSession.load(backup_path(path))
    assert bak.reviewed == set(range(len(bak.reviewed))) and len(bak.reviewed) in (m - 1, m)
    # the next autosaver starts cleanly over whatever the kill left behind
    with Autosaver(loaded, path):
        loaded.apply(loaded.mark_reviewed([m]))
    assert ReviewSession.load(path).reviewed == set(range(m + 1))


def test_to_json_matches_to_dict_and_sees_replaced_paths(tmp_path):
    s = edited_session()
    assert json.loads(s.to_json()) == s.to_dict()
    s.paths = [p.replace("/data/signs", "/moved") for p in s.paths]
    s.given_labels = ["z"] * len(s)
    assert json.loads(s.to_json()) == s.to_dict()
    s.save(tmp_path / "p.json")
    loaded = ReviewSession.load(tmp_path / "p.json")
    assert loaded.paths[0].startswith("/moved") and loaded.given_labels == ["z"] * len(s)


def test_numpy_values_in_config_and_notes_are_saved_and_bad_values_refused(tmp_path):
    s = edited_session()
    s.config["k"] = np.int64(43)
    s.notes["scores"] = np.array([0.5, 0.25], dtype=np.float32)
    s.notes["where"] = Path("/x")
    s.save(tmp_path / "p.json")
    loaded = ReviewSession.load(tmp_path / "p.json")
    assert loaded.config["k"] == 43 and loaded.notes == {"comment": "checked the 7s", "scores": [0.5, 0.25], "where": "/x"}
    s.notes["bad"] = object()
    with pytest.raises(ReviewError, match="cannot save a value of type object"):
        s.save(tmp_path / "p.json")


def test_one_changed_character_in_the_assignments_fails_their_checksum(tmp_path):
    s = edited_session()
    path = tmp_path / "s.json"
    s.save(path)
    data = json.loads(path.read_text("utf-8"))
    b64 = data["assignments"]["base64"]
    data["assignments"]["base64"] = b64[:5] + ("A" if b64[5] != "A" else "B") + b64[6:]
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(ReviewError, match="fails its checksum"):
        ReviewSession.load(path)
    del data["assignments"]["sha256"]  # files written before the checksum existed still load
    data["assignments"]["base64"] = b64
    path.write_text(json.dumps(data), "utf-8")
    assert ReviewSession.load(path).to_dict() == s.to_dict()


def test_unknown_keys_survive_load_and_save(tmp_path):
    path = tmp_path / "s.json"
    edited_session().save(path)
    data = json.loads(path.read_text("utf-8"))
    data["reviewer_comments"] = {"3": "looks like a yield sign"}
    path.write_text(json.dumps(data), "utf-8")
    loaded = ReviewSession.load(path)
    loaded.apply(loaded.name(0, "q"))
    loaded.save(path)
    again = json.loads(path.read_text("utf-8"))
    assert again["reviewer_comments"] == {"3": "looks like a yield sign"} and again["cluster_names"]["0"] == "q"
