"""Where embarrassingly parallel work (decode, features) runs: in this process or on a cluster.

``make_engine("local")`` runs tasks here; other engines (e.g. ``"dask"``) run them on workers.
Every engine has the same small interface (:class:`pipeline.engine.base.Engine`).
"""
from pipeline.engine.base import Engine, LocalEngine, make_engine

__all__ = ["Engine", "LocalEngine", "make_engine"]
