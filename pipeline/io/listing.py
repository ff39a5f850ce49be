"""What discovery produces, and the pieces local folders and URLs share: natural order,
CSV text to rows, and CSV rows to items (GTSRB or ``path,label``).

Where a CSV cell points and whether that file exists is asked of a :class:`Locator`:
:class:`LocalLocator` for files on disk, ``pipeline.io.remote`` for fsspec URLs.
"""
from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from typing import Optional

from pipeline.core.items import ImageItem, SkippedFile

MISSING_REASON = "listed in CSV but missing"
DUPLICATE_REASON = "listed more than once in CSV"

_PATH_HEADERS = ("path", "filename", "file", "filepath", "file_path", "image", "image_path", "img", "name")
_LABEL_HEADERS = ("label", "classid", "class_id", "class", "category", "target", "y", "cluster")


class SourceError(ValueError):
    """The source cannot be used at all (missing, unreadable, or holds no images)."""


@dataclass
class Discovery:
    """What discovery found: items in order, the layout name, and files left out."""

    items: list[ImageItem]
    layout: str
    skipped: list[SkippedFile] = field(default_factory=list)


class Locator:
    """Where CSV cells point: ``resolve(base, cell)`` -> a path, ``exists(path)``, ``key(path)``."""

    def resolve(self, base: str, value: str) -> str:
        raise NotImplementedError

    def exists(self, path: str) -> bool:
        raise NotImplementedError

    def key(self, path: str) -> str:
        """The form under which two spellings of one file compare equal."""
        return path


class LocalLocator(Locator):
    """Files on this machine's disks."""

    def resolve(self, base: str, value: str) -> str:
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
        return exact if self.exists(exact) else tidy_path

    def exists(self, path: str) -> bool:
        try:
            return os.path.lexists(path)
        except (OSError, ValueError):
            return False

    def key(self, path: str) -> str:
        return os.path.normcase(path)


LOCAL = LocalLocator()

# --------------------------------------------------------------------------- order

_NATURAL = re.compile(r"(\d+)")


def natural_key(path: str) -> list:
    parts = _NATURAL.split(path.casefold())  # text, digits, text, digits, ..., text
    parts[1::2] = map(int, parts[1::2])
    return parts


def sort_items(items: list[ImageItem]) -> list[ImageItem]:
    """Natural order by path, ignoring case (``img2`` before ``img10``)."""
    return sorted(items, key=lambda it: (natural_key(it.path), it.path))


# --------------------------------------------------------------------------- CSV rows


def split_rows(text: str) -> list[list[str]]:
    """CSV text -> non-empty, non-comment rows (``;``, ``,`` or tab, from the first line)."""
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count) if any(c in first_line for c in ";,\t") else ","
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row and any(c.strip() for c in row)]
    return [row for row in rows if not row[0].lstrip().startswith("#")]  # cells unstripped: see resolve


def discover_csv_rows(csv_path: str, base: str, rows: list[list[str]], crop_roi: bool,
                      where: Locator = LOCAL) -> Discovery:
    """The items a CSV's ``rows`` list (paths relative to ``base``), GTSRB or ``path,label``."""
    if not rows:
        raise SourceError(f"no images found in {csv_path} (the CSV is empty)")
    header = [h.strip().lower() for h in rows[0]]
    if ("classid" in header and "path" in header) or ("filename" in header and "roi.x1" in header):
        skipped: list[SkippedFile] = []
        items = gtsrb_rows(base, rows, crop_roi, skipped, where)
        layout = "gtsrb-kaggle" if "path" in header else "gtsrb-official"
        return Discovery(sort_items(items), layout, skipped)
    return _path_label_rows(base, rows, where)


def class_label(name: str) -> str:
    return str(int(name)) if name.isdigit() else name


def gtsrb_rows(base: str, rows: list[list[str]], crop_roi: bool, skipped: list[SkippedFile],
               where: Locator = LOCAL) -> list[ImageItem]:
    """Rows of a GTSRB CSV (Kaggle ``Path`` or official ``Filename`` column) -> items."""
    col = {name.strip().lower(): i for i, name in enumerate(rows[0])}
    path_col = col.get("path", col.get("filename"))
    if path_col is None:
        return []
    label_col = col.get("classid")  # absent in the unannotated test-set CSV
    roi_cols = [col.get(k) for k in ("roi.x1", "roi.y1", "roi.x2", "roi.y2")]
    items: list[ImageItem] = []
    seen: set[str] = set()
    for row in rows[1:]:
        if len(row) <= path_col or not row[path_col].strip():
            continue
        path = where.resolve(base, row[path_col])
        if not _register(path, seen, skipped, where):
            continue
        label = class_label(row[label_col].strip()) if label_col is not None and len(row) > label_col else None
        roi = None
        if crop_roi and None not in roi_cols:
            try:
                roi = tuple(int(float(row[i])) for i in roi_cols)
            except (ValueError, IndexError):
                roi = None
        items.append(ImageItem(path, label, roi))
    return items


def _path_label_rows(base: str, rows: list[list[str]], where: Locator) -> Discovery:
    header = [h.strip().lower() for h in rows[0]]
    path_col: int = 0
    label_col: Optional[int] = 1
    named_path = next((header.index(h) for h in _PATH_HEADERS if h in header), None)
    if named_path is not None and not where.exists(where.resolve(base, rows[0][named_path])):
        path_col = named_path
        label_col = next((header.index(h) for h in _LABEL_HEADERS if h in header), None)
        rows = rows[1:]
    elif len(rows) > 1 and not where.exists(where.resolve(base, rows[0][0])) and where.exists(where.resolve(base, rows[1][0])):
        rows = rows[1:]  # a header row with other names, such as "picture,kind"
    skipped: list[SkippedFile] = []
    seen: set[str] = set()
    items: list[ImageItem] = []
    for row in rows:
        if len(row) <= path_col or not row[path_col].strip():
            continue
        path = where.resolve(base, row[path_col])
        if not _register(path, seen, skipped, where):
            continue
        label = row[label_col].strip() if label_col is not None and len(row) > label_col else None
        items.append(ImageItem(path, label or None))
    return Discovery(sort_items(items), "csv", skipped)


def _register(path: str, seen: set[str], skipped: list[SkippedFile], where: Locator) -> bool:
    """Record ``path`` from a CSV; False (with a SkippedFile) if missing or a repeat."""
    key = where.key(path)
    if key in seen:
        skipped.append(SkippedFile(path, DUPLICATE_REASON))
        return False
    seen.add(key)
    if not where.exists(path):
        skipped.append(SkippedFile(path, MISSING_REASON))
        return False
    return True
