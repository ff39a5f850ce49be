"""One long-lived worker thread for all model work (pipeline runs, re-clustering, exports).

TensorFlow/Keras state must stay on one thread, so every job the window submits runs
on the same thread, one after another. A job is a plain function
``fn(progress, cancel) -> result`` (Qt-free). The worker thread never touches Qt: it
puts events (started, progress, result, error) on a queue that a timer on the GUI
thread drains, emitting the :class:`Job` handle's signals there. (Emitting PySide
signals from non-Qt threads at a high rate crashed the interpreter in testing; this
keeps every signal on the GUI thread.) Progress reports are throttled so a stage
that reports every image cannot flood the event loop.
"""
from __future__ import annotations

import itertools
import queue
import threading
import time
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QTimer, Signal

from pipeline.core.errors import describe_error
from pipeline.core.progress import Cancelled, CancelToken, Progress, throttled

JobFn = Callable[[Callable[[Progress], None], CancelToken], Any]

PROGRESS_INTERVAL_S = 0.05
POLL_INTERVAL_MS = 15
#: Imported on the model thread when the window opens (what a first run would import).
WARM_UP_MODULES = (
    "pipeline.run", "pipeline.io.loader", "pipeline.clustering.methods", "pipeline.evaluate", "pipeline.clustering.kselect",
    "pipeline.features.hog", "pipeline.reduction", "sklearn.cluster", "sklearn.decomposition",
    "sklearn.metrics", "scipy.cluster.hierarchy", "PIL.JpegImagePlugin", "PIL.PngImagePlugin",
    "pipeline.mislabels", "pipeline.project.suspects_cache",  # imported when a project is installed
    "pipeline.suggest",  # imported on the UI thread by the first install's suggestions
)

_ids = itertools.count(1)


class Job(QObject):
    """Handle for one submitted job; lives on the GUI thread, its signals fire there."""

    started = Signal()
    progress = Signal(object)  # Progress
    finished = Signal(object)  # the function's result
    failed = Signal(str, str)  # message, traceback
    cancelled = Signal()

    def __init__(self, name: str, fn: JobFn, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.id = next(_ids)
        self.name = name
        self.fn: Optional[JobFn] = fn
        self.cancel_token = CancelToken()
        self.started_at: Optional[float] = None
        self.done = False  # set on the GUI thread when the outcome is delivered
        self.background = False

    def cancel(self) -> None:
        self.cancel_token.cancel()


def _run_job(job: Job, events: "queue.Queue") -> None:
    """Worker thread: run one job, reporting through ``events`` only."""
    if job.cancel_token.cancelled:
        events.put((job, "cancelled", None))
        return
    events.put((job, "started", time.monotonic()))

    def _progress(p: Progress) -> None:
        events.put((job, "progress", p))

    fn, job.fn = job.fn, None  # drop the closure (it may hold large arrays) once run
    try:
        result = fn(throttled(_progress, PROGRESS_INTERVAL_S), job.cancel_token)
    except Cancelled:
        events.put((job, "cancelled", None))
    except BaseException as exc:  # a failed run is shown in the window, never a crash
        events.put((job, "failed", describe_error(exc)))
    else:
        events.put((job, "cancelled" if job.cancel_token.cancelled else "finished", result))


def _serve(jobs_in: "queue.Queue[Optional[Job]]", events: "queue.Queue") -> None:
    """The model thread: run queued jobs one after another until ``None`` arrives."""
    while True:
        job = jobs_in.get()
        if job is None:
            return
        _run_job(job, events)
        del job  # no reference to a finished job waits here for the next one


class ModelWorker(QObject):
    """Owns the dedicated model thread; :meth:`submit` queues a job on it."""

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._jobs_in: "queue.Queue[Optional[Job]]" = queue.Queue()
        self._events: "queue.Queue" = queue.Queue()
        self._jobs: list[Job] = []
        self._stopped = False
        # The thread gets the queues, not this QObject: it must never drop the last reference to it.
        self._thread = threading.Thread(target=_serve, args=(self._jobs_in, self._events),
                                        name="cluster-review-model", daemon=True)
        self._thread.start()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self._drain)

    # -- GUI thread ------------------------------------------------------------------
    def warm_up(self, modules: tuple[str, ...] = WARM_UP_MODULES) -> Job:
        """Import heavy modules on the model thread now, so a later run does not pause
        the UI thread on C-extension imports (which hold the GIL)."""
        import importlib

        def _import(progress, cancel):
            for name in modules:
                try:
                    importlib.import_module(name)
                except ImportError:  # optional or renamed module: the run will say what is missing
                    pass
            return None

        job = self.create("warm-up", _import)
        job.background = True
        return self.start(job)

    def create(self, name: str, fn: JobFn) -> Job:
        """A job not started yet: connect to its signals, then :meth:`start` it."""
        return Job(name, fn, parent=self)

    def start(self, job: Job, delay_ms: int = 0) -> Job:
        """Queue ``job`` (counted by :meth:`busy` at once); ``delay_ms``: hand it to the thread that much later."""
        self._jobs = [j for j in self._jobs if not j.done]
        self._jobs.append(job)
        if delay_ms > 0:
            QTimer.singleShot(delay_ms, self, lambda: self._hand_over(job))
        else:
            self._hand_over(job)
        return job

    def _hand_over(self, job: Job) -> None:
        if self._stopped:
            return
        self._jobs_in.put(job)
        if not self._timer.isActive():
            self._timer.start()

    def submit(self, name: str, fn: JobFn) -> Job:
        """Create and start a job (for callers that connect nothing)."""
        return self.start(self.create(name, fn))

    def _drain(self) -> None:
        """Deliver queued worker events as the jobs' signals (GUI thread)."""
        while True:
            try:
                job, kind, payload = self._events.get_nowait()
            except queue.Empty:
                break
            if kind == "started":
                job.started_at = payload
                job.started.emit()
            elif kind == "progress":
                job.progress.emit(payload)
            else:
                job.done = True
                if kind == "finished":
                    job.finished.emit(payload)
                elif kind == "failed":
                    job.failed.emit(*payload)
                else:
                    job.cancelled.emit()
        if not any(not j.done for j in self._jobs):
            self._timer.stop()

    def busy(self) -> bool:
        """True while a foreground job (not the warm-up) is queued or running."""
        return any(not j.done and not j.background for j in self._jobs)

    def idle(self) -> bool:
        return all(j.done for j in self._jobs)

    def cancel_all(self) -> None:
        for job in list(self._jobs):
            job.cancel()

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Cancel pending work and stop the thread (waits for the running job to notice)."""
        self.cancel_all()
        self._stopped = True
        self._timer.stop()
        self._jobs_in.put(None)
        self._thread.join(timeout_s)
