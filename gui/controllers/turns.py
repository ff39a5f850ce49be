"""Work split over event-loop turns, so no single turn holds the UI thread long.

:class:`TurnQueue` runs queued steps one per turn (a zero-interval timer between them,
so paints and input are handled in between); steps queued while it runs go to the end.
A step whose timer fires late (a paint or another timer held the loop since it was armed) waits
one more turn, so the timers and input that are due run first instead of adding up with it;
:attr:`TurnQueue.drained` is emitted once the last one ran. :meth:`TurnQueue.clear`
drops what has not run yet (a newer install replaces an older one).
"""
from __future__ import annotations

import time
from collections import deque
from typing import Callable, Optional

from PySide6.QtCore import QObject, QTimer, Signal


#: A step's timer that fires this much later than armed waits one more turn (at most MAX_WAITS in a row).
LATE_MS, MAX_WAITS = 4.0, 2


class TurnQueue(QObject):
    """Steps run one per event-loop turn; see the module docstring."""

    drained = Signal()

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._steps: deque[Callable[[], object]] = deque()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._run_one)
        self._armed_at = 0.0
        self._waits = 0

    def add(self, step: Callable[[], object]) -> None:
        """Run ``step`` in a later turn, after every step queued before it."""
        self._steps.append(step)
        if not self._timer.isActive():
            self._arm()

    def _arm(self) -> None:
        self._armed_at = time.perf_counter()
        self._timer.start()

    def pending(self) -> bool:
        return bool(self._steps)

    def clear(self) -> None:
        self._steps.clear()
        self._timer.stop()

    def _run_one(self) -> None:
        if not self._steps:
            return
        if (time.perf_counter() - self._armed_at) * 1000.0 > LATE_MS and self._waits < MAX_WAITS:
            self._waits += 1
            self._arm()
            return
        self._waits = 0
        step = self._steps.popleft()
        try:
            step()
        finally:
            if self._steps:
                self._arm()
            else:
                self.drained.emit()
