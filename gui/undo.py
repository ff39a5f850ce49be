"""The review session's edits on a ``QUndoStack`` (one command = one undo step).

Bulk actions (naming many clusters, a dendrogram cut) are one :class:`Edit` built by
``ReviewSession.batch``, so they need no command of their own. With a
:class:`~pipeline.review.journal.SessionJournal` the commands undo and redo through the
session database, and :func:`restore_stack` rebuilds the stack from it when a project is
reopened (Ctrl+Z then undoes the last edit of the previous run of the window).
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtGui import QAction, QUndoCommand, QUndoStack

from pipeline.review import Edit, ReviewError, ReviewSession
from pipeline.review.journal import SessionJournal


class EditCommand(QUndoCommand):
    """Apply one :class:`Edit` on redo, revert it on undo (through ``journal`` when given).

    ``seq`` is the edit's journal row once recorded; ``applied=True`` marks a command
    rebuilt from the journal whose edit is already in the session (its first redo, the
    stack's push, does nothing).
    """

    def __init__(self, session: ReviewSession, edit: Edit, text: Optional[str] = None, *,
                 journal: Optional[SessionJournal] = None, seq: Optional[int] = None, applied: bool = False) -> None:
        super().__init__(text or edit.text)
        self.session = session
        self.edit = edit
        self.journal = journal
        self.seq = seq
        self.skip_next = applied
        self.quiet = False

    def redo(self) -> None:
        if self.skip_next or self.quiet:
            self.skip_next = False
            return
        if self.journal is None or self.seq is None:
            self.session.apply(self.edit)  # the journal's listener records it
            if self.journal is not None and not self.journal.pending:
                self.seq = self.journal.head
        else:
            self._move(self.seq, "redo")

    def undo(self) -> None:
        if self.quiet:
            return
        if self.journal is None or self.seq is None:
            self.session.revert(self.edit)
        else:
            self._move(self.journal.db.parent(self.seq), "undo")

    def _move(self, seq: int, action: str) -> None:
        try:
            self.journal.restore(seq, action=action)
        except ReviewError as exc:  # reported by the journal's handler, never raised into Qt
            self.journal.report_error(exc)


def restore_stack(stack: QUndoStack, session: ReviewSession, journal: SessionJournal, limit: int = 500) -> int:
    """Fill the empty ``stack`` with the journal's undo and redo chains; returns the undo steps."""
    done = journal.undo_chain(limit)
    later = journal.redo_chain(limit)
    commands = [EditCommand(session, e, journal=journal, seq=s, applied=True) for s, e in done + later]
    for cmd in commands:
        stack.push(cmd)
    for cmd in commands[len(done):]:
        cmd.quiet = True
    stack.setIndex(len(done))  # the redo part: "undone" without touching the session
    for cmd in commands:
        cmd.quiet = False
    return len(done)


def follow_undo_stack(stack: QUndoStack, undo: QAction, redo: QAction) -> None:
    """Keep the tooltips of fixed-text Undo/Redo actions naming the step from ``stack``.

    (The stack's own actions rename themselves after every command, which makes the
    toolbar jump; here the step to be undone/redone is in the tooltip.)
    """
    stack.undoTextChanged.connect(lambda t: undo.setToolTip(f"Undo: {t} (Ctrl+Z)" if t else "Nothing to undo"))
    stack.redoTextChanged.connect(lambda t: redo.setToolTip(f"Redo: {t} (Ctrl+Shift+Z)" if t else "Nothing to redo"))
