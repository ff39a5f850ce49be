"""The review session in SQLite (WAL): state tables plus an append-only edit journal.

One database file holds a project's review: ``meta`` (folder, config, notes, unknown
keys of an imported file, the journal ``head``), ``static`` (paths NUL-joined, given labels as
codes: what edits never change), ``images`` (blocks of images: cluster ids and rejected/reviewed
bitmaps with a CRC, see :mod:`pipeline.review.image_blocks`), ``cluster_alias`` (a merge's
absorbed cluster -> the kept one, see :mod:`pipeline.review.cluster_alias`), the sparse tables
``cluster_names``, ``accepted``, ``image_labels``, and ``journal``: one row per edit (who, when, the encoded
:class:`~pipeline.review.edits.Edit` with its before/after values and a CRC, ``parent``:
the state it was applied to, so undone branches stay in the history). ``head`` is the
journal row whose state the tables hold (0: the state the run produced). ``events``
logs every head move (edit, undo, redo, restore) with who and when.

Each edit is one transaction that rewrites only the rows it touched, so an edit costs
what it changed, not the size of the project. Opening checks the file with
``PRAGMA quick_check`` and the CRCs; a damaged file raises :class:`SessionDamaged`.
:mod:`pipeline.review.journal` keeps a session and its database in step.
"""
from __future__ import annotations

import getpass
import json
import os
import socket
import sqlite3
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Optional, Sequence, Union

import numpy as np

from pipeline.core.atomic import atomic_path
from pipeline.review.edit_codec import decode_edit, encode_edit
from pipeline.review.edits import Edit, ReviewError
from pipeline.review.db_values import (  # noqa: F401 - session_json is re-exported
    db_json, display_text, pack_json, pack_labels, pack_strings, read_name, session_json, stored_name, unpack_labels,
    unpack_strings)
from pipeline.review.cluster_alias import ALIAS_SCHEMA, StoredIds, read_aliases, resolve
from pipeline.review.image_blocks import CHUNK, BlockDamaged, all_blocks, read_blocks

if TYPE_CHECKING:
    from pipeline.review.session import ReviewSession

PathLike = Union[str, Path]

DB_FORMAT = "cluster-review-session-db"
DB_VERSION = 2  # 2: the cluster_alias table (a version-1 file gets it when opened for writing)
#: Small pages: an edit touching images scattered over the project rewrites one page per
#: image, so the page size is what a scattered edit costs per image.
PAGE_SIZE = 1024
SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE static(name TEXT PRIMARY KEY, data BLOB NOT NULL, crc INTEGER NOT NULL);
CREATE TABLE images(chunk INTEGER PRIMARY KEY, clusters BLOB NOT NULL, rejected BLOB NOT NULL,
                    reviewed BLOB NOT NULL, crc INTEGER NOT NULL);
CREATE TABLE cluster_names(id INTEGER PRIMARY KEY, name TEXT NOT NULL);  -- names and labels as JSON strings
CREATE TABLE accepted(id INTEGER PRIMARY KEY);
CREATE TABLE image_labels(idx INTEGER PRIMARY KEY, label TEXT NOT NULL);
CREATE TABLE journal(seq INTEGER PRIMARY KEY, parent INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
                     user TEXT NOT NULL, host TEXT NOT NULL, at REAL NOT NULL, edit BLOB NOT NULL,
                     crc INTEGER NOT NULL, visited INTEGER NOT NULL DEFAULT 0);
CREATE INDEX journal_parent ON journal(parent);
CREATE TABLE events(id INTEGER PRIMARY KEY, at REAL NOT NULL, user TEXT NOT NULL, action TEXT NOT NULL,
                    from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL, text TEXT NOT NULL);
""" + ALIAS_SCHEMA + ";\n"


class SessionDamaged(ReviewError):
    """The database file is damaged; ``backup`` is the last good copy, if one exists."""

    def __init__(self, message: str, path: Path, backup: Optional[Path] = None) -> None:
        super().__init__(message)
        self.path = path
        self.backup = backup


@dataclass(frozen=True)
class JournalEntry:
    """One journal row: edit ``seq`` applied on state ``parent`` by ``user`` at ``at`` (epoch seconds)."""

    seq: int
    parent: int
    kind: str
    text: str
    user: str
    host: str
    at: float


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):
        return os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


def is_session_db(path: PathLike) -> bool:
    """True when ``path`` starts like an SQLite database."""
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == SQLITE_MAGIC
    except OSError:
        return False


class SessionDB:
    """An open session database; see the module docstring. Use :meth:`create` or :meth:`open`."""

    def __init__(self, conn: sqlite3.Connection, path: Path, readonly: bool) -> None:
        self.conn = conn
        self.path = path
        self.readonly = readonly
        self.chunk = CHUNK  # what this file uses (read from it on open)
        self.ids = StoredIds(conn, CHUNK)

    # ------------------------------------------------------------------ opening
    @staticmethod
    def _connect(path: Path, readonly: bool, synchronous: str = "FULL") -> sqlite3.Connection:
        if readonly:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        else:
            conn = sqlite3.connect(str(path), isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    @classmethod
    def create(cls, path: PathLike, session: "ReviewSession", *, extra: Optional[dict] = None,
               action: str = "create", text: str = "") -> "SessionDB":
        """Write ``session`` as a new database at ``path`` (atomically) and open it."""
        path = Path(path)
        a = session.assignments
        if len(a) and (a.min() < np.iinfo(np.int32).min or a.max() > np.iinfo(np.int32).max):
            raise ReviewError("cluster ids must fit in 32 bits to be saved")
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, suffix=".db.tmp") as tmp:
            conn = sqlite3.connect(str(tmp), isolation_level=None)
            try:
                conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
                conn.executescript(_SCHEMA)
                conn.execute("BEGIN")
                meta = {"format": DB_FORMAT, "version": DB_VERSION, "n_images": len(session), "chunk": CHUNK,
                        "folder": session.folder, "config": session.config, "notes": session.notes,
                        "extra": dict(extra if extra is not None else getattr(session, "extra_fields", {})),
                        "created": time.time(), "head": 0}
                conn.executemany("INSERT INTO meta VALUES(?,?)", [(k, db_json(v)) for k, v in meta.items()])
                packed = pack_strings(session.paths)  # NUL-joined (JSON if a path held a NUL)
                conn.execute("INSERT INTO static VALUES(?,?,?)",
                             ("paths.nul", *packed) if packed else ("paths", *pack_json(session.paths)))
                conn.execute("INSERT INTO static VALUES(?,?,?)",
                             ("given_labels.codes", *pack_labels(session.given_labels)))
                conn.executemany("INSERT INTO images VALUES(?,?,?,?,?)", all_blocks(session))
                conn.executemany("INSERT INTO cluster_names VALUES(?,?)",
                                 [(k, stored_name(v)) for k, v in sorted(session.cluster_names.items())])
                conn.executemany("INSERT INTO accepted VALUES(?)", [(c,) for c in sorted(session.accepted)])
                conn.executemany("INSERT INTO image_labels VALUES(?,?)",
                                 [(k, stored_name(v)) for k, v in sorted(session.image_labels.items())])
                conn.execute("INSERT INTO events(at,user,action,from_seq,to_seq,text) VALUES(?,?,?,0,0,?)",
                             (time.time(), current_user(), action, display_text(text)))
                conn.execute("COMMIT")
                conn.execute("PRAGMA journal_mode=WAL")  # recorded in the file header
            finally:
                conn.close()
        return cls.open(path, check=False)

    @classmethod
    def open(cls, path: PathLike, *, readonly: bool = False, check: bool = True,
             synchronous: str = "FULL") -> "SessionDB":
        """Open an existing database; ``check`` runs ``PRAGMA quick_check`` first.

        Raises :class:`SessionDamaged` for a damaged or foreign file, :class:`ReviewError`
        for a missing one or one written by a newer version.
        """
        path = Path(path)
        if not path.is_file():
            raise ReviewError(f"session database not found: {path}")
        if not is_session_db(path):
            raise damaged(path, "it is not a session database (the file header is wrong)")
        try:
            conn = cls._connect(path, readonly, synchronous)
        except sqlite3.OperationalError as exc:
            raise _unreadable(path, exc) from None
        except sqlite3.Error as exc:
            raise damaged(path, str(exc)) from None
        db = cls(conn, path, readonly)
        try:
            if check:
                problems = db.integrity_problems()
                if problems:
                    raise damaged(path, "; ".join(problems[:3]))
            fmt = db.meta("format")
            version = db.meta("version")
            db.chunk = int(db.meta("chunk", CHUNK))
            db.ids = StoredIds(conn, db.chunk)
        except sqlite3.OperationalError as exc:
            db.close()
            raise _unreadable(path, exc) from None
        except sqlite3.DatabaseError as exc:
            db.close()
            raise damaged(path, str(exc)) from None
        except ReviewError:
            db.close()
            raise
        if fmt != DB_FORMAT:
            db.close()
            raise damaged(path, "it is not a Cluster Review session database")
        if not isinstance(version, int) or version > DB_VERSION:
            db.close()
            raise ReviewError(f"{path} was written by a newer version of Cluster Review (database format "
                              f"{version}; this version reads up to {DB_VERSION}). Please update the application.")
        if not readonly:
            db._upgrade()
        return db

    def _upgrade(self) -> None:
        """Give a version-1 file the alias table (one transaction, only when it lacks it)."""
        if self.conn.execute("SELECT 1 FROM sqlite_master WHERE name='cluster_alias'").fetchone() is None:
            with self._transaction():
                self.conn.execute(ALIAS_SCHEMA)
                self._set_meta("version", DB_VERSION)

    def close(self) -> None:
        try:
            self.conn.close()
        except sqlite3.Error:
            pass

    def __enter__(self) -> "SessionDB":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ checks
    def integrity_problems(self) -> list[str]:
        """What ``PRAGMA quick_check`` reports (empty when the file is sound)."""
        rows = [r[0] for r in self.conn.execute("PRAGMA quick_check").fetchall()]
        return [] if rows == ["ok"] else rows

    # ------------------------------------------------------------------ meta
    def meta(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def _set_meta(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES(?,?)", (key, db_json(value)))

    @property
    def head(self) -> int:
        """The journal row whose state the tables hold (0: the state the run produced)."""
        return int(self.meta("head", 0))

    # ------------------------------------------------------------------ reading the state
    def load(self, cls: type) -> "ReviewSession":
        """The session of the current head, as a ``cls`` (a ReviewSession class)."""
        try:
            return self._load(cls)
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, str(exc)) from None

    def _load(self, cls: type) -> "ReviewSession":
        n = int(self.meta("n_images"))
        static = {}
        for name, data, crc in self.conn.execute("SELECT name, data, crc FROM static"):
            what, _, form = name.partition(".")
            if zlib.crc32(data) != crc:
                raise damaged(self.path, f"the stored {what.replace('_', ' ')} fail their checksum")
            try:
                static[what] = (unpack_strings(data, n) if form == "nul" else unpack_labels(data, n) if form == "codes"
                                else json.loads(zlib.decompress(data).decode("utf-8")))
            except (ValueError, zlib.error) as exc:
                raise damaged(self.path, f"the stored {what.replace('_', ' ')} cannot be read ({exc})") from None
        try:
            stored, rejected_idx, reviewed_idx = read_blocks(
                self.conn.execute("SELECT chunk, clusters, rejected, reviewed, crc FROM images ORDER BY chunk"))
            aliases = read_aliases(self.conn)
            assignments = resolve(stored, aliases)
        except BlockDamaged as exc:
            raise damaged(self.path, str(exc)) from None
        if "paths" not in static or "given_labels" not in static or len(assignments) != n:
            raise damaged(self.path, f"it holds {len(assignments)} cluster ids for {n} images")
        q = self.conn.execute
        session = cls(
            self.meta("folder"), self.meta("config") or {}, static["paths"], static["given_labels"], assignments,
            cluster_names={k: read_name(v) for k, v in q("SELECT id, name FROM cluster_names")},
            image_labels={k: read_name(v) for k, v in q("SELECT idx, label FROM image_labels")},
            rejected=rejected_idx.tolist(),
            accepted=[r[0] for r in q("SELECT id FROM accepted")],
            reviewed=reviewed_idx.tolist(),
            notes=self.meta("notes") or {},
        )
        session.extra_fields = dict(self.meta("extra") or {})
        # Unfolded aliases (an unclean close): the stored ids differ from the assignments, and a journal
        # opened on this state takes them (StoredIds.seed) instead of reading every block again in an edit.
        session.stored_ids = stored if aliases else None
        return session

    # ------------------------------------------------------------------ writing
    def _write_state(self, session: "ReviewSession", edits: Iterable[Edit]) -> None:
        """Rewrite the rows ``edits`` touched from ``session``'s current values."""
        edits = list(edits)
        q = self.conn.execute
        self.ids.write(session, edits)
        for table, key, values, getter in (
            ("cluster_names", "id", {k for e in edits for k in e.names}, session.cluster_names.get),
            ("image_labels", "idx", {k for e in edits for k in e.image_labels}, session.image_labels.get),
        ):
            for k in sorted(values):
                value = getter(k)
                if value is None:
                    q(f"DELETE FROM {table} WHERE {key}=?", (k,))
                else:
                    q(f"INSERT OR REPLACE INTO {table} VALUES(?,?)", (k, stored_name(value)))
        accepted = sorted({k for e in edits for k in e.accepted})
        if accepted:
            self.conn.executemany("DELETE FROM accepted WHERE id=?", [(k,) for k in accepted])
            self.conn.executemany("INSERT INTO accepted VALUES(?)", [(k,) for k in accepted if k in session.accepted])

    def _event(self, action: str, from_seq: int, to_seq: int, text: str) -> int:
        cur = self.conn.execute("INSERT INTO events(at,user,action,from_seq,to_seq,text) VALUES(?,?,?,?,?,?)",
                                (time.time(), current_user(), action, from_seq, to_seq, display_text(text)))
        return int(cur.lastrowid)

    def _transaction(self):
        if self.readonly:
            raise ReviewError("this review is open read-only; edits are not saved")
        return _Transaction(self)

    def record(self, session: "ReviewSession", edit: Edit) -> int:
        """Store an edit just applied to ``session`` as a child of the head, in one transaction; its seq."""
        blob = encode_edit(edit)
        with self._transaction():
            parent = self.head
            self._write_state(session, [edit])
            cur = self.conn.execute(
                "INSERT INTO journal(parent,kind,text,user,host,at,edit,crc) VALUES(?,?,?,?,?,?,?,?)",
                (parent, edit.kind, display_text(edit.text), current_user(), socket.gethostname(), time.time(), blob,
                 zlib.crc32(blob)))
            seq = int(cur.lastrowid)
            visit = self._event("edit", parent, seq, edit.text)
            self.conn.execute("UPDATE journal SET visited=? WHERE seq=?", (visit, seq))
            self._set_meta("head", seq)
        return seq

    def move_head(self, session: "ReviewSession", edits: Sequence[Edit], to_seq: int, action: str,
                  text: str) -> None:
        """After ``edits`` were applied/reverted on ``session`` to reach state ``to_seq``: store it, one transaction."""
        with self._transaction():
            from_seq = self.head
            self._write_state(session, edits)
            visit = self._event(action, from_seq, to_seq, text)
            if to_seq:
                self.conn.execute("UPDATE journal SET visited=? WHERE seq=?", (visit, to_seq))
            self._set_meta("head", to_seq)

    def set_meta_value(self, key: str, value: Any) -> None:
        """Store ``folder``/``config``/``notes``-like values in their own transaction."""
        with self._transaction():
            self._set_meta(key, value)

    # ------------------------------------------------------------------ the journal
    def entry(self, seq: int) -> JournalEntry:
        row = self.conn.execute("SELECT seq,parent,kind,text,user,host,at FROM journal WHERE seq=?", (seq,)).fetchone()
        if row is None:
            raise ReviewError(f"there is no edit {seq} in the history")
        return JournalEntry(*row)

    def edit(self, seq: int) -> Edit:
        """The :class:`Edit` of journal row ``seq`` (its CRC checked)."""
        row = self.conn.execute("SELECT edit, crc FROM journal WHERE seq=?", (seq,)).fetchone()
        if row is None:
            raise ReviewError(f"there is no edit {seq} in the history")
        if zlib.crc32(row[0]) != row[1]:
            raise damaged(self.path, f"edit {seq} of the history fails its checksum")
        return decode_edit(row[0])

    def parent(self, seq: int) -> int:
        return self.entry(seq).parent if seq else 0

    def path_to(self, seq: int) -> list[int]:
        """Journal rows from the run's state (exclusive) to ``seq`` (inclusive), in order."""
        if not seq:
            return []
        self.entry(seq)  # raises for an unknown row
        rows = self.conn.execute(
            "WITH RECURSIVE up(seq, depth) AS (SELECT ?, 0 UNION ALL SELECT j.parent, up.depth + 1 FROM journal j "
            "JOIN up ON j.seq = up.seq WHERE j.parent != 0) SELECT seq FROM up ORDER BY depth DESC", (int(seq),))
        return [int(r[0]) for r in rows]

    def redo_child(self, seq: int) -> Optional[int]:
        """The edit a redo from state ``seq`` re-applies: the child that was head most recently."""
        row = self.conn.execute("SELECT seq FROM journal WHERE parent=? ORDER BY visited DESC, seq DESC LIMIT 1",
                                (seq,)).fetchone()
        return None if row is None else int(row[0])

    def history(self) -> list[JournalEntry]:
        """Every edit ever recorded, oldest first (undone branches included)."""
        rows = self.conn.execute("SELECT seq,parent,kind,text,user,host,at FROM journal ORDER BY seq").fetchall()
        return [JournalEntry(*r) for r in rows]

    def events(self) -> list[tuple[float, str, str, int, int, str]]:
        """``(at, user, action, from_seq, to_seq, text)`` for every head move, oldest first."""
        return [tuple(r) for r in self.conn.execute(
            "SELECT at,user,action,from_seq,to_seq,text FROM events ORDER BY id").fetchall()]

    # ------------------------------------------------------------------ copies
    def backup_to(self, target: PathLike) -> None:
        """Write a consistent copy of the database to ``target`` (atomically)."""
        target = Path(target)
        with atomic_path(target, suffix=".db.tmp") as tmp:
            dst = sqlite3.connect(str(tmp), isolation_level=None)
            try:
                self.conn.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()

    def fold_aliases(self) -> int:
        """Write the cluster aliases into the image blocks, in one transaction; the blocks written."""
        with self._transaction():
            return self.ids.fold()

    def alias_count(self) -> int:
        return len(read_aliases(self.conn))

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the main file (e.g. before copying it)."""
        if not self.readonly:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class _Transaction:
    def __init__(self, db: SessionDB) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self.db.conn.execute("COMMIT")
        else:
            self.db.ids.forget()
            self.db.conn.execute("ROLLBACK")


def backup_copy_path(path: PathLike) -> Path:
    """Where the last good copy of database ``path`` is kept (written each time it opens cleanly)."""
    path = Path(path)
    return path.with_name(path.name + ".good")


def _unreadable(path: Path, exc: sqlite3.OperationalError) -> ReviewError:
    """An error opening ``path`` that is not damage (permissions, a lock, the disk), or a foreign database."""
    if "no such table" in str(exc):
        return damaged(path, "it is not a Cluster Review session database")
    return ReviewError(f"cannot open the review file {path}: {exc}")


def damaged(path: Path, reason: str) -> SessionDamaged:
    """A :class:`SessionDamaged` naming the file, the reason and the last good copy if there is one."""
    good = backup_copy_path(path)
    message = f"The review file {path.name} is damaged ({reason})."
    if good.is_file():
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(good.stat().st_mtime))
        message += f" The last good copy, from {when}, is kept in {good}."
        return SessionDamaged(message, path, good)
    return SessionDamaged(message, path, None)
