"""How many images a clustering configuration needs, checked before any work is done.

:func:`fit_to_images` turns a configuration that cannot work on ``n`` images into one
plain message naming the minimum (instead of a scikit-learn traceback half-way through
a run), and returns the configuration actually used (a ``k_range`` above ``n`` is cut
to ``n``), which is what ``metrics.json`` records.
"""
from __future__ import annotations

import inspect
from dataclasses import replace
from typing import Any, Optional

from pipeline.clustering.overcluster import overcluster_k
from pipeline.clustering.registry import get_method, method_needs_k


def _default_param(method: str, name: str) -> Any:
    try:
        parameter = inspect.signature(get_method(method)).parameters.get(name)
    except ValueError:
        return None
    return None if parameter is None or parameter.default is inspect.Parameter.empty else parameter.default


def minimum_images(config) -> tuple[int, str]:
    """``(n, why)``: the fewest images ``config`` (a PipelineConfig) can cluster, and why."""
    need, why = 2, "clustering needs at least 2 images"
    if method_needs_k(config.method):
        if config.k_range:
            lo = int(config.k_range[0])
            if lo > need:
                need, why = lo, f"the k range starts at {lo}"
        elif config.k is not None and int(config.k) > need:
            need, why = int(config.k), f"k={int(config.k)} clusters need at least as many images"
    neighbours: Optional[int] = config.method_params.get("n_neighbors", _default_param(config.method, "n_neighbors"))
    if neighbours and int(neighbours) + 1 > need:
        need = int(neighbours) + 1
        why = f"method {config.method!r} builds a {int(neighbours)}-nearest-neighbour graph"
    params = config.method_params
    smallest = params.get("min_cluster_size", _default_param(config.method, "min_cluster_size"))
    if smallest:  # HDBSCAN: min_samples (default: min_cluster_size) must not exceed the images
        core = params.get("min_samples") or smallest
        if int(core) > need:
            need, why = int(core), f"method {config.method!r} needs min_samples={int(core)} images for one cluster"
    return need, why


def fit_to_images(config, n_images: int):
    """The configuration to use on ``n_images`` images; ``ValueError`` when it cannot work.

    The message says what the minimum is and what to change. A ``labeling_mode`` config comes
    back with its k for ``n_images`` (:func:`~pipeline.clustering.overcluster.overcluster_k`).
    """
    if getattr(config, "labeling_mode", False) and method_needs_k(config.method):
        config = replace(config, k=max(2, overcluster_k(n_images, int(config.k))), labeling_mode=False)
    need, why = minimum_images(config)
    if n_images < need:
        fixed_k = method_needs_k(config.method) and not config.k_range and config.k is not None
        if fixed_k and int(config.k) > n_images:
            choose = f"; choose k between 2 and {n_images}" if n_images >= 2 else ""
            raise ValueError(f"k={int(config.k)} clusters is more than the {n_images} images loaded{choose}")
        hint = ""
        if "nearest-neighbour" in why:
            hint = "; add images, lower method_params n_neighbors, or use a preset without a neighbour graph (hog-kmeans)"
        elif "min_samples" in why:
            hint = "; add images or lower method_params min_cluster_size / min_samples"
        raise ValueError(f"too few images: {n_images} loaded, at least {need} needed ({why}){hint}")
    if method_needs_k(config.method) and config.k_range and int(config.k_range[1]) > n_images:
        return replace(config, k_range=[int(config.k_range[0]), n_images])
    return config
