"""Clustering: a leaf registry of methods, the methods, k selection, and cluster summaries.

``cluster_features`` is the one entry point; ``summary`` holds the centers / medoids /
linkage code the CLI and the window share.
"""
from pipeline.clustering.api import cluster_features
from pipeline.clustering.registry import available_methods, get_method, method_needs_k, register_method
from pipeline.clustering.summary import (
    ClusterResult,
    ClusterStats,
    KSelection,
    compute_cluster_stats,
    distances_to_center,
    summarize_clusters,
)

__all__ = [
    "ClusterResult", "ClusterStats", "KSelection", "available_methods", "cluster_features",
    "compute_cluster_stats", "distances_to_center", "get_method", "method_needs_k",
    "register_method", "summarize_clusters",
]
