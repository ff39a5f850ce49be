"""Find the image files of a source and their labels, detecting the layout automatically.

Layouts (``Discovery.layout``):

* ``"gtsrb-kaggle"`` — a folder holding ``Train.csv`` (or that CSV itself, or any CSV
  with ``Path`` and ``ClassId`` columns): ``Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path``.
* ``"gtsrb-official"`` — ``Final_Training/Images/000CC/*.ppm`` with ``GT-000CC.csv``
  (``;``-separated, ``Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId``); the
  source may be the dataset root, ``Final_Training``, ``Final_Training/Images``, a
  single class folder, or one ``GT-*.csv``.
* ``"csv"`` — a CSV of ``path,label`` (header optional, label optional; relative paths
  are resolved against the CSV's folder). A folder holding a ``labels.csv`` (as the demo
  generator's flat layout writes) is read through that CSV.
* ``"class-folders"`` — a folder with one subfolder per class (label = subfolder name;
  images may sit deeper inside a class folder; loose top-level images get no label).
* ``"flat"`` — a folder of images, no labels.
* ``"list"`` — a list of :class:`ImageItem` (or of paths) given directly, kept in order.

GTSRB labels are the ClassId as a plain decimal string (``"0"`` .. ``"42"``) in both
layouts. Hidden entries (dot-names, ``__MACOSX``) and files whose extension is not an
image format are ignored; files without an extension, or with an image extension, are
kept for the decoder, which reports those it cannot read. Items are sorted naturally
by path, ignoring case (``img2`` before ``img10``).
"""
from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Union

from pipeline.core.csvio import read_text
from pipeline.core.items import ImageItem, SkippedFile
from pipeline.io.walk import IMAGE_EXTENSIONS, NOT_IMAGE_REASON, FolderWalker, is_hidden  # noqa: F401

MISSING_REASON = "listed in CSV but missing"
DUPLICATE_REASON = "listed more than once in CSV"

_PATH_HEADERS = ("path", "filename", "file", "filepath", "file_path", "image", "image_path", "img", "name")
_LABEL_HEADERS = ("label", "classid", "class_id", "class", "category", "target", "y", "cluster")

Source = Union[str, os.PathLike, Iterable[ImageItem]]


class SourceError(ValueError):
    """The source cannot be used at all (missing, unreadable, or holds no images)."""


@dataclass
class Discovery:
    """What :func:`discover` found: items in order, the layout name, and files left out."""

    items: list[ImageItem]
    layout: str
    skipped: list[SkippedFile] = field(default_factory=list)


def discover(source: Source, *, crop_roi: bool = False) -> Discovery:
    """List the images of ``source`` (a folder, a CSV file, or ImageItems / paths).

    ROIs from GTSRB CSVs go into ``ImageItem.roi`` only when ``crop_roi`` is true.
    Raises :class:`SourceError` when nothing usable is found.
    """
    if not isinstance(source, (str, os.PathLike)):
        items = [it if isinstance(it, ImageItem) else ImageItem(os.fspath(it)) for it in source]
        if not crop_roi:
            items = [it if it.roi is None else ImageItem(it.path, it.label, None) for it in items]
        if not items:
            raise SourceError("no images found in the given list")
        return Discovery(items, "list", [])

    path = Path(os.fspath(source)).expanduser()
    try:
        exists = path.exists()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not exists:
        raise SourceError(f"not found: {path}")
    if path.is_file():
        if path.suffix.lower() not in (".csv", ".tsv", ".txt"):
            raise SourceError(f"expected a folder or a CSV file, got {path.name}")
        result = _discover_csv_file(path, crop_roi)
    elif path.is_dir():
        result = _discover_folder(path, crop_roi)
    else:
        raise SourceError(f"not a folder or a file: {path}")
    if not result.items:
        detail = f" ({len(result.skipped)} listed files missing)" if result.skipped else ""
        raise SourceError(f"no images found in {path}{detail}")
    return result


# --------------------------------------------------------------------------- folders


def _discover_folder(root: Path, crop_roi: bool) -> Discovery:
    _check_readable_dir(root)
    train_csv = root / "Train.csv"
    if not train_csv.is_file() and root.name.lower() == "train":
        train_csv = root.parent / "Train.csv"  # pointed at Kaggle's Train/ folder itself
    if train_csv.is_file():
        return _discover_csv_file(train_csv, crop_roi)
    official = _official_images_dir(root)
    if official is not None:
        return _discover_official(official, crop_roi)
    labels_csv = root / "labels.csv"
    if labels_csv.is_file():  # a flat folder that carries its own path,label list
        return _discover_csv_file(labels_csv, crop_roi)
    return _discover_plain_folder(root)


def _check_readable_dir(folder: Path) -> None:
    try:
        with os.scandir(folder):
            pass
    except PermissionError:
        raise SourceError(f"cannot read {folder}: permission denied") from None
    except OSError as exc:
        raise SourceError(f"cannot read {folder}: {exc.strerror or exc}") from None


def _scan(folder: Path, skipped: list[SkippedFile]) -> tuple[list[str], list[str]]:
    """Candidate ``(files, subfolders)`` directly in ``folder`` (see :class:`FolderWalker`)."""
    walker = FolderWalker(skipped)
    real = walker.enter(os.fspath(folder), root=True)
    dirs = walker.scan(os.fspath(folder), real, None) if real is not None else []
    return [path for path, _ in walker.files(read_links=False)], dirs + walker.linked_folders()


def _discover_plain_folder(root: Path) -> Discovery:
    skipped: list[SkippedFile] = []
    walker = FolderWalker(skipped)
    top = os.fspath(root)
    real = walker.enter(top, root=True)
    for sub in walker.scan(top, real, None, label_links=True) if real is not None else []:
        walker.walk(sub, os.path.basename(sub))
    items = [ImageItem(path, label) for path, label in walker.files()]
    layout = "class-folders" if any(it.label is not None for it in items) else "flat"
    return Discovery(_sorted(items), layout, skipped)


_NATURAL = re.compile(r"(\d+)")


def _natural_key(path: str) -> list:
    parts = _NATURAL.split(path.casefold())  # text, digits, text, digits, ..., text
    parts[1::2] = map(int, parts[1::2])
    return parts


def _sorted(items: list[ImageItem]) -> list[ImageItem]:
    return sorted(items, key=lambda it: (_natural_key(it.path), it.path))


# --------------------------------------------------------------------------- GTSRB official


def _official_images_dir(root: Path) -> Optional[Path]:
    """The folder of ``000CC`` class folders (or a single class folder), if this is GTSRB."""
    for candidate in (
        root / "Final_Training" / "Images",
        root / "GTSRB" / "Final_Training" / "Images",
        root / "Images",
        root,
    ):
        if candidate.is_dir() and (_has_official_classes(candidate) or _gt_csvs(candidate)):
            return candidate
    return None


def _gt_csvs(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.glob("GT-*.csv") if p.is_file())
    except OSError:
        return []


def _has_official_classes(folder: Path) -> bool:
    try:
        subdirs = [p for p in folder.iterdir() if p.is_dir() and not is_hidden(p.name)]
    except OSError:
        return False
    return bool(subdirs) and all(p.name.isdigit() for p in subdirs) and any(_gt_csvs(p) for p in subdirs)


def _discover_official(images_dir: Path, crop_roi: bool) -> Discovery:
    skipped: list[SkippedFile] = []
    if _gt_csvs(images_dir):  # pointed at one class folder
        class_dirs = [images_dir]
    else:
        _, dirs = _scan(images_dir, skipped)
        class_dirs = [Path(d) for d in dirs]
    items: list[ImageItem] = []
    for class_dir in class_dirs:
        listed: set[str] = set()
        for gt in _gt_csvs(class_dir):
            found = _read_gtsrb_csv(gt, crop_roi, skipped)
            items.extend(found)
            listed.update(os.path.normcase(it.path) for it in found)
            listed.update(os.path.normcase(s.path) for s in skipped)
        # Image files the CSV does not mention still belong to this class.
        label = _class_label(class_dir.name) if class_dir.name.isdigit() else None
        files, _ = _scan(class_dir, skipped)
        items.extend(ImageItem(p, label) for p in files if os.path.normcase(p) not in listed)
    return Discovery(_sorted(items), "gtsrb-official", skipped)


def _class_label(name: str) -> str:
    return str(int(name)) if name.isdigit() else name


# --------------------------------------------------------------------------- CSV files


def _read_rows(csv_path: Path) -> list[list[str]]:
    try:
        text = read_text(csv_path)  # bytes that are not UTF-8 stay as surrogate escapes (file names)
    except PermissionError:
        raise SourceError(f"cannot read {csv_path}: permission denied") from None
    except OSError as exc:
        raise SourceError(f"cannot read {csv_path}: {exc.strerror or exc}") from None
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count) if any(c in first_line for c in ";,\t") else ","
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row and any(c.strip() for c in row)]
    return [row for row in rows if not row[0].lstrip().startswith("#")]  # cells unstripped: see _resolve


def _discover_csv_file(csv_path: Path, crop_roi: bool) -> Discovery:
    rows = _read_rows(csv_path)
    if not rows:
        raise SourceError(f"no images found in {csv_path} (the CSV is empty)")
    header = [h.strip().lower() for h in rows[0]]
    if ("classid" in header and "path" in header) or ("filename" in header and "roi.x1" in header):
        skipped: list[SkippedFile] = []
        items = _read_gtsrb_rows(csv_path, rows, crop_roi, skipped)
        layout = "gtsrb-kaggle" if "path" in header else "gtsrb-official"
        return Discovery(_sorted(items), layout, skipped)
    return _discover_path_label_csv(csv_path, rows)


def _read_gtsrb_csv(csv_path: Path, crop_roi: bool, skipped: list[SkippedFile]) -> list[ImageItem]:
    rows = _read_rows(csv_path)
    if not rows:
        return []
    return _read_gtsrb_rows(csv_path, rows, crop_roi, skipped)


def _read_gtsrb_rows(csv_path: Path, rows: list[list[str]], crop_roi: bool, skipped: list[SkippedFile]) -> list[ImageItem]:
    """Rows of a GTSRB CSV (Kaggle ``Path`` or official ``Filename`` column) -> items."""
    col = {name.strip().lower(): i for i, name in enumerate(rows[0])}
    path_col = col.get("path", col.get("filename"))
    if path_col is None:
        return []
    label_col = col.get("classid")  # absent in the unannotated test-set CSV
    roi_cols = [col.get(k) for k in ("roi.x1", "roi.y1", "roi.x2", "roi.y2")]
    base = csv_path.parent
    items: list[ImageItem] = []
    seen: set[str] = set()
    for row in rows[1:]:
        if len(row) <= path_col or not row[path_col].strip():
            continue
        path = _resolve(base, row[path_col])
        if not _register(path, seen, skipped):
            continue
        label = _class_label(row[label_col].strip()) if label_col is not None and len(row) > label_col else None
        roi = None
        if crop_roi and None not in roi_cols:
            try:
                roi = tuple(int(float(row[i])) for i in roi_cols)
            except (ValueError, IndexError):
                roi = None
        items.append(ImageItem(path, label, roi))
    return items


def _discover_path_label_csv(csv_path: Path, rows: list[list[str]]) -> Discovery:
    base = csv_path.parent
    header = [h.strip().lower() for h in rows[0]]
    path_col, label_col = 0, 1
    named_path = next((header.index(h) for h in _PATH_HEADERS if h in header), None)
    if named_path is not None and not _exists(_resolve(base, rows[0][named_path])):
        path_col = named_path
        label_col = next((header.index(h) for h in _LABEL_HEADERS if h in header), None)
        rows = rows[1:]
    elif len(rows) > 1 and not _exists(_resolve(base, rows[0][0])) and _exists(_resolve(base, rows[1][0])):
        rows = rows[1:]  # a header row with other names, such as "picture,kind"
    skipped: list[SkippedFile] = []
    seen: set[str] = set()
    items: list[ImageItem] = []
    for row in rows:
        if len(row) <= path_col or not row[path_col].strip():
            continue
        path = _resolve(base, row[path_col])
        if not _register(path, seen, skipped):
            continue
        label = row[label_col].strip() if label_col is not None and len(row) > label_col else None
        label = label or None
        items.append(ImageItem(path, label))
    return Discovery(_sorted(items), "csv", skipped)


def _resolve(base: Path, value: str) -> str:
    """The file a CSV cell names: the cell as written when such a file exists (names may
    start or end with spaces, or hold a backslash), else trimmed, ``~`` expanded and with
    Windows separators."""
    tidy = value.strip()
    if os.sep != "\\":
        tidy = tidy.replace("\\", "/")  # CSVs written on Windows
    tidy_path = os.path.normpath(os.path.join(os.fspath(base), os.path.expanduser(tidy)))
    if tidy == value:
        return tidy_path
    exact = os.path.normpath(os.path.join(os.fspath(base), value))
    return exact if _exists(exact) else tidy_path


def _exists(path: str) -> bool:
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):
        return False


def _register(path: str, seen: set[str], skipped: list[SkippedFile]) -> bool:
    """Record ``path`` from a CSV; False (with a SkippedFile) if missing or a repeat."""
    key = os.path.normcase(path)
    if key in seen:
        skipped.append(SkippedFile(path, DUPLICATE_REASON))
        return False
    seen.add(key)
    if not _exists(path):
        skipped.append(SkippedFile(path, MISSING_REASON))
        return False
    return True
