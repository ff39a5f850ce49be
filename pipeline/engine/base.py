"""The engine interface: map a picklable function over tasks and get results in task order."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Iterable, Iterator, Optional

from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report


class Engine(ABC):
    """Runs ``fn(task)`` for each task; ``fn`` must be a module-level function and tasks and
    results picklable, so any engine (processes, a Dask or Ray cluster) can run them."""

    name: str = "engine"

    def map_ordered(
        self,
        fn: Callable[[Any], Any],
        tasks: Iterable[Any],
        *,
        stage: str = "tasks",
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Iterator[Any]:
        """Yield ``fn(task)`` for every task, in the order of ``tasks``.

        Implementations keep a bounded number of tasks in flight (results are consumed as
        they come, so memory does not grow with the number of tasks), report ``stage``
        progress per finished task and stop at the next task boundary when ``cancel`` is set.
        """
        return self._map(fn, tasks, stage, progress, cancel)

    @abstractmethod
    def _map(self, fn, tasks, stage, progress, cancel) -> Iterator[Any]:
        """What :meth:`map_ordered` runs: each engine's own ordered, bounded map."""

    def close(self) -> None:
        """Release workers or connections (a no-op for the local engine)."""

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LocalEngine(Engine):
    """Runs every task in this process, one after another."""

    name = "local"

    def _map(self, fn, tasks, stage, progress, cancel):
        tasks = list(tasks)
        for i, task in enumerate(tasks):
            check_cancel(cancel)
            yield fn(task)
            report(progress, stage, i + 1, len(tasks))
