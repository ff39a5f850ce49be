"""Signals emitted from Python must not eat references to True/False (PySide6 6.12.0 bug)."""
import sys

import gui  # noqa: F401
from gui._qt_compat import patch_signal_emit

patch_signal_emit()  # what gui.app.make_application does before any widget exists
from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    value = Signal(int)


def test_many_emits_keep_bool_refcounts():
    e = _Emitter()
    got = []
    e.value.connect(got.append)
    before = (sys.getrefcount(True), sys.getrefcount(False))
    for i in range(20000):  # far more than True's refcount: unpatched 6.12.0 aborts here
        e.value.emit(i)
    after = (sys.getrefcount(True), sys.getrefcount(False))
    assert len(got) == 20000 and got[-1] == 19999
    assert abs(after[0] - before[0]) < 50 and abs(after[1] - before[1]) < 50
