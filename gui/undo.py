"""QUndoCommands wrapping review-model edits (one command = one undo step)."""
from __future__ import annotations

from typing import Callable, Iterable, Optional

from PySide6.QtGui import QUndoCommand

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


class BatchCommand(QUndoCommand):
    """Several edits as a single undo step (bulk naming, a dendrogram cut...).

    Edits may depend on each other (each builder sees the state left by the previous
    one), so :meth:`build` applies them while building; the first ``redo`` that
    ``QUndoStack.push`` calls is then skipped.
    """

    def __init__(self, session: ReviewSession, edits: list[Edit], text: str, applied: bool) -> None:
        super().__init__(text)
        self.session = session
        self.edits = edits
        self._skip_redo = applied

    @classmethod
    def build(
        cls, session: ReviewSession, builders: Iterable[Callable[[], Edit]], text: str
    ) -> Optional["BatchCommand"]:
        """Build and apply each edit in turn; ``None`` when nothing changed.

        If a builder raises, the edits applied so far are reverted and the error re-raised.
        """
        edits: list[Edit] = []
        try:
            for make in builders:
                edit = make()
                if edit.is_empty:
                    continue
                session.apply(edit)
                edits.append(edit)
        except Exception:
            for edit in reversed(edits):
                session.revert(edit)
            raise
        if not edits:
            return None
        return cls(session, edits, text, applied=True)

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        for edit in self.edits:
            self.session.apply(edit)

    def undo(self) -> None:
        for edit in reversed(self.edits):
            self.session.revert(edit)
