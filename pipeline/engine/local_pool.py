"""The local engine on several cores: a process pool with a bounded number of tasks in flight.

Processes, not threads: decoding small JPEGs holds the GIL in Pillow's header parsing, so
threads barely help a decode-and-describe chunk (the loader's docstring has the measurements:
process pool of 2 = 1.75-1.85x serial, threads 1.05x; chunks therefore describe their images on
one thread, while in-memory runs thread HOG alone: :func:`pipeline.features.base.feature_threads`). The pool is
*forked* on Linux when no other Python thread runs (instant start, no re-import of
``__main__``) and *spawned* otherwise (safe inside a GUI or TensorFlow process).
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Optional

from pipeline.core.progress import check_cancel, report
from pipeline.engine.base import Engine


def pool_context() -> str:
    """``"fork"`` where forking is safe and cheap (Linux, one thread), else ``"spawn"``."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


#: Seconds between a worker's checks that the process that started it is still alive.
PARENT_CHECK_S = 1.0


def _exit_with_parent(parent: int) -> None:
    """Pool initializer: end this worker once ``parent`` is gone (a killed driver would otherwise
    leave its workers waiting for tasks forever)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class ProcessPoolEngine(Engine):
    """Runs tasks on ``workers`` local processes, at most ``in_flight`` (default 2 x workers)
    submitted at once, yielding results in task order."""

    name = "local"

    def __init__(self, workers: int = 2, *, in_flight: Optional[int] = None, context: Optional[str] = None) -> None:
        self.workers = max(1, int(workers))
        self.in_flight = max(1, int(in_flight or 2 * self.workers))
        self.context = context
        self._pool: Optional[ProcessPoolExecutor] = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context(self.context or pool_context())
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                             initializer=_exit_with_parent, initargs=(os.getpid(),))
        return self._pool

    def _map(self, fn, tasks, stage, progress, cancel):
        total = len(tasks) if hasattr(tasks, "__len__") else 0
        pool = self._executor()
        queue = iter(tasks)
        pending: dict[int, Any] = {}  # task number -> future
        submitted = yielded = 0
        try:
            while True:
                while len(pending) < self.in_flight:
                    task = next(queue, _END)
                    if task is _END:
                        break
                    pending[submitted] = pool.submit(fn, task)
                    submitted += 1
                if yielded not in pending:
                    break
                check_cancel(cancel)
                future = pending[yielded]
                while not future.done():
                    check_cancel(cancel)
                    wait([future], timeout=0.2, return_when=FIRST_COMPLETED)
                result = future.result()
                del pending[yielded]
                yielded += 1
                report(progress, stage, yielded, max(total, yielded))
                yield result
            check_cancel(cancel)
        finally:
            for future in pending.values():
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


_END = object()
