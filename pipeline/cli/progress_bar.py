"""A terminal progress bar fed by pipeline :class:`~pipeline.core.progress.Progress` reports."""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO

from pipeline.core.progress import Progress


class TextProgressBar:
    """Redraws one line per stage on a terminal; prints plain lines when not a TTY."""

    def __init__(self, stream: Optional[TextIO] = None, width: int = 30, min_interval: float = 0.2) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.min_interval = min_interval
        self._stage = None
        self._last = 0.0
        self._start = time.perf_counter()
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, p: Progress) -> None:
        now = time.perf_counter()
        new_stage = p.stage != self._stage
        finished = p.total > 0 and p.done >= p.total
        if not (new_stage or finished or now - self._last >= self.min_interval):
            return
        if new_stage and self._stage is not None and self._tty:
            self.stream.write("\n")
        self._stage, self._last = p.stage, now
        filled = int(self.width * p.fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        extra = f" {p.message}" if p.message else ""
        line = f"[{now - self._start:7.1f}s] {p.stage:<28} [{bar}] {p.done}/{p.total}{extra}"
        if self._tty:
            self.stream.write("\r" + line[:160])
        elif new_stage or finished:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._tty and self._stage is not None:
            self.stream.write("\n")
            self.stream.flush()
