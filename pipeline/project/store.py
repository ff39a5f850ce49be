"""Where the review window keeps its state on disk.

One project folder per image folder under the store root holds the autosaved
review session (``session.json``), the pipeline features (``features.npy``), the
decoded working-size images used for thumbnails and mean images (``images.npy``) and
``project.json`` (items, k-selection scores, skipped files, timings). Reopening a
folder loads these instead of running the pipeline again. (The window's preferences,
such as recent folders, live beside them in ``settings.ini``: see ``gui/settings.py``.)

The root is ``$CLUSTER_REVIEW_HOME`` when set, else the per-user data folder.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import platformdirs

from pipeline.core.items import ImageItem
from pipeline.core.atomic import atomic_save_npy, atomic_write_bytes

HOME_ENV_VAR = "CLUSTER_REVIEW_HOME"
PROJECT_VERSION = 1


def default_store_root() -> Path:
    override = os.environ.get(HOME_ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("cluster-review", appauthor=False))


@dataclass
class ProjectData:
    """Cached results of one pipeline run over a folder."""

    folder: str
    items: list[ImageItem]
    features: np.ndarray
    images: Optional[np.ndarray]
    config: dict[str, Any]
    k_selection: Optional[dict[str, Any]] = None
    skipped: list[dict[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def _atomic_save_npy(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_save_npy(path, array)


class ProjectStore:
    """Paths and cached arrays for every folder the user reviews."""

    def __init__(self, root: Optional[os.PathLike | str] = None) -> None:
        self.root = Path(root) if root is not None else default_store_root()

    # -- locations ---------------------------------------------------------------
    def project_dir(self, folder: os.PathLike | str) -> Path:
        resolved = str(Path(folder).expanduser().resolve())
        digest = hashlib.sha1(resolved.encode("utf-8")).hexdigest()[:12]
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(resolved).name)[:40] or "root"
        return self.root / "projects" / f"{slug}-{digest}"

    def session_path(self, folder: os.PathLike | str) -> Path:
        return self.project_dir(folder) / "session.json"

    def pipeline_cache_dir(self) -> Path:
        return self.root / "decoded-cache"

    def has_project(self, folder: os.PathLike | str) -> bool:
        d = self.project_dir(folder)
        return all((d / n).is_file() for n in ("project.json", "features.npy", "session.json"))

    # -- arrays and metadata -----------------------------------------------------
    def save_project(self, data: ProjectData) -> Path:
        """Write features, images and metadata for ``data.folder`` (atomically, file by file)."""
        d = self.project_dir(data.folder)
        d.mkdir(parents=True, exist_ok=True)
        _atomic_save_npy(d / "features.npy", np.asarray(data.features, dtype=np.float32))
        if data.images is not None:
            _atomic_save_npy(d / "images.npy", np.asarray(data.images, dtype=np.uint8))
        meta = {
            "version": PROJECT_VERSION,
            "folder": str(Path(data.folder).expanduser().resolve()),
            "config": data.config,
            "items": [
                {"path": it.path, "label": it.label, "roi": list(it.roi) if it.roi else None}
                for it in data.items
            ],
            "k_selection": data.k_selection,
            "skipped": data.skipped,
            "timings": data.timings,
        }
        atomic_write_bytes(d / "project.json", json.dumps(meta).encode("utf-8"))
        return d

    def load_project(self, folder: os.PathLike | str) -> ProjectData:
        """Load what :meth:`save_project` wrote; arrays are memory-mapped (fast to open)."""
        d = self.project_dir(folder)
        meta = json.loads((d / "project.json").read_text("utf-8"))
        if meta.get("version") != PROJECT_VERSION:
            raise ValueError(f"{d / 'project.json'}: unsupported version {meta.get('version')!r}")
        items = [
            ImageItem(it["path"], it.get("label"), tuple(it["roi"]) if it.get("roi") else None)
            for it in meta["items"]
        ]
        features = np.load(d / "features.npy", mmap_mode="r")
        images = np.load(d / "images.npy", mmap_mode="r") if (d / "images.npy").is_file() else None
        if len(features) != len(items) or (images is not None and len(images) != len(items)):
            raise ValueError(f"{d}: cached arrays do not match the {len(items)} images")
        return ProjectData(
            meta["folder"], items, features, images, meta.get("config") or {},
            meta.get("k_selection"), meta.get("skipped") or [], meta.get("timings") or {},
        )
