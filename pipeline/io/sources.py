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
  images may sit deeper inside a class folder; loose top-level images get no label). A
  subfolder named like a split (``Train/``, ``test/``, ...) that holds class folders gives
  its class folders' names instead (Kaggle's ``Train/<ClassId>/`` without ``Train.csv``), and
  a flat split folder beside it (Kaggle's ``Test/``) gives no label; linked top-level folders
  (``Train -> /data/train``) are read the same way.
* ``"flat"`` — a folder of images, no labels.
* ``"list"`` — a list of :class:`ImageItem` (or of paths) given directly, kept in order.

GTSRB labels are the ClassId as a plain decimal string (``"0"`` .. ``"42"``) in both
layouts. Hidden entries (dot-names, ``__MACOSX``) and files whose extension is not an
image format are ignored; files without an extension, or with an image extension, are
kept for the decoder, which reports those it cannot read. Items are sorted naturally
by path, ignoring case (``img2`` before ``img10``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Optional, Union

from pipeline.core.csvio import read_text
from pipeline.core.items import ImageItem, SkippedFile
from pipeline.io import remote
from pipeline.io.listing import (  # noqa: F401  (re-exported: the loader and tests import them from here)
    DUPLICATE_REASON, MISSING_REASON, Discovery, SourceError, class_label, discover_csv_rows, gtsrb_rows,
    natural_key, sort_items, split_rows,
)
from pipeline.io.walk import IMAGE_EXTENSIONS, NOT_IMAGE_REASON, FolderWalker, is_hidden  # noqa: F401

Source = Union[str, os.PathLike, Iterable[ImageItem]]


def discover(source: Source, *, crop_roi: bool = False) -> Discovery:
    """List the images of ``source`` (a folder, a CSV file, an fsspec URL, or ImageItems / paths).

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
    if remote.is_url(source):
        local = remote.local_path(os.fspath(source))
        if local is None:
            return remote.discover_url(os.fspath(source), crop_roi=crop_roi)
        source = local

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
    subfolders = walker.scan(top, real, None, label_links=True) if real is not None else []
    splits = {sub for sub in subfolders if _is_split_of_classes(sub)}  # e.g. Kaggle's Train/<ClassId>/, no CSV
    linked_splits = {link for link in walker.linked_folders() if _is_split_of_classes(link)}
    n_top = len(subfolders) + len(walker.linked_folders())  # real and linked folders at the top
    for sub in subfolders:
        if n_top > 1 and _list_icon_folder(sub, skipped):
            continue
        if sub in splits:
            _walk_split(walker, sub)
        elif (splits or linked_splits) and _is_split_name(sub):
            walker.walk(sub, None)  # another split beside them (Kaggle's flat Test/): its images are unlabeled
        else:
            walker.walk(sub, os.path.basename(sub))
    _linked_splits_and_icons(walker, n_top, skipped, linked_splits, beside_split=bool(splits or linked_splits))
    items = [ImageItem(path, label) for path, label in walker.files()]
    layout = "class-folders" if any(it.label is not None for it in items) else "flat"
    return Discovery(_sorted(items), layout, skipped)


def _walk_split(walker: FolderWalker, split: str) -> None:
    """A split folder (``Train/``) labels its images by its class folders."""
    real = walker.enter(split)
    for inner in walker.scan(split, real, None, label_links=True) if real is not None else []:
        walker.walk(inner, os.path.basename(inner))


def _linked_splits_and_icons(walker: FolderWalker, n_top: int, skipped: list[SkippedFile], linked_splits: set,
                             beside_split: bool) -> None:
    """Top-level linked folders get the real ones' treatment: a linked ``Meta/`` of icons is listed,
    a linked split of class folders (``Train -> /data/train``, one of ``linked_splits``) labels by
    them, not by its own name, and a linked flat split (``Test -> /data/test``) beside a split
    (``beside_split``) is read unlabeled. Every real top-level folder has been read by now, so real
    files still come first."""
    for link in walker.linked_folders():
        if n_top > 1 and _list_icon_folder(link, skipped):
            walker.drop_linked(link)
        elif link in linked_splits:
            walker.drop_linked(link)
            _walk_split(walker, link)
        elif beside_split and _is_split_name(link):
            walker.drop_linked(link)
            walker.walk(link, None)


#: Folder names that are a dataset split, not a class: one holding class folders labels by those.
SPLIT_FOLDERS = frozenset({"train", "training", "val", "valid", "validation", "test", "testing"})


def _is_split_name(folder: str) -> bool:
    """``folder`` is named like a split (``Train``, ``test``, ...)."""
    return os.path.basename(folder).lower() in SPLIT_FOLDERS


def _is_split_of_classes(folder: str) -> bool:
    """``folder`` is named like a split and holds at least two visible folders."""
    if not _is_split_name(folder):
        return False
    try:
        with os.scandir(folder) as entries:
            return sum(1 for e in entries if not is_hidden(e.name) and e.is_dir()) >= 2
    except OSError:
        return False


ICON_REASON = "a taxonomy icon (Meta/ holds the class pictograms), not an image to cluster"


def _list_icon_folder(folder: str, skipped: list[SkippedFile]) -> bool:
    """True when ``folder`` is a ``Meta/`` of class icons (only ``<int>.<image type>`` files).

    GTSRB ships its pictograms there; the pictogram prior reads them as the taxonomy's icons,
    so they are listed as skipped instead of being clustered as a class named "Meta".
    """
    if os.path.basename(folder).lower() != "meta":
        return False
    try:
        with os.scandir(folder) as entries:
            files = [entry for entry in entries if not is_hidden(entry.name)]
    except OSError:
        return False
    stems = [os.path.splitext(entry.name) for entry in files]
    if not files or not all(entry.is_file() and stem.isdigit() and ext.lower() in IMAGE_EXTENSIONS
                            for entry, (stem, ext) in zip(files, stems)):
        return False
    skipped.extend(SkippedFile(entry.path, ICON_REASON) for entry in sorted(files, key=lambda e: e.name))
    return True


def _sorted(items: list[ImageItem]) -> list[ImageItem]:
    return sort_items(items)


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
        label = class_label(class_dir.name) if class_dir.name.isdigit() else None
        files, _ = _scan(class_dir, skipped)
        items.extend(ImageItem(p, label) for p in files if os.path.normcase(p) not in listed)
    return Discovery(_sorted(items), "gtsrb-official", skipped)


# --------------------------------------------------------------------------- CSV files


def _read_rows(csv_path: Path) -> list[list[str]]:
    try:
        text = read_text(csv_path)  # bytes that are not UTF-8 stay as surrogate escapes (file names)
    except PermissionError:
        raise SourceError(f"cannot read {csv_path}: permission denied") from None
    except OSError as exc:
        raise SourceError(f"cannot read {csv_path}: {exc.strerror or exc}") from None
    return split_rows(text)


def _discover_csv_file(csv_path: Path, crop_roi: bool) -> Discovery:
    return discover_csv_rows(str(csv_path), os.fspath(csv_path.parent), _read_rows(csv_path), crop_roi)


def _read_gtsrb_csv(csv_path: Path, crop_roi: bool, skipped: list[SkippedFile]) -> list[ImageItem]:
    rows = _read_rows(csv_path)
    if not rows:
        return []
    return gtsrb_rows(os.fspath(csv_path.parent), rows, crop_roi, skipped)
