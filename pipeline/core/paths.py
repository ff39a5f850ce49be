"""Per-user folders used by the pipeline (the decoded-image cache), and paths shown to people."""
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


_CONTROL = {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def display_path(path) -> str:
    """``path`` as one printable line: non-UTF-8 bytes as ``\\xe9``, newlines and tabs escaped.

    For messages and terminals only; open files with the path itself.
    """
    text = os.fsencode(os.fspath(path)).decode("utf-8", "backslashreplace")
    return text.translate(_CONTROL)
