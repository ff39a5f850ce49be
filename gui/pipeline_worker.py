"""One long-lived worker thread for all model work (pipeline runs, re-clustering).

TensorFlow/Keras state must stay on one thread, so every job the window submits runs
on the same ``QThread``, one after another. A job is a plain function
``fn(progress, cancel) -> result`` (Qt-free); its :class:`Job` handle emits
``progress``/``finished``/``failed``/``cancelled`` on the GUI thread. Progress reports
are throttled so a stage that reports every image cannot flood the event loop.
"""
from __future__ import annotations

import itertools
import threading
import time
import traceback
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QThread, Signal, Slot

from pipeline.progress import Cancelled, CancelToken, Progress

JobFn = Callable[[Callable[[Progress], None], CancelToken], Any]

PROGRESS_INTERVAL_S = 0.05


class Job(QObject):
    """Handle for one submitted job; lives on the GUI thread."""

    started = Signal()
    progress = Signal(object)  # Progress
    finished = Signal(object)  # the function's result
    failed = Signal(str, str)  # message, traceback
    cancelled = Signal()

    def __init__(self, name: str, fn: JobFn, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.id = next(_ids)
        self.name = name
        self.fn = fn
        self.cancel_token = CancelToken()
        self.started_at: Optional[float] = None
        self.done = False

    def cancel(self) -> None:
        self.cancel_token.cancel()


_ids = itertools.count(1)


class _Runner(QObject):
    """Lives on the worker thread; runs jobs in submission order."""

    @Slot(object)
    def run(self, job: Job) -> None:
        if job.cancel_token.cancelled:
            job.done = True
            job.cancelled.emit()
            return
        job.started_at = time.monotonic()
        job.started.emit()
        last = {"t": 0.0, "stage": None}
        lock = threading.Lock()

        def _progress(p: Progress) -> None:
            now = time.monotonic()
            with lock:
                if p.stage == last["stage"] and p.done < p.total and now - last["t"] < PROGRESS_INTERVAL_S:
                    return
                last["t"], last["stage"] = now, p.stage
            job.progress.emit(p)

        fn, job.fn = job.fn, None  # drop the closure (it may hold large arrays) once run
        try:
            result = fn(_progress, job.cancel_token)
        except Cancelled:
            job.done = True
            job.cancelled.emit()
        except BaseException as exc:  # a failed run is shown in the window, never a crash
            job.done = True
            message = str(exc) or type(exc).__name__
            job.failed.emit(f"{type(exc).__name__}: {message}", traceback.format_exc())
        else:
            job.done = True
            if job.cancel_token.cancelled:
                job.cancelled.emit()
            else:
                job.finished.emit(result)


class ModelWorker(QObject):
    """Owns the dedicated model thread; :meth:`submit` queues a job on it."""

    _dispatch = Signal(object)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("cluster-review-model-thread")
        self._runner = _Runner()
        self._runner.moveToThread(self._thread)
        self._dispatch.connect(self._runner.run)
        self._thread.start()
        self._jobs: list[Job] = []

    def create(self, name: str, fn: JobFn) -> Job:
        """A job not started yet: connect to its signals, then :meth:`start` it.

        (Connecting after the start would race a fast job, whose signals could be
        emitted before anyone listens.)
        """
        return Job(name, fn, parent=self)

    def start(self, job: Job) -> Job:
        # Jobs are small and never deleted explicitly: a deleteLater() from one slot
        # could drop the job's still-queued signal deliveries to the other slots.
        self._jobs = [j for j in self._jobs if not j.done]
        self._jobs.append(job)
        self._dispatch.emit(job)
        return job

    def submit(self, name: str, fn: JobFn) -> Job:
        """Create and start a job (for callers that only poll :attr:`Job.done`)."""
        return self.start(self.create(name, fn))

    def busy(self) -> bool:
        return any(not j.done for j in self._jobs)

    def cancel_all(self) -> None:
        for job in list(self._jobs):
            job.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel pending work and stop the thread (waits for the running job to notice)."""
        self.cancel_all()
        self._thread.quit()
        self._thread.wait(timeout_ms)
