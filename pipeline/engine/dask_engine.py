"""The Dask engine: run the pipeline's chunk tasks on a ``dask.distributed`` cluster.

``DaskEngine(address="tcp://host:8786")`` connects to a running scheduler (workers
elsewhere; they must have this package installed and see the images: shared storage
or fsspec URLs). Without an address it starts a :class:`distributed.LocalCluster` of
worker *processes* on loopback, which :meth:`DaskEngine.close` shuts down again.

Tasks are submitted with a bounded window (``max_in_flight``, default two per worker
thread): a result is fetched to the driver only when it is its turn, so memory on the
driver does not grow with the number of tasks. Optional extra: ``cluster-review[dask]``.
"""
from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Optional

from pipeline.core.progress import check_cancel, report
from pipeline.engine.base import Engine

try:
    import distributed
except ImportError:  # pragma: no cover - exercised only without the extra
    distributed = None

INSTALL_HINT = "the dask engine needs the optional extra: pip install 'cluster-review[dask]'"
#: Seconds to wait for a scheduler given by address before giving up.
CONNECT_TIMEOUT_S = 10
#: How often a wait wakes up to look at the cancel token.
_POLL_S = 0.2
#: Seconds without any finished task, while the cluster has no worker, before giving up.
NO_WORKER_GRACE_S = 60
_NOT_YET = object()


class EngineError(ValueError):
    """The cluster cannot be reached or started, or lost the work (one plain line)."""


def _probe(address: str, timeout_s: float) -> None:
    """Fail fast, in one line, when nothing listens at a ``tcp://`` address (a Dask client
    would retry until its timeout and then hold the process for seconds at exit)."""
    import socket

    scheme, _, rest = address.partition("://")
    if not rest or scheme != "tcp":
        return
    host, _, port = rest.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise EngineError(f"cannot reach the Dask scheduler at {address}: {reason}") from None


def dask_available() -> bool:
    """Whether ``dask.distributed`` is installed."""
    return distributed is not None


class DaskEngine(Engine):
    """Runs tasks on Dask workers (see the module docstring).

    ``address``: a scheduler address (``tcp://10.0.0.5:8786``); ``None`` starts a local
    cluster of ``n_workers`` processes (default 2) with ``threads_per_worker`` threads.
    ``max_in_flight``: tasks submitted but not yet handed back (default 2 per worker thread).
    ``stall_timeout_s``: give up when no task finishes for this long (default: never while
    the cluster has workers; after :data:`NO_WORKER_GRACE_S` without any).
    ``worker_profiler``: keep Dask's sampling profiler on in local workers (off by default:
    it takes the GIL every 10 ms, which on a busy machine stalls the task thread behind it;
    ``bench/engine.py --profiler`` measures both).
    """

    name = "dask"

    def __init__(
        self,
        address: Optional[str] = None,
        n_workers: Optional[int] = None,
        threads_per_worker: int = 1,
        max_in_flight: Optional[int] = None,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        stall_timeout_s: Optional[float] = None,
        worker_profiler: bool = False,
    ) -> None:
        if distributed is None:
            raise EngineError(INSTALL_HINT)
        if address is not None and n_workers is not None:
            raise EngineError("n_workers is for the local cluster; a scheduler address brings its own workers")
        self.address = address
        self.stall_timeout_s = stall_timeout_s
        self.cluster = None
        if address is None:
            self.cluster = self._start_local(n_workers or 2, threads_per_worker, worker_profiler)
            address = self.cluster.scheduler_address
        else:
            _probe(address, connect_timeout_s)
        try:
            self.client = distributed.Client(address, timeout=f"{connect_timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            self._close_cluster()
            raise EngineError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        threads = sum(self.client.nthreads().values()) or 1
        self.max_in_flight = max(1, int(max_in_flight or 2 * threads))

    @staticmethod
    def _start_local(n_workers: int, threads_per_worker: int, worker_profiler: bool):
        import dask

        try:
            with dask.config.set({"distributed.worker.profile.enabled": bool(worker_profiler)}):
                return distributed.LocalCluster(
                    n_workers=int(n_workers),
                    threads_per_worker=int(threads_per_worker),
                    processes=True,
                    host="127.0.0.1",  # loopback only: nothing is exposed to the network
                    dashboard_address="127.0.0.1:0",  # no fixed port to collide on; loopback only
                    silence_logs=logging.CRITICAL,  # task errors reach the driver as exceptions
                )
        except Exception as exc:
            raise EngineError(f"cannot start a local Dask cluster: {exc}") from None

    @property
    def shares_files(self) -> bool:
        """True when the workers run on this machine (a local cluster): they can open
        files the driver wrote, such as memory-mapped arrays, by path."""
        return self.cluster is not None

    @property
    def n_threads(self) -> int:
        """Worker threads in the cluster now."""
        return sum(self.client.nthreads().values())

    def scatter(self, obj: Any):
        """Put ``obj`` on the workers once; the returned future may stand in a task's
        arguments (Dask hands the worker the object itself).

        Each call gets a fresh key (``hash=False``): with content-hashed keys, scattering rows
        again right after their earlier future was released races the release on the
        scheduler (dask/distributed#8576), and the tasks reading them are cancelled for "lost
        dependencies" or wait forever; ``tests/test_engine_dask.py`` repeats that pattern."""
        return self.client.scatter(obj, hash=False)

    def _map(self, fn, tasks, stage, progress, cancel):
        tasks = list(tasks)
        return self._ordered(fn, tasks, stage, progress, cancel)

    def _ordered(self, fn, tasks, stage, progress, cancel):
        total = len(tasks)
        run_id = uuid.uuid4().hex[:8]
        futures: dict[int, Any] = {}  # index -> future, submitted and not yet handed back
        next_submit = next_yield = finished = 0
        last_progress = time.monotonic()
        try:
            while next_yield < total:
                check_cancel(cancel)
                while next_submit < total and next_submit - next_yield < self.max_in_flight:
                    key = f"{stage}-{run_id}-{next_submit}"
                    futures[next_submit] = self.client.submit(fn, tasks[next_submit], key=key, pure=False)
                    next_submit += 1
                head = futures[next_yield]
                try:
                    result = head.result(timeout=_POLL_S)
                except TimeoutError:
                    result = _NOT_YET
                for f in futures.values():  # fail fast: another task's error need not wait its turn
                    if f.status == "error":
                        f.result()  # raises the task's own exception here, on the driver
                    elif f.status in ("cancelled", "lost"):
                        raise EngineError("the Dask cluster dropped a task (a worker or the scheduler went away)")
                done_now = next_yield + sum(1 for f in futures.values() if f.status == "finished")
                if finished < done_now:
                    last_progress = time.monotonic()
                while finished < done_now:  # one report per finished task
                    finished += 1
                    report(progress, stage, finished, total)
                if result is _NOT_YET:
                    self._check_stalled(stage, time.monotonic() - last_progress)
                if result is not _NOT_YET:
                    del futures[next_yield]
                    head.release()
                    next_yield += 1
                    yield result
        except (OSError, distributed.client.FutureCancelledError) as exc:
            raise EngineError(f"the Dask cluster failed during {stage}: {exc}") from None
        except distributed.KilledWorker as exc:
            raise EngineError(f"a Dask worker died during {stage} (out of memory?): {exc}") from None
        finally:
            if futures:  # cancelled, failed or abandoned by the caller: stop the rest
                try:
                    self.client.cancel(list(futures.values()))
                except Exception:  # a client already closing cannot cancel; nothing is left to stop
                    pass

    def _check_stalled(self, stage: str, idle_s: float) -> None:
        """Raise :class:`EngineError` when the work cannot go on (no workers, or too long idle)."""
        if self.stall_timeout_s is not None and idle_s > self.stall_timeout_s:
            raise EngineError(f"no {stage} task finished on the Dask cluster for {idle_s:.0f} s")
        if idle_s > NO_WORKER_GRACE_S and not self.client.nthreads():
            raise EngineError(f"the Dask cluster has had no workers for {idle_s:.0f} s during {stage}")

    def close(self) -> None:
        """Disconnect; shut down the local cluster if this engine started it. Never raises:
        a worker that does not stop in time is left to the cluster's own clean-up."""
        client = getattr(self, "client", None)
        if client is not None:
            try:
                client.close(timeout=CONNECT_TIMEOUT_S)
            except Exception:  # an unreachable scheduler: nothing is left to disconnect
                pass
            self.client = None
        self._close_cluster()

    def _close_cluster(self) -> None:
        if self.cluster is not None:
            try:
                self.cluster.close(timeout=30)
            except Exception:  # workers that do not stop in time are killed by their nannies' exit
                pass
            self.cluster = None


__all__ = ["DaskEngine", "EngineError", "dask_available", "INSTALL_HINT"]
