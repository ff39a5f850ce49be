"""Feature extractors: one interface, a registry, and the built-in extractors."""
from pipeline.features.base import FeatureExtractor
from pipeline.features.registry import available_extractors, make_extractor, register

__all__ = ["FeatureExtractor", "available_extractors", "make_extractor", "register"]
