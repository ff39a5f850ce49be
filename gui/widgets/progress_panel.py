"""Stage, progress bar, elapsed / remaining time and Cancel, for the status bar."""
from __future__ import annotations

import math
import time
from typing import Optional

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from pipeline.core.progress import Progress


def _format_seconds(s: float) -> str:
    if not math.isfinite(s):
        return "–"
    s = int(round(s))
    return f"{s // 60}:{s % 60:02d}" if s >= 60 else f"{s}s"


class ProgressPanel(QWidget):
    """Stage label, progress bar, elapsed / remaining time and Cancel, for the status bar."""

    cancel_clicked = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.stage = QLabel()
        self.stage.setMinimumWidth(220)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(220)
        self.times = QLabel()
        self.times.setMinimumWidth(170)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancel_clicked)
        for w in (self.stage, self.bar, self.times, self.cancel):
            lay.addWidget(w)
        self._t0 = 0.0
        self._stage_name: Optional[str] = None
        self._stage_t0 = 0.0
        self._fraction = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self._tick)
        self.hide()

    def start(self, title: str) -> None:
        self._t0 = time.monotonic()
        self._stage_name, self._fraction = None, 0.0
        self.stage.setText(title)
        self.bar.setValue(0)
        self.cancel.setEnabled(True)
        self.show()
        self.timer.start()
        self._tick()

    def update_progress(self, p: Progress) -> None:
        now = time.monotonic()
        if p.stage != self._stage_name:
            self._stage_name, self._stage_t0 = p.stage, now
        self._fraction = p.fraction
        text = p.stage + (f" — {p.message}" if p.message and p.message != p.stage else "")
        self.stage.setText(text[:80])
        if p.total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * p.fraction))
        else:
            self.bar.setRange(0, 0)
        self._tick()

    def _tick(self) -> None:
        now = time.monotonic()
        elapsed = now - self._t0
        remaining = float("nan")
        if self._stage_name is not None and 0.02 < self._fraction < 1.0:
            st = now - self._stage_t0
            remaining = st * (1.0 - self._fraction) / self._fraction
        rem = f" · {_format_seconds(remaining)} left in stage" if math.isfinite(remaining) else ""
        self.times.setText(f"elapsed {_format_seconds(elapsed)}{rem}")

    def cancelling(self) -> None:
        self.cancel.setEnabled(False)
        self.stage.setText("Cancelling…")

    def stop(self) -> None:
        self.timer.stop()
        self.hide()
