"""Progress reporting and cooperative cancellation shared by every pipeline stage.

Stages take ``progress`` (a callable receiving :class:`Progress`) and ``cancel``
(a :class:`CancelToken`); both may be ``None``. Nothing here imports Qt.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional


class Cancelled(Exception):
    """Raised inside a stage when its :class:`CancelToken` was cancelled."""


@dataclass(frozen=True)
class Progress:
    """One progress report: ``done`` of ``total`` units of ``stage``.

    ``metrics`` carries extra figures such as ``{"epoch": 3, "loss": 0.41}`` so a GUI
    can plot training curves. A stage with no countable units (``total <= 0``, or one
    unit not yet done: a single library call such as a PCA fit or a ward linkage) is
    :attr:`indeterminate`: a listener shows that it is busy and for how long, not a fraction.
    """

    stage: str
    done: int
    total: int
    message: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, self.done / self.total)

    @property
    def indeterminate(self) -> bool:
        return self.total <= 0 or (self.total == 1 and self.done < 1)


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """A thread-safe flag; workers poll it via :meth:`raise_if_cancelled`.

    ``event`` may be any object with ``set()`` and ``is_set()``, e.g. a
    ``multiprocessing.Event`` so a parent process can cancel a child's run.
    """

    def __init__(self, event: Any = None) -> None:
        self._event = threading.Event() if event is None else event

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled by user")


def check_cancel(cancel: Optional[CancelToken]) -> None:
    """Raise :class:`Cancelled` if ``cancel`` is set; accept ``None``."""
    if cancel is not None:
        cancel.raise_if_cancelled()


def report(
    progress: Optional[ProgressCallback],
    stage: str,
    done: int,
    total: int,
    message: str = "",
    **metrics: Any,
) -> None:
    """Send a :class:`Progress` to ``progress`` if one was given."""
    if progress is not None:
        progress(Progress(stage, done, total, message, dict(metrics)))


def busy(progress: Optional[ProgressCallback], stage: str, message: str = "") -> None:
    """Report that ``stage`` runs but cannot say how far it is (``total`` 0: indeterminate)."""
    report(progress, stage, 0, 0, message)


def scaled(progress: Optional[ProgressCallback], stage: str) -> Optional[ProgressCallback]:
    """Wrap ``progress`` so sub-steps report under the name ``stage``."""
    if progress is None:
        return None

    def _inner(p: Progress) -> None:
        progress(Progress(stage, p.done, p.total, p.message or p.stage, p.metrics))

    return _inner


def throttled(progress: ProgressCallback, interval_s: float = 0.05) -> ProgressCallback:
    """Forward at most one report per ``interval_s`` within a stage to ``progress``.

    A report that starts a new stage or finishes one (``done >= total``) always passes.
    """
    import time

    last = {"t": 0.0, "stage": None}

    def _forward(p: Progress) -> None:
        now = time.monotonic()
        if p.stage == last["stage"] and p.done < p.total and now - last["t"] < interval_s:
            return
        last["t"], last["stage"] = now, p.stage
        progress(p)

    return _forward
