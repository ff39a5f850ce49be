"""Imports every module whose extractors register themselves with the registry."""
from . import hog, simple  # noqa: F401
