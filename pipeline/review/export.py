"""Export the reviewed labels: a CSV of corrected labels, or a folder tree per class.

Both are all-or-nothing: the CSV is written atomically, the tree is built in a hidden
folder next to the target and renamed into place at the end, so a full disk, an error
or a cancel leaves no partial export. File names that are not UTF-8 keep their bytes
(see :mod:`pipeline.core.csvio`). :func:`missing_images` lists images no longer on
disk (a moved folder: see :func:`pipeline.review.relink.relink`).
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Optional, Union

from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report
from pipeline.core.atomic import atomic_write_bytes
from pipeline.core.csvio import csv_bytes
from pipeline.core.paths import display_path
from pipeline.review.session import ReviewSession
from pipeline.review.taxonomy import Taxonomy

PathLike = Union[str, Path]

CSV_COLUMNS = (
    "path",
    "cluster_id",
    "class_id",
    "class_name",
    "original_label",
    "changed",
    "reviewed",
    "rejected",
)
REJECTED_FOLDER = "_rejected"
UNLABELED_FOLDER = "_unlabeled"
EXPORT_MODES = ("copy", "link")


class ExportError(RuntimeError):
    """An export was refused or failed; the message says why and what to do."""


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def export_csv(
    session: ReviewSession, path: PathLike, taxonomy: Optional[Taxonomy], *, overwrite: bool = False
) -> int:
    """Write one row per image with columns :data:`CSV_COLUMNS`; returns the number of rows.

    ``class_id`` is the final class (empty when rejected or unnamed), ``class_name`` its
    taxonomy name (the id itself for a class the taxonomy lacks). Refuses an existing
    ``path`` unless ``overwrite``; the file is written atomically (UTF-8, ``\\n`` rows).
    """
    path = Path(path)
    if path.is_dir():
        raise ExportError(f"cannot export CSV to {path}: it is a folder")
    if path.exists() and not overwrite:
        raise ExportError(f"{path} already exists; choose another name or allow overwriting")
    if not path.parent.is_dir():
        raise ExportError(f"cannot export CSV to {path}: folder {path.parent} does not exist")
    final = session.final_classes()
    changed = session.changed_mask()
    reviewed = session.reviewed_mask()
    rows = []
    for i, p in enumerate(session.paths):
        cls = final[i]
        name = "" if cls is None else (taxonomy.name_of(cls) if taxonomy is not None else cls)
        given = session.given_labels[i]
        rows.append((p, int(session.assignments[i]), cls or "", name, "" if given is None else given,
                     _yes(bool(changed[i])), _yes(bool(reviewed[i])), _yes(i in session.rejected)))
    try:
        atomic_write_bytes(path, csv_bytes(CSV_COLUMNS, rows, lineterminator="\n"))
    except OSError as exc:
        raise ExportError(f"cannot write {display_path(path)}: {exc.strerror or exc} (nothing was written)") from exc
    return len(session.paths)


def missing_images(session: ReviewSession) -> list[str]:
    """The session's image paths that are no longer files on disk (in session order)."""
    return [p for p in session.paths if not _source_path(session, p).is_file()]


_UNSAFE = re.compile(r"[^\w.-]+")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def safe_name(text: str, max_len: int = 80) -> str:
    """A file-name-safe version of ``text``: letters, digits, ``._-`` kept; anything else becomes ``_``."""
    out = _UNSAFE.sub("_", text).strip("._ ")
    out = re.sub(r"_+", "_", out)[:max_len].rstrip("._ ")
    if not out:
        out = "x"
    if out.casefold() in _WINDOWS_RESERVED:
        out += "_"
    return out


def class_folder_name(class_id: str, taxonomy: Optional[Taxonomy]) -> str:
    """``"<id>_<safe name>"`` (just the safe id when the name is unknown or equals the id)."""
    name = taxonomy.name_of(class_id) if taxonomy is not None else class_id
    sid = safe_name(class_id)
    if not name or name == class_id:
        return sid
    return f"{sid}_{safe_name(name)}"


def _source_path(session: ReviewSession, p: str) -> Path:
    path = Path(p)
    if not path.is_absolute() and session.folder:
        candidate = Path(session.folder) / path
        if candidate.exists():
            return candidate
    return path


def _unique(name: str, used: set[str]) -> str:
    """``name``, or ``stem_1.ext``, ``stem_2.ext``... not yet in ``used`` (case-insensitive)."""
    candidate = name
    stem, ext = os.path.splitext(name)
    n = 0
    while candidate.casefold() in used:
        n += 1
        candidate = f"{stem}_{n}{ext}"
    used.add(candidate.casefold())
    return candidate


def _place(src: Path, dst: Path, mode: str) -> None:
    """Copy or link ``src`` to the fresh path ``dst`` (inside the staging folder)."""
    if mode == "copy":
        shutil.copy2(src, dst)
        return
    try:
        os.symlink(os.path.abspath(src), dst)
    except OSError:
        try:
            os.link(src, dst)  # no symlink permission (e.g. Windows without developer mode)
        except OSError as exc:
            raise ExportError(f"cannot link {display_path(dst)} to {display_path(src)}: {exc.strerror or exc}; "
                              "use mode='copy'") from exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_overwrite(folder: Path, plan: list[tuple[Path, str, str]]) -> None:
    """Refuse, before writing anything, a merge that would replace a folder by a file."""
    for sub in {sub for _, sub, _ in plan}:
        if (folder / sub).exists() and not (folder / sub).is_dir():
            raise ExportError(f"cannot export into {display_path(folder / sub)}: it is a file, not a folder")
    for _, sub, name in plan:
        dst = folder / sub / name
        if dst.is_dir() and not dst.is_symlink():
            raise ExportError(f"cannot overwrite {display_path(dst)}: it is a folder")


def _publish(staging: Path, folder: Path) -> None:
    """Move the finished export from ``staging`` to ``folder``.

    A missing or empty ``folder`` is replaced by one rename; into a non-empty one
    (overwrite), each file is renamed into place, replacing same-named files.
    """
    if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
        folder.rmdir()
    if not folder.exists():
        os.rename(staging, folder)
        return
    for sub in sorted(staging.iterdir()):
        (folder / sub.name).mkdir(exist_ok=True)
        for item in sorted(sub.iterdir()):
            os.replace(item, folder / sub.name / item.name)


def export_tree(
    session: ReviewSession,
    folder: PathLike,
    taxonomy: Optional[Taxonomy],
    *,
    mode: str = "copy",
    overwrite: bool = False,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> dict[str, int]:
    """Copy (or link) every image into ``folder/<class folder>/``; returns files per subfolder.

    Class folders are named by :func:`class_folder_name`; rejected images go to
    ``_rejected`` and images without a final class to ``_unlabeled``. Same-named
    files in one folder get ``_1``, ``_2``... suffixes. ``mode="link"`` makes
    symbolic links (hard links where symlinks are not allowed). A non-empty
    ``folder`` is refused unless ``overwrite`` (then same-named files are replaced,
    other files left alone). Every source file is checked before anything is
    written. The tree is built in a hidden folder beside ``folder`` and moved into
    place at the end: on an error (a full disk) or a cancel (:class:`Cancelled` is
    raised) nothing of the export is left.
    """
    if mode not in EXPORT_MODES:
        raise ExportError(f"unknown export mode {mode!r}; use one of {', '.join(EXPORT_MODES)}")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"cannot export to {display_path(folder)}: it is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise ExportError(f"{display_path(folder)} is not empty; choose an empty folder or allow overwriting")

    final = session.final_classes()
    sources = [_source_path(session, p) for p in session.paths]
    missing = [display_path(s) for s in sources if not s.is_file()]
    if missing:
        shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
        raise ExportError(f"{len(missing)} source image(s) not found: {shown} (if the image folder moved, "
                          "relink the project to its new place first)")

    folder_of_class: dict[str, str] = {}
    used_folders = {REJECTED_FOLDER.casefold(), UNLABELED_FOLDER.casefold()}
    for cls in sorted({c for c in final if c is not None}, key=_class_sort_key):
        folder_of_class[cls] = _unique(class_folder_name(cls, taxonomy), used_folders)

    plan: list[tuple[Path, str, str]] = []
    used_files: dict[str, set[str]] = {}
    for i, src in enumerate(sources):
        cls = final[i]
        if cls is not None:
            sub = folder_of_class[cls]
        elif i in session.rejected:
            sub = REJECTED_FOLDER
        else:
            sub = UNLABELED_FOLDER
        name = _unique(src.name, used_files.setdefault(sub, set()))
        plan.append((src, sub, name))
    if folder.is_dir():
        _check_overwrite(folder, plan)

    counts: dict[str, int] = {}
    staging: Optional[Path] = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.export-", dir=folder.parent))
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private; the export is not
        for sub in sorted({sub for _, sub, _ in plan}):
            (staging / sub).mkdir()
        total = len(plan)
        for done, (src, sub, name) in enumerate(plan, start=1):
            check_cancel(cancel)
            _place(src, staging / sub / name, mode)
            counts[sub] = counts.get(sub, 0) + 1
            if done % 200 == 0 or done == total:
                report(progress, "export", done, total, f"{done}/{total} images")
        check_cancel(cancel)
        _publish(staging, folder)
    except OSError as exc:
        raise ExportError(f"export to {display_path(folder)} failed: {exc.strerror or exc} "
                          "(nothing of the export was left)") from exc
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return dict(sorted(counts.items()))


def _class_sort_key(class_id: str) -> tuple:
    return (0, int(class_id), "") if class_id.isdigit() else (1, 0, class_id)
