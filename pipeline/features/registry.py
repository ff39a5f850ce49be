"""The feature-extractor registry: a leaf module that extractor classes register with.

The modules that define extractors are named here as strings and imported on the first
lookup, so the registry imports none of them and they import only this module.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

#: Modules whose extractors register themselves on import (Keras loads lazily inside them).
PLUGIN_MODULES = (
    "pipeline.features.hog",
    "pipeline.features.simple",
    "pipeline.deep.autoencoders",
    "pipeline.deep.contrastive",
    "pipeline.deep.pretrained",
)

_REGISTRY: dict[str, type] = {}
_loaded = False


def register(name: str) -> Callable[[type], type]:
    """Class decorator: make an extractor available under ``name``."""

    def _decorate(cls: type) -> type:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return _decorate


def load_plugins() -> None:
    """Import every module in :data:`PLUGIN_MODULES` once."""
    global _loaded
    if not _loaded:
        for module in PLUGIN_MODULES:
            importlib.import_module(module)
        _loaded = True


def extractor_class(name: str) -> type:
    """The class registered as ``name``; ``ValueError`` names the known ones."""
    load_plugins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown feature extractor {name!r}; known: {sorted(_REGISTRY)}") from None


def make_extractor(name: str, **params: Any):
    """Instantiate the registered extractor ``name`` with ``params``.

    ``ValueError`` names the accepted parameters when one is not among them.
    """
    cls = extractor_class(name)
    known = extractor_param_names(name)
    unknown = set(params) - set(known)
    if unknown:
        raise ValueError(f"{name}: unknown parameters {sorted(unknown)}; known: {sorted(known)}")
    return cls(**params)


def extractor_param_names(name: str) -> list[str]:
    """The ``__init__`` keywords of extractor ``name`` (scikit-learn's ``_get_param_names``)."""
    return list(extractor_class(name)._get_param_names())


def available_extractors() -> list[str]:
    load_plugins()
    return sorted(_REGISTRY)
