"""Where the review window keeps its state on disk.

One project folder per image folder under the store root holds the review
sessions (``sessions/<UTC time>-<how>.db``: SQLite databases, the newest is the current
one; a re-run, a recovery or a migration adds a new file and never overwrites an older
one, which stays in the project's history), ``review.lock`` while a window edits it
(:mod:`pipeline.project.lock`), the legacy ``session.json`` of older versions (read
once and kept), the pipeline features (``features.npy``), the
decoded working-size images used for thumbnails and mean images (``images.npy``), the
images' paths (``paths.bin``: file-system bytes, NUL-separated), given labels
(``labels.npy``: codes into ``label_names``) and regions of interest (``rois.npy``, when
any) and ``project.json`` (config, label names, k-selection scores, skipped files,
timings; version 1 kept the items in it and is still read). Reopening a folder loads
these instead of running the pipeline again; the items are built only when read
(:class:`StoredItems`), so a million-image project opens in about a second. (The window's preferences,
such as recent folders, live beside them in ``settings.ini``: see ``gui/settings.py``.)

The root is ``$CLUSTER_REVIEW_HOME`` when set, else the per-user data folder.
"""
from __future__ import annotations

import calendar
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np
import platformdirs

from pipeline.core.items import ImageItem
from pipeline.core.atomic import atomic_save_npy, atomic_write_bytes
from pipeline.core.gil_slices import split_in_slices
from pipeline.core.json_pieces import loads_in_pieces

HOME_ENV_VAR = "CLUSTER_REVIEW_HOME"
PROJECT_VERSION = 2
READABLE_VERSIONS = (1, 2)
SESSIONS_DIR = "sessions"


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


class StoredItems(Sequence):
    """The project's images as a read-only sequence of :class:`ImageItem`, made on access."""

    def __init__(self, paths: list[str], codes: np.ndarray, names: list[Optional[str]],
                 rois: Optional[np.ndarray] = None) -> None:
        self.paths, self.codes, self.names, self.rois = paths, codes, names, rois

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        code = int(self.codes[i])
        roi = None
        if self.rois is not None and self.rois[i, 0] >= 0:
            roi = tuple(int(v) for v in self.rois[i])
        return ImageItem(self.paths[i], self.names[code] if code >= 0 else None, roi)


def _stamp_micros(name: str) -> int:
    """Microseconds since the epoch from a session file name (``YYYYmmddTHHMMSSffffff-…``); 0 if none."""
    try:
        return calendar.timegm(time.strptime(name[:15], "%Y%m%dT%H%M%S")) * 1_000_000 + int(name[15:21])
    except ValueError:
        return 0


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
        digest = hashlib.sha1(os.fsencode(resolved)).hexdigest()[:12]  # any file name, even not UTF-8
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(resolved).name)[:40] or "root"
        return self.root / "projects" / f"{slug}-{digest}"

    def session_path(self, folder: os.PathLike | str) -> Path:
        """The current review database (the newest in ``sessions/``), else the legacy ``session.json``."""
        files = self.session_files(folder)
        return files[-1] if files else self.legacy_session_path(folder)

    def legacy_session_path(self, folder: os.PathLike | str) -> Path:
        return self.project_dir(folder) / "session.json"

    def sessions_dir(self, folder: os.PathLike | str) -> Path:
        return self.project_dir(folder) / SESSIONS_DIR

    def session_files(self, folder: os.PathLike | str) -> list[Path]:
        """Every review database of the folder, oldest first (names start with their UTC time)."""
        d = self.sessions_dir(folder)
        return sorted(d.glob("*.db")) if d.is_dir() else []

    def archived_sessions(self, folder: os.PathLike | str) -> list[Path]:
        """Earlier reviews kept in the history (every database but the current one), newest first."""
        return self.session_files(folder)[-2::-1]

    def new_session_path(self, folder: os.PathLike | str, how: str) -> Path:
        """A fresh, unused database name in ``sessions/`` that sorts after every existing one."""
        d = self.sessions_dir(folder)
        d.mkdir(parents=True, exist_ok=True)
        micros = int(time.time() * 1_000_000)
        files = self.session_files(folder)
        if files:
            micros = max(micros, _stamp_micros(files[-1].name) + 1)
        name = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime(micros // 1_000_000))}{micros % 1_000_000:06d}-{how}.db"
        return d / name

    def pipeline_cache_dir(self) -> Path:
        return self.root / "decoded-cache"

    def has_project(self, folder: os.PathLike | str) -> bool:
        d = self.project_dir(folder)
        cached = all((d / n).is_file() for n in ("project.json", "features.npy"))
        return cached and (bool(self.session_files(folder)) or self.legacy_session_path(folder).is_file())

    # -- arrays and metadata -----------------------------------------------------
    def save_project(self, data: ProjectData) -> Path:
        """Write features, images and metadata for ``data.folder`` (atomically, file by file)."""
        d = self.project_dir(data.folder)
        d.mkdir(parents=True, exist_ok=True)
        _atomic_save_npy(d / "features.npy", np.asarray(data.features, dtype=np.float32))
        if data.images is not None:
            _atomic_save_npy(d / "images.npy", np.asarray(data.images, dtype=np.uint8))
        items = data.items
        if isinstance(items, StoredItems):
            paths, codes, names, rois = items.paths, items.codes, items.names, items.rois
        else:
            paths = [it.path for it in items]
            names = sorted({it.label for it in items if it.label is not None})
            code_of = {name: c for c, name in enumerate(names)}
            codes = np.fromiter((code_of.get(it.label, -1) if it.label is not None else -1 for it in items),
                                dtype=np.int32, count=len(items))
            rois = None
            if any(it.roi for it in items):
                rois = np.array([it.roi if it.roi else (-1, -1, -1, -1) for it in items], dtype=np.int32)
        atomic_write_bytes(d / "paths.bin", b"\0".join(os.fsencode(p) for p in paths))
        _atomic_save_npy(d / "labels.npy", np.asarray(codes, dtype=np.int32))
        if rois is not None:
            _atomic_save_npy(d / "rois.npy", np.asarray(rois, dtype=np.int32))
        elif (d / "rois.npy").exists():
            (d / "rois.npy").unlink()
        meta = {
            "version": PROJECT_VERSION,
            "folder": str(Path(data.folder).expanduser().resolve()),
            "config": data.config,
            "n_items": len(paths),
            "label_names": list(names),
            "k_selection": data.k_selection,
            "skipped": data.skipped,
            "timings": data.timings,
        }
        atomic_write_bytes(d / "project.json", json.dumps(meta).encode("utf-8"))
        return d

    def load_project(self, folder: os.PathLike | str) -> ProjectData:
        """Load what :meth:`save_project` wrote; arrays are memory-mapped (fast to open)."""
        d = self.project_dir(folder)
        meta = loads_in_pieces((d / "project.json").read_text("utf-8"))  # lets the UI thread run meanwhile
        if meta.get("version") not in READABLE_VERSIONS:
            raise ValueError(f"{d / 'project.json'}: unsupported version {meta.get('version')!r}")
        if "items" in meta:  # version 1
            items = [
                ImageItem(it["path"], it.get("label"), tuple(it["roi"]) if it.get("roi") else None)
                for it in meta["items"]
            ]
        else:
            items = _load_items(d, meta)
        features = np.load(d / "features.npy", mmap_mode="r")
        images = np.load(d / "images.npy", mmap_mode="r") if (d / "images.npy").is_file() else None
        if len(features) != len(items) or (images is not None and len(images) != len(items)):
            raise ValueError(f"{d}: cached arrays do not match the {len(items)} images")
        return ProjectData(
            meta["folder"], items, features, images, meta.get("config") or {},
            meta.get("k_selection"), meta.get("skipped") or [], meta.get("timings") or {},
        )


def _load_items(d: Path, meta: dict) -> StoredItems:
    """The items :meth:`ProjectStore.save_project` wrote beside ``project.json`` (version 2)."""
    n = int(meta.get("n_items", 0))
    raw = (d / "paths.bin").read_bytes()
    paths = split_in_slices(raw, b"\0", lambda piece: [os.fsdecode(p) for p in piece.split(b"\0")]) if n else []
    codes = np.load(d / "labels.npy")
    rois = np.load(d / "rois.npy") if (d / "rois.npy").is_file() else None
    names = [str(v) for v in meta.get("label_names") or []]
    if len(paths) != n or len(codes) != n or (rois is not None and len(rois) != n) or (
            len(codes) and int(codes.max(initial=-1)) >= len(names)):
        raise ValueError(f"{d}: the stored image list is damaged (expected {n} images)")
    return StoredItems(paths, codes, names, rois)
