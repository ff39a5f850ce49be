"""Cluster Review pipeline: images on disk to evaluated clusters. No Qt here."""

__version__ = "0.1.0"
