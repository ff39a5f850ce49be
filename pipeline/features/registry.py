"""The feature-extractor registry: a leaf module that extractor classes register with.

The modules that define extractors are named here as strings and imported on the first
lookup, so the registry imports none of them and they import only this module.
"""
from __future__ import annotations

from typing import Any, Callable

from pipeline.core.plugins import PluginRegistry

#: Modules whose extractors register themselves on import (Keras loads lazily inside them).
PLUGIN_MODULES = (
    "pipeline.features.hog",
    "pipeline.features.simple",
    "pipeline.features.multicrop",
    "pipeline.features.guard",
    "pipeline.features.pictogram_prior",
    "pipeline.features.embedding_model",
    "pipeline.deep.autoencoders",
    "pipeline.deep.contrastive",
    "pipeline.deep.pretrained",
    "pipeline.deep.selflabel",
)

_REGISTRY = PluginRegistry("feature extractor", PLUGIN_MODULES)


def register(name: str) -> Callable[[type], type]:
    """Class decorator: make an extractor available under ``name`` (and set its ``name``)."""

    def _decorate(cls: type) -> type:
        cls.name = name
        return _REGISTRY.register(name, cls)

    return _decorate


def extractor_class(name: str) -> type:
    """The class registered as ``name``; ``ValueError`` names the known ones."""
    return _REGISTRY.get(name)


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
    return _REGISTRY.names()
