"""Moving a project to its image folder's new place (``cluster-review relink OLD NEW``).

The window keys a project by its folder's path, so after the images were moved the
project is not found. :func:`relink_project` checks the images are under the new
folder (:func:`pipeline.review.relink.relink`), then saves the project's arrays and
metadata under the new folder and its current review as a new database there. The
old project stays where it was (nothing is deleted).
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Union

from pipeline.core.paths import display_path
from pipeline.project.lock import held_by_other
from pipeline.project.sessions import load_project_session
from pipeline.project.store import ProjectStore
from pipeline.review.edits import ReviewError
from pipeline.review.relink import RelinkPlan, relink
from pipeline.review.session_db import SessionDB

PathLike = Union[str, Path]


def relink_project(store: ProjectStore, old_folder: PathLike, new_folder: PathLike, *,
                   allow_missing: bool = False) -> RelinkPlan:
    """Make ``new_folder`` the project that ``old_folder`` was; returns what was found.

    Raises :class:`ReviewError` (nothing written) when ``old_folder`` has no project,
    ``new_folder`` already has one, the project is open elsewhere, or the images are
    not under ``new_folder`` (some missing: unless ``allow_missing``).
    """
    if not store.has_project(old_folder):
        raise ReviewError(f"no project for {display_path(old_folder)} in {display_path(store.root)}")
    if os.path.abspath(os.fspath(old_folder)) == os.path.abspath(os.fspath(new_folder)):
        raise ReviewError("the new folder is the project's folder already")
    if store.has_project(new_folder):
        raise ReviewError(f"{display_path(new_folder)} has a project of its own; open it instead")
    holder = held_by_other(store.project_dir(old_folder))
    if holder is not None:
        raise ReviewError(f"the project is open in another window or program ({holder.describe()}); close it first")
    data = store.load_project(old_folder)
    session, _ = load_project_session(store, old_folder)
    old_paths = list(session.paths)
    plan = relink(session, new_folder, allow_missing=allow_missing)
    moved = dict(zip(old_paths, plan.new_paths))
    items = [replace(it, path=moved.get(it.path, it.path)) for it in data.items]
    store.save_project(replace(data, folder=plan.new_folder, items=items))
    SessionDB.create(store.new_session_path(plan.new_folder, "relink"), session, action="relink",
                     text=f"relinked from {display_path(plan.old_folder)}").close()
    return plan
