"""Say why a pressed shortcut does nothing: its action is disabled in the current state.

Qt drops the key of a disabled action silently (or hands it to the focused view, which
may jump to a row starting with that letter). :class:`DisabledKeyNotice`, an
application event filter, catches a key press in the window that matches a disabled
action's shortcut, posts :func:`gui.actions.disabled_reason` instead and swallows the
key. Keys typed into text fields are left alone, and so are keys inside the widgets
named in ``own_keys`` (a page that claims its letters itself, like the Suspects view).
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

from gui.actions import SPECS, ActionState, disabled_reason

#: Widgets where keys are text, not commands.
TEXT_INPUTS = (QLineEdit, QAbstractSpinBox, QPlainTextEdit, QTextEdit, QComboBox)


class DisabledKeyNotice(QObject):
    """See the module docstring; ``state`` builds the window's current :class:`ActionState`."""

    def __init__(self, window: QWidget, actions: Mapping[str, QAction], state: Callable[[], ActionState],
                 say: Callable[[str], None], own_keys: Sequence[QWidget] = ()) -> None:
        super().__init__(window)
        self.own_keys = tuple(own_keys)
        self.window = window
        self.actions = actions
        self.state = state
        self.say = say

    def eventFilter(self, obj, event) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(obj, QWidget):
            return False
        if obj.window() is not self.window or isinstance(obj, TEXT_INPUTS) or event.isAutoRepeat():
            return False
        if any(owner is obj or owner.isAncestorOf(obj) for owner in self.own_keys):
            return False
        action_id = self.disabled_action_for(event)
        if action_id is None:
            return False
        self.say(disabled_reason(SPECS[action_id], self.state()))
        return True

    def disabled_action_for(self, event: QKeyEvent):
        """The id of the disabled action whose shortcut ``event`` is, or None."""
        pressed = QKeySequence(event.keyCombination())
        for action_id, act in self.actions.items():
            if act.isEnabled():
                continue
            if any(seq.matches(pressed) == QKeySequence.SequenceMatch.ExactMatch for seq in act.shortcuts()):
                return action_id
        return None
