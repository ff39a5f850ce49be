"""The window's file questions: which folder, session, taxonomy or export target, and may it be replaced."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

Target = tuple[str, bool]  # path, overwrite


def _yes(parent: QWidget, title: str, text: str) -> bool:
    return QMessageBox.question(parent, title, text) == QMessageBox.StandardButton.Yes


def ask_folder(parent: QWidget) -> Optional[str]:
    return QFileDialog.getExistingDirectory(parent, "Open a folder of images") or None


def ask_session(parent: QWidget) -> Optional[str]:
    return QFileDialog.getOpenFileName(parent, "Open a review session", "", "Review session (*.json)")[0] or None


def ask_save_session(parent: QWidget) -> Optional[str]:
    return QFileDialog.getSaveFileName(parent, "Save review session", str(Path.home() / "review-session.json"),
                                       "Review session (*.json)")[0] or None


def ask_taxonomy(parent: QWidget) -> Optional[str]:
    return QFileDialog.getOpenFileName(parent, "Load a taxonomy", "", "Class list (*.csv)")[0] or None


def confirm_rerun(parent: QWidget) -> bool:
    return _yes(parent, "Run the pipeline again?",
                "A new run starts a new review of this folder with new clusters. The current review, "
                "with all its edits and their history, is kept in the project's history and is not "
                "changed. Continue?")


def confirm_recover(parent: QWidget, message: str) -> bool:
    """Offer the last good copy of a damaged review (the damaged file is kept)."""
    return _yes(parent, "The review file is damaged",
                f"{message}\n\nContinue from the last good copy? The damaged file is kept in the project "
                "history; edits made after that copy was taken are not in it.")


def ask_export_csv(parent: QWidget, image_folder: str, on_refused: Callable[[str], None] = print) -> Optional[Target]:
    """A CSV path next to the image folder; an existing file only after a Yes (else ``on_refused``)."""
    folder = Path(image_folder)
    path, _ = QFileDialog.getSaveFileName(parent, "Export CSV", str(folder.parent / f"{folder.name}-labels.csv"),
                                          "CSV (*.csv)", options=QFileDialog.Option.DontConfirmOverwrite)
    if not path:
        return None
    exists = Path(path).exists()
    if exists and not _yes(parent, "Replace the file?", f"{path} already exists. Replace it?"):
        on_refused("Export cancelled: the file exists")
        return None
    return path, exists


def ask_export_tree(parent: QWidget, mode: str) -> Optional[Target]:
    """A folder for the class tree; a non-empty one only after a Yes."""
    folder = QFileDialog.getExistingDirectory(parent, f"Export images as a folder tree ({mode})")
    if not folder:
        return None
    full = Path(folder).is_dir() and any(Path(folder).iterdir())
    if full and not _yes(parent, "Folder not empty",
                         f"{folder} is not empty. Write into it (same-named files are replaced)?"):
        return None
    return folder, full
