"""Walking image folders so that each real file is listed once and nothing is dropped silently.

* Symbolic links to folders are followed once: a link back to the folder itself or to
  one of its parents is a loop (reported with :data:`LOOP_REASON`, not followed); a
  second way into a folder already read is reported with :data:`ALIAS_REASON`.
  Real folders win over links to them, whatever order the file system lists them in.
* A symbolic link to a file that is already listed is reported with
  :data:`SAME_FILE_REASON`; broken links are kept for the decoder, which reports them.
* Files whose extension is not an image type are reported with
  :data:`NOT_IMAGE_REASON`, hidden images (``.name.png``) with :data:`HIDDEN_REASON`;
  other hidden entries (dot names, ``__MACOSX``, macOS ``._`` forks, ``Thumbs.db``...)
  and the label CSVs of known layouts are left out without a word.

File names are ``str`` with surrogate escapes for bytes that are not UTF-8 (what
:func:`os.fsdecode` and :func:`os.scandir` give), so every name found can be opened.
"""
from __future__ import annotations

import os
from typing import Optional

from pipeline.core.items import SkippedFile

NOT_IMAGE_REASON = "not an image type we read"
LOOP_REASON = "symbolic link loop (points back to a folder it is inside); not followed"
ALIAS_REASON = "link to a folder already read as {other}; not read twice"
SAME_FILE_REASON = "same file as {other}; listed once"
HIDDEN_REASON = "hidden file (its name starts with a dot); not read"

#: File extensions handed to the decoder (lower case). Anything Pillow can open, plus
#: formats Pillow may lack a plugin for, so that those are reported rather than ignored.
IMAGE_EXTENSIONS = frozenset(
    {
        ".ppm", ".pgm", ".pbm", ".pnm", ".pfm",
        ".png", ".apng",
        ".jpg", ".jpeg", ".jpe", ".jfif",
        ".bmp", ".dib",
        ".tif", ".tiff",
        ".webp",
        ".gif",
        ".ico", ".icns", ".cur",
        ".tga", ".pcx", ".sgi", ".rgb", ".bw", ".ras", ".xbm", ".dds", ".qoi", ".psd",
        ".jp2", ".j2k", ".jpx", ".jpf",
        ".heic", ".heif", ".avif", ".jxl",
    }
)

#: Folder names that are never image folders.
IGNORED_DIRS = frozenset({"__MACOSX", "@eaDir", "$RECYCLE.BIN", "System Volume Information"})
#: Files operating systems leave in folders; never worth a line in skipped.csv.
SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini", "ehthumbs.db"})


def is_hidden(name: str) -> bool:
    return (name.startswith(".") or name in IGNORED_DIRS
            or (name[-3:] in (".db", ".DB", "ini", "INI") and name.lower() in SYSTEM_FILES))


def _has_image_suffix(name: str) -> bool:
    """An image extension, or no extension at all (the decoder reads the header)."""
    suffix = os.path.splitext(name)[1].lower().rstrip()  # "photo.jpg " is a JPEG too
    return suffix == "" or suffix in IMAGE_EXTENSIONS


def is_candidate(name: str) -> bool:
    """Files worth handing to the decoder: not hidden, with an image extension or none."""
    return not is_hidden(name) and _has_image_suffix(name)


def _is_hidden_image(entry: os.DirEntry) -> bool:
    """A dot-named image file someone may have hidden on purpose (not a macOS ``._`` fork)."""
    name = entry.name
    if not name.startswith(".") or name.startswith("._") or os.path.splitext(name)[1].lower() not in IMAGE_EXTENSIONS:
        return False
    try:
        return entry.is_file()
    except OSError:
        return False


def _is_label_csv(name: str) -> bool:
    low = name.lower()
    return low.endswith(".csv") and (low.startswith("gt-") or low in ("labels.csv", "train.csv", "test.csv", "meta.csv"))


def _inside(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or lies below it (both real, absolute)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class FolderWalker:
    """Lists candidate files below folders, recording what it leaves out in ``skipped``."""

    def __init__(self, skipped: list[SkippedFile]) -> None:
        self.skipped = skipped
        self._read_dirs: dict[str, str] = {}  # real folder -> the path it was read as
        self._files: list[tuple[str, Optional[str], str]] = []  # (path, label, real folder)
        self._linked_files: list[tuple[str, Optional[str], str]] = []  # (path, label, real path)
        self._deferred: list[tuple[str, Optional[str]]] = []  # linked folders, read last

    # ------------------------------------------------------------------ folders
    def enter(self, folder: str, *, root: bool = False) -> Optional[str]:
        """Real path of ``folder`` if it should be read now, else ``None`` (and it is reported).

        ``root``: the folder the user chose, read even when it is a link to a parent.
        """
        real = os.path.realpath(folder)
        if not root and os.path.islink(folder):
            parent_real = os.path.realpath(os.path.dirname(os.path.abspath(folder)))
            if _inside(parent_real, real):
                self.skipped.append(SkippedFile(folder, LOOP_REASON))
                return None
        if real in self._read_dirs:
            self.skipped.append(SkippedFile(folder, ALIAS_REASON.format(other=self._read_dirs[real])))
            return None
        self._read_dirs[real] = folder
        return real

    def scan(self, folder: str, real: str, label: Optional[str], *, label_links: bool = False) -> list[str]:
        """Record the candidate files directly in ``folder``; return its real subfolders.

        Linked subfolders are queued and read by :meth:`files` after every real folder,
        labelled ``label`` (or, with ``label_links``, by the link's own name).
        """
        dirs: list[str] = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    self._visit(entry, real, label, dirs, label_links)
        except PermissionError:
            self.skipped.append(SkippedFile(folder, "unreadable folder: permission denied"))
        except OSError as exc:
            self.skipped.append(SkippedFile(folder, f"unreadable folder: {exc.strerror or exc}"))
        return sorted(dirs)

    def _visit(self, entry: os.DirEntry, real: str, label, dirs: list, label_links: bool) -> None:
        if is_hidden(entry.name):
            if _is_hidden_image(entry):
                self.skipped.append(SkippedFile(entry.path, HIDDEN_REASON))
            return
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir()
        except OSError:
            is_link, is_dir = False, False
        if is_dir:
            if is_link:
                self._deferred.append((entry.path, entry.name if label_links else label))
            else:
                dirs.append(entry.path)
        elif _has_image_suffix(entry.name):  # includes broken links: the decoder reports them
            if is_link:
                self._linked_files.append((entry.path, label, os.path.realpath(entry.path)))
            else:
                self._files.append((entry.path, label, real))
        elif not _is_label_csv(entry.name):
            self.skipped.append(SkippedFile(entry.path, NOT_IMAGE_REASON))

    def walk(self, folder: str, label: Optional[str]) -> None:
        """Record every candidate file below ``folder``, all with ``label`` (links: later)."""
        if os.path.islink(folder):
            self._deferred.append((folder, label))
            return
        self._walk_now(folder, label)

    def _walk_now(self, folder: str, label: Optional[str]) -> None:
        stack = [folder]
        while stack:
            current = stack.pop()
            real = self.enter(current)
            if real is not None:
                stack.extend(reversed(self.scan(current, real, label)))

    # ------------------------------------------------------------------ files
    def linked_folders(self) -> list[str]:
        """Linked folders queued and not read yet."""
        return sorted(path for path, _ in self._deferred)

    def drop_linked(self, folder: str) -> None:
        """Take the queued linked ``folder`` off the queue (its caller reads or lists it)."""
        self._deferred = [entry for entry in self._deferred if entry[0] != folder]

    def files(self, *, read_links: bool = True) -> list[tuple[str, Optional[str]]]:
        """``(path, label)`` of each real file once; links to listed files are reported.

        Queued linked folders are read first (unless ``read_links`` is false).
        """
        while read_links and self._deferred:
            self._walk_now(*self._deferred.pop(0))
        out = [(path, label) for path, label, _ in self._files]
        if not self._linked_files:
            return out
        # real files win over links to them; folders are read once, so only links can repeat a file
        kept = {os.path.join(real, os.path.basename(path)): path for path, _, real in self._files}
        for path, label, real in self._linked_files:
            other = kept.get(real)
            if other is not None:
                self.skipped.append(SkippedFile(path, SAME_FILE_REASON.format(other=other)))
                continue
            kept[real] = path
            out.append((path, label))
        return out
