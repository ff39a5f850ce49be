"""Images on shared or object storage: fsspec URLs (``s3://``, ``gs://``, ``az://``, ``memory://``...).

A URL source is listed with one recursive ``find`` and laid out like a local folder:
a ``Train.csv`` (GTSRB Kaggle) or ``labels.csv`` in it is read as the listing, a URL of a
CSV file is that CSV, otherwise subfolders are classes (label = first folder name) or the
folder is flat. Hidden entries are left out as locally; files of other types are listed in
``skipped`` with :data:`~pipeline.io.walk.NOT_IMAGE_REASON`, CSV rows naming absent files
with ``MISSING_REASON``. Item paths are full URLs; :func:`read_bytes` fetches one whole file
(images are small) for the decoder. ``file://`` URLs are plain local paths (every local
layout works, the decode cache too); the GTSRB "official" layout is local-only.

fsspec is in the ``[dask]`` extra; other stores need their backend (``pip install s3fs``)
and its usual credentials (environment, config files). Dask workers must have both too.
"""
from __future__ import annotations

import os
import posixpath
import re
from typing import Optional
from urllib.parse import unquote, urlsplit

from pipeline.core.items import ImageItem, SkippedFile
from pipeline.io.listing import Discovery, Locator, SourceError, discover_csv_rows, sort_items, split_rows
from pipeline.io.walk import HIDDEN_REASON, IMAGE_EXTENSIONS, NOT_IMAGE_REASON, is_candidate, is_hidden

#: ``scheme://`` with a scheme of two letters or more (``C:\\`` is a Windows drive, not a URL).
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://")
_LISTINGS = ("Train.csv", "labels.csv")  # read as the folder's listing, in this order
_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_QUIET_CSVS = frozenset({"labels.csv", "train.csv", "test.csv", "meta.csv"})


def is_url(source) -> bool:
    """Whether ``source`` is a ``scheme://...`` string (a ``Path`` never is)."""
    return isinstance(source, str) and _URL.match(source) is not None


def local_path(url: str) -> Optional[str]:
    """The local path of a ``file://`` URL, ``None`` for any other URL."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    return unquote(parts.path) or "/"


def filesystem(url: str):
    """``(fsspec filesystem, path inside it)`` for ``url``; :class:`SourceError` when fsspec
    or the store's backend is missing or the URL is not understood."""
    try:
        import fsspec
    except ImportError:
        raise SourceError(f"reading {url} needs fsspec: pip install 'cluster-review[dask]'") from None
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as exc:  # e.g. "Install s3fs to access S3"
        raise SourceError(f"cannot open {url}: {exc}") from None
    except (ValueError, OSError) as exc:
        raise SourceError(f"cannot open {url}: {exc}") from None


def read_bytes(url: str) -> bytes:
    """The whole file at ``url``. Raises ``OSError`` (``FileNotFoundError``,
    ``PermissionError``, ``IsADirectoryError``...) or :class:`SourceError` for a bad URL."""
    fs, path = filesystem(url)
    if fs.isdir(path):
        raise IsADirectoryError(url)
    return fs.cat_file(path)


def file_size(url: str) -> Optional[int]:
    """The size of the file at ``url`` in bytes, ``None`` when the store does not say."""
    fs, path = filesystem(url)
    size = fs.info(path).get("size")
    return None if size is None else int(size)


class UrlLocator(Locator):
    """CSV cells relative to a folder of a store; existence from one recursive listing of
    that folder, and one listing per other folder a cell reaches into (``../x.png``)."""

    def __init__(self, fs, base: str, files: list[str]) -> None:
        self.fs = fs
        self.base = base.rstrip("/") + "/"
        self.listed = set(files)
        self._folders: dict[str, set[str]] = {}

    def resolve(self, base: str, value: str) -> str:
        """``base``: the CSV's folder as a path inside the store; the result is a URL."""
        tidy = value.strip().replace("\\", "/")
        if is_url(tidy):
            return tidy
        return self.fs.unstrip_protocol(posixpath.normpath(posixpath.join(base, tidy)))

    def exists(self, path: str) -> bool:
        inner = _inner_path(path)
        if inner.startswith(self.base):
            return inner in self.listed
        folder = posixpath.dirname(inner)
        if folder not in self._folders:
            try:
                self._folders[folder] = set(self.fs.ls(folder, detail=False))
            except OSError:
                self._folders[folder] = set()
        return inner in self._folders[folder]


def _inner_path(url: str) -> str:
    """``url`` as a path inside its store (what the store's listings return)."""
    import fsspec

    return fsspec.core.strip_protocol(url) if is_url(url) else url


def discover_url(url: str, *, crop_roi: bool = False) -> Discovery:
    """List the images under ``url`` (see the module docstring); :class:`SourceError` when
    it is missing, unreadable or holds none."""
    fs, root = filesystem(url)
    root = root.rstrip("/") or root
    try:
        info = fs.info(root)
    except FileNotFoundError:
        raise SourceError(f"not found: {url}") from None
    except PermissionError:
        raise SourceError(f"cannot read {url}: permission denied") from None
    except OSError as exc:
        raise SourceError(f"cannot read {url}: {exc.strerror or exc}") from None
    if info.get("type") != "directory":
        if not root.lower().endswith(_CSV_SUFFIXES):
            raise SourceError(f"expected a folder or a CSV file, got {posixpath.basename(root)}")
        result = _csv_listing(fs, root, crop_roi)
    else:
        files = _find(fs, root, url)
        names = {posixpath.relpath(p, root): p for p in files}
        listing = next((names[n] for n in _LISTINGS if n in names), None)
        result = _csv_listing(fs, listing, crop_roi, files) if listing else _folder_items(fs, root, files)
    if not result.items:
        detail = f" ({len(result.skipped)} listed files missing)" if result.skipped else ""
        raise SourceError(f"no images found in {url}{detail}")
    return result


def _find(fs, folder: str, url: str) -> list[str]:
    try:
        return sorted(fs.find(folder, withdirs=False))
    except PermissionError:
        raise SourceError(f"cannot read {url}: permission denied") from None
    except OSError as exc:
        raise SourceError(f"cannot read {url}: {exc.strerror or exc}") from None


def _csv_listing(fs, csv_path: str, crop_roi: bool, files: Optional[list[str]] = None) -> Discovery:
    """Items of the CSV at ``csv_path`` (paths relative to its folder)."""
    base = posixpath.dirname(csv_path)
    url = fs.unstrip_protocol(csv_path)
    try:
        raw = fs.cat_file(csv_path)
    except OSError as exc:
        raise SourceError(f"cannot read {url}: {exc.strerror or exc}") from None
    text = raw.decode("utf-8", "surrogateescape").lstrip("\ufeff")
    listed = files if files is not None else _find(fs, base, url)
    return discover_csv_rows(url, base, split_rows(text), crop_roi, UrlLocator(fs, base, listed))


def _folder_items(fs, root: str, files: list[str]) -> Discovery:
    """Class folders (label = first folder below ``root``) or a flat folder."""
    items: list[ImageItem] = []
    skipped: list[SkippedFile] = []
    for path in files:
        parts = posixpath.relpath(path, root).split("/")
        name = parts[-1]
        if any(is_hidden(p) for p in parts[:-1]):
            continue
        if is_hidden(name):
            if name.startswith(".") and not name.startswith("._") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
                skipped.append(SkippedFile(fs.unstrip_protocol(path), HIDDEN_REASON))
            continue
        if not is_candidate(name):
            if not (name.lower() in _QUIET_CSVS or name.lower().startswith("gt-")):
                skipped.append(SkippedFile(fs.unstrip_protocol(path), NOT_IMAGE_REASON))
            continue
        items.append(ImageItem(fs.unstrip_protocol(path), parts[0] if len(parts) > 1 else None))
    layout = "class-folders" if any(it.label is not None for it in items) else "flat"
    return Discovery(sort_items(items), layout, skipped)
