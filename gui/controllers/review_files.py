"""Saving a copy of the review and exporting it: the file commands of :class:`~gui.controllers.review.ReviewController`.

A mixin: it uses the controller's ``session``, ``taxonomy``, ``runner``, ``message`` signal and
``_error``; every failure is a message on the window, never an exception.
"""
from __future__ import annotations

from typing import Optional

from pipeline.core.errors import describe_error, one_line
from pipeline.core.paths import display_path
from pipeline.review import ExportError, ReviewError, export_csv, export_tree
from pipeline.review.export import missing_images

from gui.jobs.worker import Job


class ReviewFiles:
    """Save a copy, export a CSV or a folder tree (see the module docstring)."""

    def save_session_to(self, path) -> bool:
        """Save a copy of the session; autosave keeps writing the project's own file."""
        try:
            self.session.save(path)
        except (OSError, ReviewError) as exc:
            self._error(f"Cannot save the session: {exc}")
            return False
        self.message.emit(f"Session saved to {path}", 5000)
        return True

    def export_csv_to(self, path, overwrite: bool = False) -> bool:
        try:
            n = export_csv(self.session, path, self.taxonomy, overwrite=overwrite)
        except ExportError as exc:
            self._error(f"Export refused: {exc}")
            return False
        except (OSError, ValueError) as exc:  # anything the export did not foresee: a message, not a crash
            self._error(f"Export failed: {one_line(exc)}", describe_error(exc)[1])
            return False
        self.message.emit(f"Exported {n:,} rows to {path}", 8000)
        missing = missing_images(self.session)
        if missing:
            self._error(f"Exported {n:,} rows to {path}, but {len(missing):,} of the images are no longer on disk "
                        f"(e.g. {display_path(missing[0])}). If the image folder moved, relink the project "
                        "(cluster-review relink OLD_FOLDER NEW_FOLDER).")
        return True

    def export_tree_to(self, folder, mode: str = "copy", overwrite: bool = False) -> Optional[Job]:
        session, taxonomy = self.session, self.taxonomy

        def job(progress, cancel):
            return export_tree(session, folder, taxonomy, mode=mode, overwrite=overwrite, progress=progress,
                               cancel=cancel)

        def done(counts) -> None:
            self.message.emit(f"Exported {sum(counts.values()):,} images into {len(counts)} folders under {folder}",
                              8000)

        return self.runner.start(f"Exporting to {folder}", job, done, name="export")
