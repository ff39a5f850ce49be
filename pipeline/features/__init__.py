"""Feature extractors: one interface, a registry, and the built-in extractors."""
from .base import FeatureExtractor, available_extractors, make_extractor, register

__all__ = ["FeatureExtractor", "available_extractors", "make_extractor", "register"]
