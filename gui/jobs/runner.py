"""One foreground job at a time on the model thread, with done/failed callbacks.

The Orange3 ``ConcurrentWidgetMixin`` shape: :meth:`JobRunner.start` hands a Qt-free
``fn(progress, cancel)`` to the :class:`~gui.jobs.worker.ModelWorker` thread and calls
``on_done(result)`` on the GUI thread; failures and cancels become signals the window
shows. A failing ``on_done`` is reported like a failed job, never raised.
"""
from __future__ import annotations

import traceback
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, Signal

from gui.jobs.worker import Job, JobFn, ModelWorker


#: A foreground job reaches the model thread this much after its start is shown: the window's own
#: start-up work and repaint (lock, status, progress bar) would otherwise share the interpreter
#: with the job's first Python loops (a 40-60 ms stall at the start of reading a stored result).
START_DELAY_MS = 20


class JobRunner(QObject):
    """Runs named jobs on one :class:`ModelWorker`; refuses a second while one runs."""

    job_started = Signal(str, object)  # title, Job (connect to job.progress for updates)
    job_over = Signal()  # finished, failed or cancelled: busy() may have changed
    job_finished = Signal(str)  # job name
    job_failed = Signal(str, str)  # job name, message ("cancelled" when cancelled)
    error = Signal(str, str)  # message for the window, traceback
    message = Signal(str, int)  # status text, milliseconds

    def __init__(self, parent: Optional[QObject] = None, warm_up: bool = True) -> None:
        super().__init__(parent)
        self.worker = ModelWorker(self)
        if warm_up:
            self.worker.warm_up()
        self.active: Optional[Job] = None

    def busy(self) -> bool:
        return self.worker.busy()

    def start(self, title: str, fn: JobFn, on_done: Callable[[Any], None],
              name: Optional[str] = None) -> Optional[Job]:
        """Run ``fn`` on the model thread; ``None`` (and an error shown) while another job runs."""
        if self.worker.busy():
            self.error.emit("Another job is still running; wait for it or cancel it first.", "")
            return None
        job = self.worker.create(name or title, fn)
        self.active = job
        job.finished.connect(lambda result: self._finished(job, title, on_done, result))
        job.failed.connect(lambda message, tb: self._failed(job, title, message, tb))
        job.cancelled.connect(lambda: self._cancelled(job, title))
        self.worker.start(job, delay_ms=START_DELAY_MS)
        self.job_started.emit(title, job)
        return job

    def cancel(self) -> bool:
        """Ask the running job to stop; False when none runs."""
        if self.active is None:
            return False
        self.active.cancel()
        return True

    def shutdown(self) -> None:
        self.worker.shutdown()

    # -- outcomes (GUI thread) ----------------------------------------------------------
    def _over(self) -> None:
        self.active = None
        self.job_over.emit()

    def _finished(self, job: Job, title: str, on_done: Callable[[Any], None], result: Any) -> None:
        self._over()
        try:
            on_done(result)
        except Exception as exc:  # a failed install is shown, never a crash
            self.error.emit(f"{title} failed: {exc}", traceback.format_exc())
            self.job_failed.emit(job.name, str(exc))
            return
        self.job_finished.emit(job.name)

    def _failed(self, job: Job, title: str, message: str, tb: str) -> None:
        self._over()
        self.error.emit(f"{title} failed: {message}", tb)
        self.job_failed.emit(job.name, message)

    def _cancelled(self, job: Job, title: str) -> None:
        self._over()
        self.message.emit(f"{title}: cancelled", 5000)
        self.job_failed.emit(job.name, "cancelled")
