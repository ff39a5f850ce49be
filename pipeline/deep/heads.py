"""Registers the deep clustering heads (imported by ``pipeline.cluster_methods``): dec, scan, iic."""
from . import dec, iic, scan  # noqa: F401
