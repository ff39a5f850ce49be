"""Per-user folders used by the pipeline (currently: the decoded-image cache)."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "cluster-review"
CACHE_ENV_VAR = "CLUSTER_REVIEW_CACHE"


def default_cache_dir() -> Path:
    """Folder for the decoded-image cache.

    ``$CLUSTER_REVIEW_CACHE`` wins when set and non-empty; otherwise the platform's
    per-user cache folder for ``cluster-review`` (e.g. ``~/.cache/cluster-review`` on
    Linux, ``~/Library/Caches/cluster-review`` on macOS). The folder is not created here.
    """
    override = os.environ.get(CACHE_ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
