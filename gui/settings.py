"""The window's per-user preferences (QSettings INI beside the project store): recent folders
and the taxonomy chosen per folder. ``SessionStore`` is the project store plus these."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QSettings

from pipeline.project.store import ProjectStore

MAX_RECENT = 10


class SessionStore(ProjectStore):
    """:class:`ProjectStore` with the window's preferences stored in ``settings.ini``."""

    # -- recent folders ------------------------------------------------------------
    def _settings(self) -> QSettings:
        self.root.mkdir(parents=True, exist_ok=True)
        return QSettings(str(self.root / "settings.ini"), QSettings.Format.IniFormat)

    def recent_folders(self) -> list[str]:
        value = self._settings().value("recent/folders", [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in (value or [])]

    def add_recent(self, folder: os.PathLike | str) -> list[str]:
        path = str(Path(folder).expanduser().resolve())
        recent = [p for p in self.recent_folders() if p != path]
        recent.insert(0, path)
        recent = recent[:MAX_RECENT]
        settings = self._settings()
        settings.setValue("recent/folders", recent)
        settings.sync()
        return recent

    # -- per-folder taxonomy -------------------------------------------------------
    def taxonomy_path(self, folder: os.PathLike | str) -> Optional[str]:
        """The taxonomy CSV the user loaded for ``folder`` (``None``: the default)."""
        value = self._settings().value(f"taxonomy/{self.project_dir(folder).name}", "")
        return str(value) if value else None

    def set_taxonomy_path(self, folder: os.PathLike | str, path: Optional[str]) -> None:
        settings = self._settings()
        settings.setValue(f"taxonomy/{self.project_dir(folder).name}", path or "")
        settings.sync()

    # -- display options (e.g. auto-contrast) ----------------------------------------
    def display_flag(self, name: str, default: bool = False) -> bool:
        value = self._settings().value(f"display/{name}", default)
        return value in (True, "true", "1", 1) if not isinstance(value, bool) else value

    def set_display_flag(self, name: str, value: bool) -> None:
        settings = self._settings()
        settings.setValue(f"display/{name}", bool(value))
        settings.sync()
