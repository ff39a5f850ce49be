"""Imports every module whose extractors register themselves with the registry."""
from . import hog, simple  # noqa: F401
from ..deep import extractors  # noqa: F401  (autoencoders, simclr, pretrained; Keras loads lazily)
