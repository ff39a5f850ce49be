"""Opening a project's review for reading or editing: migration, checks, last good copy, lock.

:func:`load_project_session` reads the current review database (a legacy
``session.json`` is migrated into a new database first and kept), checks it, and keeps
a copy of it as ``<name>.good`` (the last good state offered back when the file is
found damaged later: :func:`recover_from_good_copy`). :func:`open_for_editing` takes the
project lock and attaches a :class:`~pipeline.review.journal.SessionJournal`; when another
window or process holds the lock it returns the holder instead (open read-only).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Union

from pipeline.project.lock import LockHolder, ProjectLock
from pipeline.project.store import SESSIONS_DIR, ProjectStore
from pipeline.review.edits import ReviewError
from pipeline.review.journal import SessionJournal
from pipeline.review.session import ReviewSession
from pipeline.review.session_db import SessionDamaged, SessionDB, backup_copy_path, is_session_db

PathLike = Union[str, Path]


def migrate_legacy(store: ProjectStore, folder: PathLike) -> Path:
    """Copy the folder's ``session.json`` into a new review database (the JSON file is kept)."""
    legacy = store.legacy_session_path(folder)
    session = ReviewSession.load(legacy)
    target = store.new_session_path(folder, "migrated")
    SessionDB.create(target, session, action="migrate", text=f"imported from {legacy.name}").close()
    return target


def load_project_session(store: ProjectStore, folder: PathLike) -> tuple[ReviewSession, Path]:
    """The folder's current review and its database path; see the module docstring.

    Raises :class:`~pipeline.review.session_db.SessionDamaged` (with ``backup`` set when a
    last good copy exists) or :class:`ReviewError` with a message for the user.
    """
    path = store.session_path(folder)
    if not is_session_db(path) and path == store.legacy_session_path(folder):
        path = migrate_legacy(store, folder)
    return load_database(path), path


def load_database(path: PathLike) -> ReviewSession:
    """Read and check review database ``path``, then refresh its ``.good`` copy."""
    path = Path(path)
    with SessionDB.open(path, readonly=True) as db:
        session = db.load(ReviewSession)
        session.journal_head = db.head
        try:
            db.backup_to(backup_copy_path(path))
        except OSError:
            pass  # a read-only store: the review still opens, without a fresh good copy
    return session


def recover_from_good_copy(store: ProjectStore, folder: PathLike) -> Path:
    """Make the last good copy of the damaged current review the current one (a new file).

    The damaged file stays in the history. Returns the new database's path.
    """
    damaged = store.session_path(folder)
    good = backup_copy_path(damaged)
    if not good.is_file():
        raise ReviewError(f"there is no good copy of {damaged.name} to go back to")
    target = store.new_session_path(folder, "recovered")
    with SessionDB.open(good, readonly=True) as db:
        db.backup_to(target)
    return target


def reopen_archived(store: ProjectStore, folder: PathLike, archived: PathLike) -> Path:
    """Make an earlier review of the folder (from :meth:`ProjectStore.archived_sessions`) the current one.

    It is copied into a new database, so the review it replaces stays in the history too.
    """
    archived = Path(archived)
    if archived.resolve().parent != store.sessions_dir(folder).resolve() or not archived.is_file():
        raise ReviewError(f"{archived.name} is not an earlier review of this folder")
    target = store.new_session_path(folder, "reopened")
    with SessionDB.open(archived, readonly=True) as db:
        db.backup_to(target)
    return target


def project_dir_of(session_db: PathLike) -> Optional[Path]:
    """The project folder of a database in a store's ``sessions/`` folder (``None`` elsewhere)."""
    parent = Path(session_db).resolve().parent
    return parent.parent if parent.name == SESSIONS_DIR else None


@dataclass
class EditAccess:
    """What :func:`open_for_editing` got: a journal (editable) or the lock holder (read-only)."""

    journal: Optional[SessionJournal]
    lock: Optional[ProjectLock]
    holder: Optional[LockHolder] = None

    @property
    def readonly(self) -> bool:
        return self.journal is None

    def read_only_reason(self) -> str:
        if self.holder is None:
            return ""
        return (f"This project is open in another window or program ({self.holder.describe()}). "
                "It is shown read-only: edits are disabled until that one closes.")

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()
            self.journal = None
        if self.lock is not None:
            self.lock.release()


def open_for_editing(session: ReviewSession, path: PathLike, *, tool: str = "Cluster Review window",
                     on_error: Optional[Callable[[Exception], None]] = None) -> EditAccess:
    """Lock the project of database ``path`` and journal ``session``'s edits into it.

    If another live process holds the lock, returns an :class:`EditAccess` without a
    journal and with the holder. Raises :class:`ReviewError` when the database moved on
    since ``session`` was read (someone edited it in between: open it again).
    """
    path = Path(path)
    project = project_dir_of(path)
    lock = ProjectLock(project if project is not None else path.parent, tool)
    holder = lock.acquire()
    if holder is not None:
        return EditAccess(None, None, holder)
    try:
        db = SessionDB.open(path, check=False)
        expected = getattr(session, "journal_head", None)
        if expected is not None and db.head != expected:
            db.close()
            raise ReviewError(f"{path.name} was changed by another program since it was read; open the folder again")
    except BaseException:
        lock.release()
        raise
    return EditAccess(SessionJournal(session, db, on_error=on_error), lock)


__all__ = [
    "EditAccess",
    "SessionDamaged",
    "load_database",
    "load_project_session",
    "migrate_legacy",
    "open_for_editing",
    "project_dir_of",
    "recover_from_good_copy",
    "reopen_archived",
]
