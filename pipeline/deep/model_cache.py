"""On-disk cache of trained Keras models, keyed by parameters and a data fingerprint.

A model trained once on a data set is saved as ``<cache>/models/<kind>-<key>.weights.h5``
with its training curve next to it (``.json``); the same parameters on the same data
load it instead of training again.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from pipeline.core.atomic import atomic_path, atomic_write_json

#: Bump when a network architecture changes so stale weights are not reused.
FORMAT_VERSION = 1


def fingerprint(array: np.ndarray) -> str:
    """Content hash of an array (shape, dtype and bytes)."""
    h = hashlib.sha1()
    arr = np.ascontiguousarray(array)
    h.update(repr((arr.shape, str(arr.dtype))).encode())
    h.update(memoryview(arr).cast("B"))
    return h.hexdigest()


def cache_key(kind: str, params: dict[str, Any], data_fingerprint: str) -> str:
    """Stable hash of ``(kind, params, data)``; ``params`` must be JSON-serialisable."""
    blob = json.dumps(
        {"kind": kind, "params": params, "data": data_fingerprint, "format": FORMAT_VERSION},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha1(blob.encode()).hexdigest()[:20]


def resolve_cache_dir(cache_dir: Union[str, os.PathLike, None, bool]) -> Optional[Path]:
    """Folder for saved models, or ``None`` to keep nothing on disk.

    ``None`` means the pipeline's session cache (``pipeline.core.paths.default_cache_dir()``,
    which honours ``$CLUSTER_REVIEW_CACHE``); ``False`` or ``""`` disables caching.
    """
    if cache_dir is False or cache_dir == "":
        return None
    if cache_dir is None:
        from pipeline.core.paths import default_cache_dir

        cache_dir = default_cache_dir()
    return Path(cache_dir).expanduser() / "models"


class ModelCache:
    """Load-or-train helper for one model: ``load(model)`` then ``save(model, history)``."""

    def __init__(self, cache_dir, kind: str, params: dict[str, Any], data_fingerprint: str) -> None:
        self.folder = resolve_cache_dir(cache_dir)
        self.key = cache_key(kind, params, data_fingerprint)
        self.stem = f"{kind}-{self.key}"

    @property
    def weights_path(self) -> Optional[Path]:
        return None if self.folder is None else self.folder / f"{self.stem}.weights.h5"

    @property
    def history_path(self) -> Optional[Path]:
        return None if self.folder is None else self.folder / f"{self.stem}.json"

    def load(self, model) -> Optional[dict[str, Any]]:
        """Load saved weights into ``model`` (already built); return the saved info or ``None``."""
        path = self.weights_path
        if path is None or not path.is_file():
            return None
        try:
            with warnings.catch_warnings():  # optimizer state is not needed to embed
                warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
                model.load_weights(str(path))
        except (OSError, ValueError):  # corrupt or from another architecture: retrain
            return None
        info = {}
        if self.history_path.is_file():
            info = json.loads(self.history_path.read_text(encoding="utf-8"))
        return info

    def save(self, model, info: dict[str, Any]) -> None:
        """Save ``model``'s weights and ``info`` (training curve, timings) atomically."""
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.weights_path, suffix=".weights.h5") as tmp:
            model.save_weights(str(tmp))
        atomic_write_json(self.history_path, info, default=float)
