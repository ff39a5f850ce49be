"""The SQLite session store: round trip, journal undo/redo across reopening, history restore,
damaged files, migration of JSON sessions, and re-runs that keep the previous review."""
from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest

from pipeline.project.sessions import load_project_session, open_for_editing, recover_from_good_copy
from pipeline.project.store import ProjectStore
from pipeline.review import ReviewError, ReviewSession
from pipeline.review.edit_codec import decode_edit, edit_from_dict, edit_to_dict, encode_edit
from pipeline.review.journal import SessionJournal
from pipeline.review.session_db import SessionDamaged, SessionDB, backup_copy_path

N = 3000


def fresh(n: int = N) -> ReviewSession:
    return ReviewSession.from_result(
        "/data/signs", {"method": "kmeans", "k": 6, "seed": np.int64(3)}, [f"/data/signs/ü {i}.png" for i in range(n)],
        [str(i % 4) if i % 5 else None for i in range(n)], [i % 6 for i in range(n)])


def state(s: ReviewSession) -> dict:
    return s.to_dict()


def some_edits(s: ReviewSession) -> None:
    s.apply(s.name(1, "14"))
    s.apply(s.merge([2, 3]))
    s.apply(s.reject([5, 6, 2999]))
    s.apply(s.set_image_label([7], "3", mark_reviewed=True))
    s.apply(s.split(4, [i % 2 for i in range(s.size(4))]))
    s.apply(s.accept(0))
    s.apply(s.move([10, 11], None))


def test_edit_codec_round_trips_every_kind():
    s = fresh(50)
    edits = [s.name(1, "14"), s.merge([2, 3]), s.reject([5, 6]), s.set_image_label([7], "3", mark_reviewed=True),
             s.split(4, [i % 2 for i in range(s.size(4))]), s.accept(0), s.move([10, 11], None),
             s.batch([lambda: s.name(0, "1"), lambda: s.accept(5)], "two")]
    for e in edits:
        for back in (edit_from_dict(json.loads(json.dumps(edit_to_dict(e)))), decode_edit(encode_edit(e))):
            assert edit_to_dict(back) == edit_to_dict(e)
            before = state(s)
            s.apply(back)
            s.revert(e)  # the decoded edit is the same change
            assert state(s) == before
    with pytest.raises(ReviewError, match="damaged"):
        decode_edit(b"not zlib")


def test_create_record_and_reload_give_the_same_state(tmp_path):
    s = fresh()
    with SessionJournal(s, SessionDB.create(tmp_path / "r.db", s)) as journal:
        some_edits(s)
        assert journal.records == 7 and journal.last_error is None
    loaded = ReviewSession.load(tmp_path / "r.db")  # read-only, through the ordinary loader
    assert state(loaded) == state(s)
    assert loaded.config["seed"] == 3


def test_undo_redo_survive_reopening_and_history_restores_any_state(tmp_path):
    path = tmp_path / "r.db"
    s = fresh()
    states = [state(s)]
    db = SessionDB.create(path, s)
    journal = SessionJournal(s, db)
    for make in (lambda: s.name(1, "14"), lambda: s.merge([2, 3]), lambda: s.reject([5, 6])):
        s.apply(make())
        states.append(state(s))
    journal.undo()
    assert state(s) == states[2]
    journal.close()

    # reopen: the undo stack and the redo step are still there
    db = SessionDB.open(path)
    s2 = db.load(ReviewSession)
    assert state(s2) == states[2]
    journal = SessionJournal(s2, db)
    assert [e.text for _, e in journal.undo_chain()] == ["Name cluster 1 as 14", "Merge clusters 2, 3 into 2"]
    assert [e.text for _, e in journal.redo_chain()] == ["Reject 2 images"]
    journal.redo()
    assert state(s2) == states[3]
    journal.undo()
    journal.undo()
    assert state(s2) == states[1]
    # a new edit after undo starts a branch; the undone edits stay in the history
    s2.apply(s2.accept(0))
    branch = state(s2)
    hist = journal.history()
    assert [e.text for e, _ in hist] == ["Name cluster 1 as 14", "Merge clusters 2, 3 into 2", "Reject 2 images",
                                         "Accept cluster 0"]
    assert [on for _, on in hist] == [True, False, False, True]
    assert all(e.user and e.at > 0 for e, _ in hist)
    # restore any earlier state, including one on the abandoned branch, and back
    journal.restore(3)
    assert state(s2) == states[3]
    journal.restore(0)
    assert state(s2) == states[0]
    journal.restore(4)
    assert state(s2) == branch
    assert [ev[2] for ev in db.events()][-3:] == ["restore", "restore", "restore"]
    with pytest.raises(ReviewError, match="no edit 99"):
        journal.restore(99)
    journal.close()
    assert state(ReviewSession.load(path)) == branch


def test_a_revert_made_directly_on_the_session_is_stored(tmp_path):
    s = fresh(100)
    with SessionJournal(s, SessionDB.create(tmp_path / "r.db", s)):
        e = s.name(1, "x")
        s.apply(e)
        s.revert(e)
    assert ReviewSession.load(tmp_path / "r.db").cluster_names == {}


def test_an_edit_costs_what_it_touched(tmp_path):
    """A small edit rewrites a few pages, not the project (page counts, not time)."""
    s = fresh(200_000)
    path = tmp_path / "big.db"
    db = SessionDB.create(path, s)
    journal = SessionJournal(s, db)
    db.conn.execute("PRAGMA wal_autocheckpoint=0")
    wal = path.with_name(path.name + "-wal")
    s.apply(s.name(0, "1"))  # warm up the WAL file
    grown = []
    for make in (lambda: s.name(1, "2"), lambda: s.move([5, 70_000], 2), lambda: s.mark_reviewed([9, 10, 11])):
        before = wal.stat().st_size
        s.apply(make())
        grown.append(wal.stat().st_size - before)
    journal.close()
    assert path.stat().st_size > 1_000_000  # the project is big ...
    assert all(0 < g <= 64 * 1024 for g in grown), grown  # ... an edit is not


def test_damaged_file_is_detected_and_the_last_good_copy_is_offered(tmp_path):
    store = ProjectStore(tmp_path / "store")
    folder = tmp_path / "signs"
    path = store.new_session_path(folder, "run")
    s = fresh()
    SessionDB.create(path, s).close()
    session, opened = load_project_session(store, folder)  # opening keeps a good copy
    assert opened == path and backup_copy_path(path).is_file()
    with SessionJournal(session, SessionDB.open(path)) as journal:
        session.apply(session.name(1, "14"))
        journal.db.checkpoint()
    good_state = state(session)

    sound = path.read_bytes()
    for damage in ("schema page overwritten", "truncated"):
        raw = bytearray(sound)
        if damage == "truncated":
            raw = raw[: len(raw) // 2]
        else:
            raw[200:4096] = os.urandom(3896)
        path.write_bytes(bytes(raw))
        with pytest.raises(SessionDamaged) as info:
            load_project_session(store, folder)
        message = str(info.value)
        assert "is damaged" in message and str(backup_copy_path(path)) in message, damage
        assert info.value.backup == backup_copy_path(path)

    recovered = recover_from_good_copy(store, folder)
    assert store.session_path(folder) == recovered and path in store.archived_sessions(folder)
    back, _ = load_project_session(store, folder)
    assert state(back)["cluster_names"] == {}  # the copy taken when it was opened: before the edit
    assert state(back)["assignments"] == good_state["assignments"]


def test_garbage_and_foreign_files_give_clear_messages(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"SQLite format 3\x00" + os.urandom(3000))
    with pytest.raises(SessionDamaged, match="junk.db is damaged"):
        SessionDB.open(junk)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)").connection.commit()
    with pytest.raises(SessionDamaged, match="not a Cluster Review session"):
        SessionDB.open(other)
    with pytest.raises(ReviewError, match="not found"):
        SessionDB.open(tmp_path / "missing.db")


def test_a_changed_block_fails_its_checksum(tmp_path):
    path = tmp_path / "r.db"
    SessionDB.create(path, fresh()).close()
    conn = sqlite3.connect(path)
    data = bytearray(conn.execute("SELECT clusters FROM images WHERE chunk=1").fetchone()[0])
    data[10] ^= 0x01
    conn.execute("UPDATE images SET clusters=? WHERE chunk=1", (bytes(data),))
    conn.commit()
    conn.close()
    with pytest.raises(SessionDamaged, match="block 1 fails its checksum"):
        ReviewSession.load(path)


def test_legacy_json_is_migrated_on_open_and_kept(tmp_path):
    store = ProjectStore(tmp_path / "store")
    folder = tmp_path / "signs"
    s = fresh()
    some_edits(s)
    legacy = store.legacy_session_path(folder)
    legacy.parent.mkdir(parents=True)
    data = json.loads(s.to_json())
    data["written_by_a_newer_version"] = {"x": 1}
    legacy.write_text(json.dumps(data), "utf-8")
    original = legacy.read_bytes()
    session, path = load_project_session(store, folder)
    assert path.suffix == ".db" and path.name.endswith("-migrated.db")
    assert state(session) == {**state(s), "written_by_a_newer_version": {"x": 1}}
    assert legacy.read_bytes() == original  # the original is kept as it was
    assert store.session_path(folder) == path
    # unknown keys survive: into the database and out again through a JSON export
    session.save(tmp_path / "export.json")
    assert json.loads((tmp_path / "export.json").read_text("utf-8"))["written_by_a_newer_version"] == {"x": 1}


def test_rerun_keeps_the_previous_review_in_the_history(tmp_path):
    from pipeline.config import get_preset
    from pipeline.io.demo import write_demo_folder
    from pipeline.project.run_and_store import run_and_store

    folder = tmp_path / "signs"
    write_demo_folder(folder, n_per_class=3, size=24)
    store_root = tmp_path / "store"
    store = ProjectStore(store_root)
    config = get_preset("hog-kmeans").with_k(5)
    _, first = run_and_store(config, str(folder), str(folder), str(store_root))
    first_path = store.session_path(folder)
    session, _ = load_project_session(store, folder)
    access = open_for_editing(session, first_path)
    session.apply(session.name(session.cluster_ids()[0], "14"))
    access.close()
    edited = state(session)

    _, second = run_and_store(config, str(folder), str(folder), str(store_root))
    assert store.session_path(folder) != first_path
    assert store.archived_sessions(folder) == [first_path]
    assert state(ReviewSession.load(first_path)) == edited  # untouched, edits and all
    assert ReviewSession.load(store.session_path(folder)).cluster_names == {}
    with SessionDB.open(store.session_path(folder), readonly=True) as db:
        assert "stays in the history as " + first_path.name in db.events()[0][5]


def test_a_database_without_our_tables_is_named_as_foreign(tmp_path):
    other = tmp_path / "photos.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE photos(id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(SessionDamaged, match="not a Cluster Review session"):
        SessionDB.open(other)


def test_names_from_non_utf8_folders_are_journaled_and_reloaded(tmp_path):
    label = os.fsdecode(b"caf\xe9")  # a class folder whose name is Latin-1 (a lone surrogate in Python)
    s = ReviewSession.from_result("/f", {}, [f"/f/{label}/{i}.png" for i in range(6)], [label] * 6, [0, 0, 1, 1, 2, 2])
    path = tmp_path / "r.db"
    with SessionJournal(s, SessionDB.create(path, s)) as journal:
        s.apply(s.name(1, label))
        s.apply(s.set_image_label([4], label))
        assert journal.last_error is None
        journal.undo()
        journal.redo()
    again = ReviewSession.load(path)
    assert again.cluster_names == {1: label} and again.image_labels == {4: label}
    assert again.paths == s.paths and again.given_labels == s.given_labels


def test_paths_and_labels_of_any_kind_survive_the_nul_joined_static_table(tmp_path):
    odd = os.fsdecode(b"b\xe9d")
    paths = [f"/f/{odd}/a.png", "/f/line\nbreak.png", "/f/ü.png", "/f/ \t.png"]
    for k, given in enumerate(([odd, None, "", "x"], ["a\0b", "c", None, odd])):
        s = ReviewSession.from_result("/f", {}, paths, given, [0, 0, 1, 1])
        path = tmp_path / f"{k}.db"
        with SessionDB.create(path, s) as db:
            names = {r[0] for r in db.conn.execute("SELECT name FROM static")}
            again = db.load(ReviewSession)
        assert names == {"paths.nul", "given_labels.codes"}
        assert again.paths == paths and again.given_labels == s.given_labels
        assert s.given_labels[2] is None
    s = ReviewSession.from_result("/f", {}, ["/f/a\0b.png", "/f/c.png"], None, [0, 1])  # no path holds a NUL ...
    with SessionDB.create(tmp_path / "nul.db", s) as db:  # ... but if one did, it is stored as JSON
        assert db.conn.execute("SELECT count(*) FROM static WHERE name='paths'").fetchone()[0] == 1
        assert db.load(ReviewSession).paths == s.paths


def test_a_million_image_open_runs_no_per_image_python_code(tmp_path, monkeypatch):
    """Loading reads the image state with numpy and C-level list calls: no Python frame per image."""
    import sys

    n = 300_000
    s = ReviewSession.from_result("/f", {}, [f"/f/{i % 43}/{i}.png" for i in range(n)],
                                  [str(i % 43) if i % 9 else None for i in range(n)], np.arange(n) % 500)
    s.rejected = set(range(0, n, 100))
    s.reviewed = set(range(0, n, 4))
    path = tmp_path / "big.db"
    SessionDB.create(path, s).close()
    lines = [0]

    def trace(frame, event, arg):
        lines[0] += 1
        return trace

    with SessionDB.open(path, readonly=True) as db:
        sys.settrace(trace)
        try:
            again = db.load(ReviewSession)
        finally:
            sys.settrace(None)
    assert again.to_dict() == s.to_dict()
    assert lines[0] < n // 5, lines[0]  # a few Python lines per block of 128 images, none per image
