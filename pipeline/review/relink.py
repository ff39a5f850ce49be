"""Pointing a review at its images' new place after the image folder was moved or copied.

A session keeps absolute image paths under its ``folder``. :func:`plan_relink` maps each
path under the old folder to the same relative path under a new one and checks that
the files are there; :func:`relink` applies a plan that found them. Paths outside the
old folder (a CSV source listing files elsewhere) are left as they are.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from pipeline.core.paths import display_path
from pipeline.review.edits import ReviewError
from pipeline.review.session import ReviewSession

PathLike = Union[str, Path]


@dataclass
class RelinkPlan:
    """Where each image would be after relinking ``session`` to ``new_folder``."""

    old_folder: str
    new_folder: str
    new_paths: list[str]
    moved: int  # images under the old folder (their paths change)
    missing: list[str] = field(default_factory=list)  # new paths that are not files

    @property
    def found(self) -> int:
        return self.moved - len(self.missing)

    def describe(self) -> str:
        text = f"{self.found} of {self.moved} images found under {display_path(self.new_folder)}"
        if self.missing:
            shown = ", ".join(display_path(p) for p in self.missing[:3]) + (" ..." if len(self.missing) > 3 else "")
            text += f"; missing: {shown}"
        return text


def _under(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # different drives, or relative against absolute
        return False


def plan_relink(session: ReviewSession, new_folder: PathLike) -> RelinkPlan:
    """The relinked paths of ``session`` under ``new_folder`` and which of them exist."""
    new = os.path.abspath(os.fspath(Path(new_folder).expanduser()))
    if not os.path.isdir(new):
        raise ReviewError(f"cannot relink to {display_path(new)}: not a folder")
    old = os.path.abspath(session.folder) if session.folder else ""
    new_paths, moved, missing = [], 0, []
    for p in session.paths:
        absolute = os.path.abspath(p) if os.path.isabs(p) or not old else os.path.join(old, p)
        if old and _under(absolute, old):
            target = os.path.join(new, os.path.relpath(absolute, old))
            moved += 1
            if not os.path.isfile(target):
                missing.append(target)
            new_paths.append(target)
        else:
            new_paths.append(p)
    return RelinkPlan(old, new, new_paths, moved, missing)


def relink(session: ReviewSession, new_folder: PathLike, *, allow_missing: bool = False) -> RelinkPlan:
    """Point ``session`` at ``new_folder`` (its ``folder`` and image paths); returns the plan.

    Refused (:class:`ReviewError`, the session unchanged) when no image is found under
    ``new_folder``, or when some are missing unless ``allow_missing``. The caller saves
    the session. Not an undoable edit: it changes where files are, not the review.
    """
    plan = plan_relink(session, new_folder)
    if plan.moved == 0:
        raise ReviewError(f"no image of this review lies under its folder {display_path(plan.old_folder)}; "
                          "nothing to relink")
    if plan.found == 0:
        example = display_path(plan.new_paths[0]) if plan.new_paths else ""
        raise ReviewError(f"none of the {plan.moved} images is under {display_path(plan.new_folder)} "
                          f"(looked for e.g. {example}); choose the folder that holds the moved images")
    if plan.missing and not allow_missing:
        raise ReviewError(f"only {plan.describe()}; relink anyway to keep the missing ones as they are")
    session.paths = plan.new_paths
    session.folder = plan.new_folder
    session.touch()
    return plan
