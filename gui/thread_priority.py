"""Background threads of the window run "nicer" than the UI thread (Linux: niceness is per thread).

The thumbnail decoders call :func:`lower_thread_priority` when they start, so scrolling keeps the
CPU. The model thread does not: it runs the reviewer's own jobs (split, export, the pipeline child it
starts inherits its niceness) and, niced, fell far behind on a loaded machine. Elsewhere it does nothing.
"""
from __future__ import annotations

import os
import sys
import threading

#: How much nicer than the UI thread background threads run.
BACKGROUND_NICENESS = 5


def lower_thread_priority(step: int = BACKGROUND_NICENESS) -> None:
    """Make the calling thread ``step`` nicer (at most 19); a refusal by the OS is ignored."""
    if not (sys.platform.startswith("linux") and hasattr(os, "setpriority")):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + step))
    except OSError:
        pass


__all__ = ["BACKGROUND_NICENESS", "lower_thread_priority"]
