"""Stage, progress bar, elapsed / remaining time and Cancel, for the status bar.

A stage that can count its work shows a filling bar and the time left in it; a stage
that cannot (:attr:`Progress.indeterminate`: a PCA fit, a ward linkage) shows a busy bar
and how long it has run. The labels shorten with "…" (full text in the tooltip), so the
panel fits a narrow window without its text running under the Cancel button.
"""
from __future__ import annotations

import math
import time
from typing import Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QSizePolicy, QWidget

from pipeline.core.progress import Progress

from gui.widgets.status_line import ElidedLabel


def format_seconds(s: float) -> str:
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
        self.stage = ElidedLabel()
        self.stage.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.stage.setMinimumWidth(60)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setMinimumWidth(60)
        self.bar.setMaximumWidth(200)
        self.bar.setTextVisible(False)
        self.times = ElidedLabel()
        self.times.setElideMode(Qt.TextElideMode.ElideLeft)
        self.times.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)  # the stage gives way
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancel_clicked)
        lay.addWidget(self.stage, 1)  # the stage text gives way first; the times keep their room
        lay.addWidget(self.bar)
        lay.addWidget(self.times)
        lay.addWidget(self.cancel)
        self._t0 = 0.0
        self._stage_name: Optional[str] = None
        self._stage_t0 = 0.0
        self._fraction = 0.0
        self._indeterminate = True
        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self._tick)
        self.hide()

    def start(self, title: str) -> None:
        self._t0 = time.monotonic()
        self._stage_name, self._fraction, self._indeterminate = None, 0.0, True
        self._set_stage(title)
        self.bar.setRange(0, 0)  # busy until the first countable report
        self.cancel.setEnabled(True)
        self.show()
        self.timer.start()
        self._tick()

    def update_progress(self, p: Progress) -> None:
        now = time.monotonic()
        if p.stage != self._stage_name:
            self._stage_name, self._stage_t0 = p.stage, now
        self._fraction = p.fraction
        self._indeterminate = p.indeterminate
        self._set_stage(p.stage + (f" — {p.message}" if p.message and p.message != p.stage else ""))
        if p.indeterminate:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * p.fraction))
        self._tick()

    def _set_stage(self, text: str) -> None:
        self.stage.setText(text)
        self.stage.setToolTip(text)

    def times_text(self) -> str:
        """``elapsed 1:12 · 14s left`` (countable stage) or ``busy 1:05 · elapsed 1:12`` (busy: time in the stage)."""
        now = time.monotonic()
        elapsed = f"elapsed {format_seconds(now - self._t0)}"
        if self._stage_name is None:
            return elapsed
        in_stage = now - self._stage_t0
        if self._indeterminate:
            return f"busy {format_seconds(in_stage)} · {elapsed}"
        if 0.02 < self._fraction < 1.0:
            remaining = in_stage * (1.0 - self._fraction) / self._fraction
            return f"{elapsed} · {format_seconds(remaining)} left"
        return elapsed

    def _tick(self) -> None:
        text = self.times_text()
        self.times.setText(text)
        self.times.setToolTip(text)

    def cancelling(self) -> None:
        self.cancel.setEnabled(False)
        self._set_stage("Cancelling…")

    def stop(self) -> None:
        self.timer.stop()
        self.hide()
