"""The clustering-method registry: a leaf module that plugins register with.

Methods are functions ``fn(features, k, *, seed, images, progress, cancel, **params)``
returning integer labels (``-1`` = noise). The modules that define them are named here
as strings and imported on the first lookup, so no module imports its plugins and the
plugins import only this module.
"""
from __future__ import annotations

import importlib
from typing import Callable

import numpy as np

ClusterFn = Callable[..., np.ndarray]

#: Modules whose methods register themselves on import (Keras loads lazily inside them).
PLUGIN_MODULES = (
    "pipeline.clustering.methods",
    "pipeline.deep.dec",
    "pipeline.deep.scan",
    "pipeline.deep.iic",
)

_METHODS: dict[str, ClusterFn] = {}
_NEEDS_K: dict[str, bool] = {}
_loaded = False


def register_method(name: str, needs_k: bool = True) -> Callable[[ClusterFn], ClusterFn]:
    """Decorator: make ``fn`` available as clustering method ``name``."""

    def _decorate(fn: ClusterFn) -> ClusterFn:
        _METHODS[name] = fn
        _NEEDS_K[name] = needs_k
        return fn

    return _decorate


def load_plugins() -> None:
    """Import every module in :data:`PLUGIN_MODULES` once."""
    global _loaded
    if not _loaded:
        for module in PLUGIN_MODULES:
            importlib.import_module(module)
        _loaded = True


def get_method(name: str) -> ClusterFn:
    """The method registered as ``name``; ``ValueError`` names the known ones."""
    load_plugins()
    try:
        return _METHODS[name]
    except KeyError:
        raise ValueError(f"unknown clustering method {name!r}; known: {sorted(_METHODS)}") from None


def available_methods() -> list[str]:
    load_plugins()
    return sorted(_METHODS)


def method_needs_k(name: str) -> bool:
    get_method(name)
    return _NEEDS_K[name]
