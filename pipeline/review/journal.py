"""Keep a :class:`~pipeline.review.session.ReviewSession` and its database in step.

:class:`SessionJournal` listens to the session (like the JSON ``Autosaver``): every edit
applied to it is stored as one transaction in the :class:`~pipeline.review.session_db.SessionDB`
before the listener returns, so an edit that returned is on disk. Undo, redo and a jump to any
earlier state (:meth:`SessionJournal.restore`) go through the journal, so they survive closing
the window; an edit reverted directly on the session is stored as its inverse.
If a write fails the edit stays queued (:attr:`pending`) and is written with the next one;
the error goes to ``on_error`` and :attr:`last_error`, never into the edit. A merge is stored
as a cluster alias (no image blocks written); :meth:`SessionJournal.fold` (called by
:meth:`~SessionJournal.close`) writes the aliases into the blocks.
"""
from __future__ import annotations

import math
import sqlite3
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator, Optional

import numpy as np

from pipeline.review.edit_codec import inverse
from pipeline.review.edits import Edit, ReviewError
from pipeline.review.session_db import JournalEntry, SessionDB

if TYPE_CHECKING:
    from pipeline.review.session import ReviewSession

ErrorHandler = Callable[[Exception], None]


def is_applied(session: "ReviewSession", edit: Edit) -> bool:
    """True when ``session`` holds ``edit``'s after values (it was just applied, not reverted)."""
    if len(edit.assign_indices):
        return bool(np.array_equal(session.assignments[edit.assign_indices], edit.assign_after))
    for key, (_, after) in edit.names.items():
        return session.cluster_names.get(key) == after
    for key, (_, after) in edit.image_labels.items():
        return session.image_labels.get(key) == after
    for key, (_, after) in edit.accepted.items():
        return (key in session.accepted) == after
    for flags, members in ((edit.rejected, session.rejected), (edit.reviewed, session.reviewed)):
        if len(flags):
            return (int(flags.indices[0]) in members) == bool(flags.after[0])
    return True


class SessionJournal:
    """The session's edits, undo, redo and history in its database; see the module docstring."""

    def __init__(self, session: "ReviewSession", db: SessionDB, *, on_error: Optional[ErrorHandler] = None) -> None:
        self.session = session
        self.db = db
        self.on_error = on_error
        self.pending: list[Edit] = []
        self.records = 0
        self.last_error: Optional[Exception] = None
        self.last_save_seconds = math.nan
        self._moving = False
        self._closed = False
        # The session was read from db (its state at the head), with the stored ids if they differ.
        db.ids.seed(session.assignments, getattr(session, "stored_ids", None))
        session.stored_ids = None
        session.add_listener(self._on_edit)

    # ------------------------------------------------------------------ recording
    def _on_edit(self, edit: Edit) -> None:
        if self._moving:
            return
        self.pending.append(edit if is_applied(self.session, edit) else inverse(edit))
        self.flush()

    def flush(self) -> bool:
        """Write queued edits; ``False`` (error reported) when the database refused."""
        t0 = time.perf_counter()
        try:
            while self.pending:
                self.db.record(self.session, self.pending[0])
                self.pending.pop(0)
                self.records += 1
        except (sqlite3.Error, OSError, ReviewError) as exc:
            self.report_error(exc)
            return False
        self.last_save_seconds = time.perf_counter() - t0
        self.last_error = None
        return True

    def report_error(self, exc: Exception) -> None:
        self.last_error = exc
        if self.on_error is not None:
            self.on_error(exc)

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        self._moving = True
        try:
            yield
        finally:
            self._moving = False

    # ------------------------------------------------------------------ moving in the history
    @property
    def head(self) -> int:
        """The journal row of the current state (0: the state the run produced)."""
        return self.db.head

    def can_undo(self) -> bool:
        return self.head != 0

    def can_redo(self) -> bool:
        return self.db.redo_child(self.head) is not None

    def undo(self) -> Optional[Edit]:
        """Revert the newest applied edit; returns it (``None``: nothing to undo)."""
        head = self.head
        if not head:
            return None
        return self._restore(self.db.parent(head), "undo")[0][0]

    def redo(self) -> Optional[Edit]:
        """Re-apply the edit undone last from this state; returns it (``None``: nothing to redo)."""
        child = self.db.redo_child(self.head)
        if child is None:
            return None
        return self._restore(child, "redo")[1][-1]

    def restore(self, seq: int, *, action: str = "restore") -> None:
        """Bring the session and the database to the state right after edit ``seq`` (0: the run's state).

        Reverts edits back to the common ancestor and applies the ones leading to ``seq``;
        the database changes in one transaction. Raises :class:`ReviewError` if that fails
        (the session is then put back as it was).
        """
        self._restore(int(seq), action)

    def _steps(self, seq: int) -> tuple[list[int], list[int]]:
        """Journal rows to revert (newest first) and to apply (in order) to go from the head to ``seq``."""
        head = self.head
        if seq:
            self.db.entry(seq)  # raises for an unknown seq
        if head and seq == self.db.parent(head):  # an undo: no walk up the whole history
            return [head], []
        if seq and self.db.parent(seq) == head:  # a redo
            return [], [seq]
        here, there = self.db.path_to(head), self.db.path_to(seq)
        common = 0
        while common < min(len(here), len(there)) and here[common] == there[common]:
            common += 1
        return list(reversed(here[common:])), there[common:]

    def _restore(self, seq: int, action: str) -> tuple[list[Edit], list[Edit]]:
        """:meth:`restore`; returns the edits reverted and applied."""
        if not self.flush():
            raise ReviewError(f"the review could not be saved, so it cannot move in its history: {self.last_error}")
        back_seqs, forward_seqs = self._steps(seq)
        back = [self.db.edit(s) for s in back_seqs]
        forward = [self.db.edit(s) for s in forward_seqs]
        done: list[tuple[Edit, bool]] = []
        with self._quiet():
            try:
                for edit in back:
                    self.session.revert(edit)
                    done.append((edit, False))
                for edit in forward:
                    self.session.apply(edit)
                    done.append((edit, True))
                text = (forward[-1].text if forward else back[-1].text) if (back or forward) else ""
                self.db.move_head(self.session, back + forward, seq, action, text)
            except (sqlite3.Error, OSError, ReviewError) as exc:
                for edit, applied in reversed(done):
                    (self.session.revert if applied else self.session.apply)(edit)
                raise ReviewError(f"cannot {action}: {exc}") from None
        return back, forward

    def undo_chain(self, limit: int = 500) -> list[tuple[int, Edit]]:
        """The newest ``limit`` applied edits leading to the current state, oldest first."""
        return [(s, self.db.edit(s)) for s in self.db.path_to(self.head)[-limit:]]

    def redo_chain(self, limit: int = 500) -> list[tuple[int, Edit]]:
        """The edits a run of redos would re-apply from the current state, in order."""
        out: list[tuple[int, Edit]] = []
        seq = self.db.redo_child(self.head)
        while seq is not None and len(out) < limit:
            out.append((seq, self.db.edit(seq)))
            seq = self.db.redo_child(seq)
        return out

    def history(self) -> list[tuple[JournalEntry, bool]]:
        """Every recorded edit, oldest first, with whether it is part of the current state."""
        current = set(self.db.path_to(self.head))
        return [(e, e.seq in current) for e in self.db.history()]

    # ------------------------------------------------------------------ closing
    def fold(self) -> int:
        """Write the cluster aliases that merges left into the image blocks (a checkpoint, one transaction).

        Returns the blocks written; errors go to ``on_error`` (the aliases then stay, which is fine).
        """
        try:
            return self.db.fold_aliases()
        except (sqlite3.Error, OSError, ReviewError) as exc:
            self.report_error(exc)
            return 0

    def close(self, *, fold: bool = True) -> None:
        """Stop listening, fold the merges' aliases (``fold``) and close the database (queued edits get one last try)."""
        if self._closed:
            return
        self._closed = True
        self.session.remove_listener(self._on_edit)
        if self.pending:
            self.flush()
        if fold and not self.pending:
            self.fold()
        self.db.close()

    def __enter__(self) -> "SessionJournal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
