"""Registers the deep feature extractors (imported by ``pipeline.features.builtin``).

Keras is imported only when a model is built, so importing this module is cheap.
"""
from . import autoencoders, contrastive, pretrained  # noqa: F401
