"""The review session's edits on a ``QUndoStack`` (one command = one undo step).

Bulk actions (naming many clusters, a dendrogram cut) are one :class:`Edit` built by
``ReviewSession.batch``, so they need no command of their own.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtGui import QAction, QUndoCommand, QUndoStack

from pipeline.review import Edit, ReviewSession


class EditCommand(QUndoCommand):
    """Apply one :class:`Edit` on redo, revert it on undo."""

    def __init__(self, session: ReviewSession, edit: Edit, text: Optional[str] = None) -> None:
        super().__init__(text or edit.text)
        self.session = session
        self.edit = edit

    def redo(self) -> None:
        self.session.apply(self.edit)

    def undo(self) -> None:
        self.session.revert(self.edit)


def follow_undo_stack(stack: QUndoStack, undo: QAction, redo: QAction) -> None:
    """Keep the tooltips of fixed-text Undo/Redo actions naming the step from ``stack``.

    (The stack's own actions rename themselves after every command, which makes the
    toolbar jump; here the step to be undone/redone is in the tooltip.)
    """
    stack.undoTextChanged.connect(lambda t: undo.setToolTip(f"Undo: {t} (Ctrl+Z)" if t else "Nothing to undo"))
    stack.redoTextChanged.connect(lambda t: redo.setToolTip(f"Redo: {t} (Ctrl+Shift+Z)" if t else "Nothing to redo"))
