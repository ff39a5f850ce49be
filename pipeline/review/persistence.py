"""Session files: the versioned JSON format, migrations, atomic saves with a backup, autosave.

A session is saved as one JSON file (``format``/``version`` header, assignments as
base64 int32 with their SHA-256) written atomically; the file being replaced is kept as
``<name>.bak`` when it is a valid session. Keys this version does not know are kept and
written again. Older versions are upgraded by functions registered with
:func:`register_migration`. :class:`Autosaver` saves after every edit. This is the export /
import format and that of older projects; a project's own review lives in an SQLite
database (:mod:`pipeline.review.session_db`), which :func:`load_session` also reads.

:class:`~pipeline.review.session.ReviewSession` exposes these as ``to_dict``,
``to_json``, ``from_dict``, ``save`` and ``load``.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import numpy as np

from pipeline.core.atomic import atomic_write_bytes, remove_stale_temps
from pipeline.review.edits import Edit, ReviewError
from pipeline.review.session_db import SessionDB, is_session_db, session_json

if TYPE_CHECKING:
    from pipeline.review.session import ReviewSession

PathLike = Union[str, Path]

FORMAT_NAME = "cluster-review-session"
FORMAT_VERSION = 1

Migration = Callable[[dict], dict]
_MIGRATIONS: dict[int, Migration] = {}


def register_migration(from_version: int) -> Callable[[Migration], Migration]:
    """Register a function turning a version ``from_version`` dict into ``from_version + 1``."""

    def _register(fn: Migration) -> Migration:
        _MIGRATIONS[from_version] = fn
        return fn

    return _register


def backup_path(path: PathLike) -> Path:
    """Where :meth:`ReviewSession.save` keeps the previous good version of ``path``."""
    path = Path(path)
    return path.with_name(path.name + ".bak")



def session_to_dict(session: "ReviewSession") -> dict:
    """The JSON-serialisable form of ``session`` that :func:`save_session` writes."""
    a = session.assignments
    if len(a) and (a.min() < np.iinfo(np.int32).min or a.max() > np.iinfo(np.int32).max):
        raise ReviewError("cluster ids must fit in 32 bits to be saved")
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "n_images": len(session),
        "folder": session.folder,
        "config": session.config,
        "paths": session.paths,
        "given_labels": session.given_labels,
        "assignments": _encode_assignments(a),
        "cluster_names": {str(k): v for k, v in sorted(session.cluster_names.items())},
        "image_labels": {str(k): v for k, v in sorted(session.image_labels.items())},
        "rejected": sorted(session.rejected),
        "accepted": sorted(session.accepted),
        "reviewed": sorted(session.reviewed),
        "notes": session.notes,
        **{k: v for k, v in getattr(session, "extra_fields", {}).items() if k not in _KNOWN_KEYS},
    }


_KNOWN_KEYS = frozenset({
    "format", "version", "n_images", "folder", "config", "paths", "given_labels", "assignments",
    "cluster_names", "image_labels", "rejected", "accepted", "reviewed", "notes",
})


def _encode_assignments(a: np.ndarray) -> dict:
    raw = a.astype("<i4").tobytes()
    return {"dtype": "int32-le", "base64": base64.b64encode(raw).decode("ascii"),
            "sha256": hashlib.sha256(raw).hexdigest()}


def session_to_json(session: "ReviewSession") -> str:
    """:func:`session_to_dict` as compact JSON (numpy values in ``config``/``notes`` become plain ones).

    The encoded ``paths`` and ``given_labels`` are cached (they are most of the
    file and never change through edits), which keeps autosave cheap; assign new
    lists rather than changing them in place.
    """
    data = session_to_dict(session)
    key = (id(session.paths), len(session.paths), id(session.given_labels), len(session.given_labels))
    cached = session._static_json
    if cached is None or cached[0] != key:
        static = _dumps({"paths": data["paths"], "given_labels": data["given_labels"]})
        cached = (key, static[1:-1])
        session._static_json = cached
    del data["paths"], data["given_labels"]
    return "{" + cached[1] + "," + _dumps(data)[1:]


def session_from_dict(cls: type, data: Any, *, source: str = "session") -> "ReviewSession":
    """Rebuild a ``cls`` session from :func:`session_to_dict` output, migrating older versions.

    Raises :class:`ReviewError` naming ``source`` and the problem.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise ReviewError(f"{source} is not a Cluster Review session file")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ReviewError(f"{source}: invalid format version {version!r}")
    if version > FORMAT_VERSION:
        raise ReviewError(
            f"{source} was written by a newer version of Cluster Review (format {version}; "
            f"this version reads up to {FORMAT_VERSION}). Please update the application."
        )
    while version < FORMAT_VERSION:
        migrate = _MIGRATIONS.get(version)
        if migrate is None:
            raise ReviewError(f"{source}: cannot read format version {version} (no migration available)")
        data = migrate(dict(data))
        version += 1
        data["version"] = version
    try:
        return _from_current(cls, data)
    except ReviewError as exc:
        raise ReviewError(f"{source}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReviewError(f"{source}: malformed session data ({type(exc).__name__}: {exc})") from None


def _from_current(cls: type, data: dict) -> "ReviewSession":
    n = data["n_images"]
    paths = data["paths"]
    given = data["given_labels"]
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ReviewError("'paths' must be a list of strings")
    if not isinstance(given, list) or not all(g is None or isinstance(g, str) for g in given):
        raise ReviewError("'given_labels' must be a list of strings or nulls")
    enc = data["assignments"]
    if not isinstance(enc, dict) or enc.get("dtype") != "int32-le":
        raise ReviewError("'assignments' has an unknown encoding")
    try:
        raw = base64.b64decode(enc["base64"], validate=True)
    except (ValueError, TypeError) as exc:
        raise ReviewError(f"'assignments' is not valid base64 ({exc})") from None
    if len(raw) % 4:
        raise ReviewError("'assignments' is truncated")
    digest = enc.get("sha256")
    if digest is not None and digest != hashlib.sha256(raw).hexdigest():
        raise ReviewError("'assignments' fails its checksum (the file was changed or damaged)")
    assignments = np.frombuffer(raw, dtype="<i4").astype(np.int64)
    if not (n == len(paths) == len(given) == len(assignments)):
        raise ReviewError(
            f"inconsistent lengths: n_images={n}, paths={len(paths)}, "
            f"given_labels={len(given)}, assignments={len(assignments)}"
        )

    def _index_set(key: str, limit: Optional[int]) -> set[int]:
        values = data[key]
        if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise ReviewError(f"'{key}' must be a list of integers")
        if limit is not None and any(v < 0 or v >= limit for v in values):
            raise ReviewError(f"'{key}' has an image index out of range")
        return set(values)

    def _int_map(key: str, limit: Optional[int]) -> dict[int, str]:
        values = data[key]
        if not isinstance(values, dict):
            raise ReviewError(f"'{key}' must be an object")
        out = {}
        for k, v in values.items():
            if not isinstance(v, str) or not v:
                raise ReviewError(f"'{key}' value for {k} must be a non-empty string")
            out[int(k)] = v
        if limit is not None and any(k < 0 or k >= limit for k in out):
            raise ReviewError(f"'{key}' has an image index out of range")
        return out

    notes = data.get("notes", {})
    config = data.get("config", {})
    if not isinstance(notes, dict) or not isinstance(config, dict):
        raise ReviewError("'notes' and 'config' must be objects")
    session = cls(
        data["folder"],
        config,
        paths,
        given,
        assignments,
        cluster_names=_int_map("cluster_names", None),
        image_labels=_int_map("image_labels", n),
        rejected=_index_set("rejected", n),
        accepted=_index_set("accepted", None),
        reviewed=_index_set("reviewed", n),
        notes=notes,
    )
    # keys this version does not know (written by a newer one) are kept and saved again
    session.extra_fields = {k: v for k, v in data.items() if k not in _KNOWN_KEYS}
    return session


def save_session(session: "ReviewSession", path: PathLike) -> None:
    """Write ``session`` atomically to ``path``.

    The file being replaced is kept as ``<name>.bak`` when it is a valid session
    (a file this object saved, or one that loads), so the last good version is
    never lost even if ``path`` was damaged by something else.
    """
    path = Path(path)
    # A non-UTF-8 file name (a surrogate escape) becomes the JSON escape "\udce9", which loads back as itself.
    data = session_to_json(session).encode("utf-8", "backslashreplace")
    backup = None
    if path.exists() and _is_good_file(session, path):
        backup = backup_path(path)
    atomic_write_bytes(path, data, backup=backup)
    session._last_saved = (str(path.resolve()), _signature(path))


def _is_good_file(session: "ReviewSession", path: Path) -> bool:
    last = session._last_saved
    if last is not None and last[0] == str(path.resolve()) and last[1] == _signature(path):
        return True
    try:
        load_session(type(session), path)
    except ReviewError:
        return False
    return True


def load_session(cls: type, path: PathLike) -> "ReviewSession":
    """Read a ``cls`` session saved by :func:`save_session` (or a session database, read-only).

    Raises :class:`ReviewError` with the reason for a missing, corrupt, truncated
    or too-new file, mentioning ``<name>.bak`` when a backup exists.
    """
    path = Path(path)
    if is_session_db(path):
        with SessionDB.open(path, readonly=True) as db:
            return db.load(cls)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ReviewError(f"session file not found: {path}") from None
    except OSError as exc:
        raise ReviewError(f"cannot read session file {path}: {exc.strerror or exc}") from None
    try:
        if not raw.strip():
            raise ReviewError(f"session file {path} is empty")
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ReviewError(f"session file {path} is corrupt (not UTF-8 text at byte {exc.start})") from None
        except json.JSONDecodeError as exc:
            what = "truncated" if exc.pos >= len(raw.rstrip()) - 1 else "corrupt"
            raise ReviewError(
                f"session file {path} is {what} (invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        return session_from_dict(cls, data, source=f"session file {path}")
    except ReviewError as exc:
        bak = backup_path(path)
        if bak.exists() and bak != path:
            raise ReviewError(f"{exc}. The previous version is kept in {bak}") from None
        raise


_dumps = session_json


def _signature(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class SessionFile:
    """The file side of :class:`~pipeline.review.session.ReviewSession` (a mixin)."""

    def to_dict(self) -> dict:
        """The JSON-serialisable form written by :meth:`save`."""
        return session_to_dict(self)

    def to_json(self) -> str:
        """:meth:`to_dict` as compact JSON (see :func:`session_to_json`)."""
        return session_to_json(self)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "session") -> "ReviewSession":
        """Rebuild a session from :meth:`to_dict` output, migrating older versions.

        Raises :class:`ReviewError` naming ``source`` and the problem.
        """
        return session_from_dict(cls, data, source=source)

    def save(self, path: PathLike) -> None:
        """Write the session atomically to ``path``, keeping the previous good file as ``<name>.bak``."""
        save_session(self, path)

    @classmethod
    def load(cls, path: PathLike) -> "ReviewSession":
        """Read a session saved by :meth:`save`; :class:`ReviewError` says why it cannot be read."""
        return load_session(cls, path)


class Autosaver:
    """Save ``session`` to ``path`` after every applied or reverted edit.

    Errors are not raised into the edit that triggered the save (the edit is already
    done); they are stored in :attr:`last_error` and passed to ``on_error``.
    Call :meth:`close` (or use as a context manager) to stop.
    """

    def __init__(
        self,
        session: "ReviewSession",
        path: PathLike,
        *,
        on_error: Optional[Callable[[Exception], None]] = None,
        save_now: bool = False,
    ) -> None:
        self.session = session
        self.path = Path(path)
        self.on_error = on_error
        self.saves = 0
        self.last_error: Optional[Exception] = None
        self.last_save_seconds: float = math.nan
        self._closed = False
        remove_stale_temps(self.path)
        session.add_listener(self._on_edit)
        if save_now:
            self.save_now()

    def _on_edit(self, edit: Edit) -> None:
        self.save_now()

    def save_now(self) -> bool:
        """Save immediately; returns ``False`` (and records the error) on failure."""
        t0 = time.perf_counter()
        try:
            self.session.save(self.path)
        except Exception as exc:  # noqa: BLE001 - reported, never raised into the GUI's edit
            self.last_error = exc
            if self.on_error is not None:
                self.on_error(exc)
            return False
        self.last_save_seconds = time.perf_counter() - t0
        self.last_error = None
        self.saves += 1
        return True

    def close(self) -> None:
        if not self._closed:
            self.session.remove_listener(self._on_edit)
            self._closed = True

    def __enter__(self) -> "Autosaver":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = [
    "Autosaver",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "SessionFile",
    "backup_path",
    "load_session",
    "register_migration",
    "save_session",
    "session_from_dict",
    "session_to_dict",
    "session_to_json",
]
