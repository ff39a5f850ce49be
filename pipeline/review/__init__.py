"""Headless review model: the session state, reversible edits, session files, class lists and exports.

No Qt here; the GUI wraps :class:`ReviewSession` in item models and each
:class:`Edit` in an undo command.
"""
from pipeline.review.edits import Edit, FlagChange, ReviewError, compose
from pipeline.review.export import (
    CSV_COLUMNS,
    ExportError,
    class_folder_name,
    export_csv,
    export_tree,
    safe_name,
)
from pipeline.review.persistence import FORMAT_VERSION, Autosaver, backup_path, register_migration
from pipeline.review.session import ReviewSession
from pipeline.review.taxonomy import Taxonomy, TaxonomyClass, TaxonomyError

__all__ = [
    "Autosaver",
    "CSV_COLUMNS",
    "Edit",
    "ExportError",
    "FORMAT_VERSION",
    "FlagChange",
    "ReviewError",
    "ReviewSession",
    "Taxonomy",
    "TaxonomyClass",
    "TaxonomyError",
    "backup_path",
    "class_folder_name",
    "compose",
    "export_csv",
    "export_tree",
    "register_migration",
    "safe_name",
]
