"""Work-arounds for bugs in the installed Qt binding, applied once when ``gui`` is imported.

PySide6 6.12.0: ``SignalInstance.emit()`` returns ``True`` without taking a reference,
so every signal emitted from Python (ours, pyqtgraph's, pytest-qt's) lowers the
reference count of ``True`` by one until the interpreter aborts with
"Fatal Python error: bool_dealloc" (after a few hundred to a few thousand emits on
Python 3.11). 6.11.3 does not have the bug. :func:`patch_signal_emit` measures whether
the running binding leaks and, only then, wraps ``emit`` to restore the reference.
"""
from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal, SignalInstance

_PATCHED = False


def emit_leaks_bool_reference(trials: int = 16) -> bool:
    """True when emitting a signal from Python drops a reference to ``True``/``False``."""

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True) + sys.getrefcount(False)
    for _ in range(trials):
        probe.ping.emit()
    after = sys.getrefcount(True) + sys.getrefcount(False)
    leaked = before - after
    # Put back what the probe itself took.
    for _ in range(max(0, leaked)):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return leaked >= trials


def patch_signal_emit() -> bool:
    """Wrap ``SignalInstance.emit`` if (and only if) it leaks; returns whether it patched."""
    global _PATCHED
    if _PATCHED:
        return True
    if not emit_leaks_bool_reference():
        return False
    original = SignalInstance.emit
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]

    def emit(self, *args):
        result = original(self, *args)
        if result is True or result is False:
            incref(result)
        return result

    emit.__doc__ = original.__doc__
    SignalInstance.emit = emit
    _PATCHED = True
    return True
