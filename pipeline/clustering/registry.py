"""The clustering-method registry: a leaf module that plugins register with.

Methods are functions ``fn(features, k, *, seed, images, progress, cancel, **params)``
returning integer labels (``-1`` = noise). The modules that define them are named here
as strings and imported on the first lookup, so no module imports its plugins and the
plugins import only this module.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from pipeline.core.plugins import PluginRegistry

ClusterFn = Callable[..., np.ndarray]

#: Modules whose methods register themselves on import (Keras loads lazily inside them).
PLUGIN_MODULES = (
    "pipeline.clustering.methods",
    "pipeline.clustering.two_stage",
    "pipeline.deep.dec",
    "pipeline.deep.scan",
    "pipeline.deep.iic",
)

_METHODS = PluginRegistry("clustering method", PLUGIN_MODULES)


def register_method(name: str, needs_k: bool = True) -> Callable[[ClusterFn], ClusterFn]:
    """Decorator: make ``fn`` available as clustering method ``name``."""
    return _METHODS.decorator(name, needs_k=needs_k)


def get_method(name: str) -> ClusterFn:
    """The method registered as ``name``; ``ValueError`` names the known ones."""
    return _METHODS.get(name)


def available_methods() -> list[str]:
    return _METHODS.names()


def method_needs_k(name: str) -> bool:
    return bool(_METHODS.info(name)["needs_k"])
