"""Where embarrassingly parallel work (decode, features) runs: in this process or on a cluster.

``make_engine("local")`` runs tasks on this machine's cores; other engines (e.g. ``"dask"``)
run them on workers. Every engine has the same small interface
(:class:`pipeline.engine.base.Engine`). The factory lives here, in the package, so engine
modules import only :mod:`pipeline.engine.base` (no import cycle).
"""
from __future__ import annotations

from typing import Any, Optional

from pipeline.engine.base import Engine, LocalEngine

__all__ = ["Engine", "LocalEngine", "make_engine"]


def make_engine(name: str = "local", *, address: Optional[str] = None, **options: Any) -> Engine:
    """The engine called ``name``; ``address`` is a scheduler address for cluster engines.

    ``"local"`` takes ``workers`` (default: the CPUs this process may use, at most 8):
    with more than one it is a process pool (:class:`~pipeline.engine.local_pool.ProcessPoolEngine`),
    with one it runs tasks in this process.
    """
    if name == "local":
        from pipeline.io.loader import default_workers

        workers = options.pop("workers", None)
        workers = default_workers() if workers is None else max(1, int(workers))
        if workers == 1:
            return LocalEngine()
        from pipeline.engine.local_pool import ProcessPoolEngine

        return ProcessPoolEngine(workers, **options)
    if name == "dask":
        from pipeline.engine.dask_engine import DaskEngine  # optional extra: cluster-review[dask]

        return DaskEngine(address=address, **options)
    raise ValueError(f"unknown engine {name!r}; known: local, dask")
