"""The list of classes a reviewer can give to a cluster or an image.

A :class:`Taxonomy` is an ordered list of :class:`TaxonomyClass` (id, display name,
optional icon file). The default is the 43 GTSRB traffic-sign classes; any other
list can be read from a CSV with columns ``id,name[,icon]``.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

PathLike = Union[str, Path]



def _resources_dir() -> Path:
    """``pipeline/resources``: a link to the repository's top-level ``resources/`` that wheels
    copy in; where a checkout has no symlinks (Windows), the top-level folder itself."""
    packaged = Path(__file__).resolve().parents[1] / "resources"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "resources"


RESOURCES_DIR = _resources_dir()

GTSRB_CLASSES_CSV = RESOURCES_DIR / "gtsrb_classes.csv"


class TaxonomyError(ValueError):
    """A taxonomy file could not be read; the message says which line and why."""


@dataclass(frozen=True)
class TaxonomyClass:
    """One class: a stable string ``id``, a human ``name`` and an optional icon path."""

    id: str
    name: str
    icon: Optional[str] = None

    @property
    def label(self) -> str:
        """``"<id> - <name>"``, for lists and menus."""
        return self.id if not self.name or self.name == self.id else f"{self.id} - {self.name}"


class Taxonomy:
    """An ordered list of classes with unique ids, searchable by id or name."""

    def __init__(self, classes: Iterable[TaxonomyClass]) -> None:
        self.classes: list[TaxonomyClass] = list(classes)
        self._by_id: dict[str, TaxonomyClass] = {}
        for cls in self.classes:
            if not cls.id:
                raise TaxonomyError("a class has an empty id")
            if cls.id in self._by_id:
                raise TaxonomyError(f"duplicate class id {cls.id!r}")
            self._by_id[cls.id] = cls

    def __len__(self) -> int:
        return len(self.classes)

    def __iter__(self) -> Iterator[TaxonomyClass]:
        return iter(self.classes)

    def __contains__(self, class_id: object) -> bool:
        return class_id in self._by_id

    def __repr__(self) -> str:
        return f"Taxonomy({len(self.classes)} classes)"

    def ids(self) -> list[str]:
        return [c.id for c in self.classes]

    def by_id(self, class_id: Optional[str]) -> Optional[TaxonomyClass]:
        """The class with this id, or ``None`` when there is none."""
        if class_id is None:
            return None
        return self._by_id.get(str(class_id))

    def name_of(self, class_id: Optional[str]) -> str:
        """Display name for ``class_id``: its name, the bare id if unknown, ``""`` for ``None``."""
        if class_id is None:
            return ""
        cls = self._by_id.get(str(class_id))
        return cls.name if cls is not None else str(class_id)

    def search(self, text: str) -> list[TaxonomyClass]:
        """Classes whose id or name contains ``text`` (case-insensitive).

        Exact id matches come first, then names starting with ``text``, then the rest,
        each group in taxonomy order. Empty text returns every class.
        """
        needle = (text or "").strip().casefold()
        if not needle:
            return list(self.classes)
        ranked: list[tuple[int, int, TaxonomyClass]] = []
        for pos, cls in enumerate(self.classes):
            cid, name = cls.id.casefold(), cls.name.casefold()
            if cid == needle:
                rank = 0
            elif name.startswith(needle) or cid.startswith(needle):
                rank = 1
            elif needle in name or needle in cid:
                rank = 2
            else:
                continue
            ranked.append((rank, pos, cls))
        ranked.sort(key=lambda t: (t[0], t[1]))
        return [cls for _, _, cls in ranked]

    @classmethod
    def load_csv(cls, path: PathLike) -> "Taxonomy":
        """Read ``id,name[,icon]`` rows; the header row is optional.

        Icon paths are relative to the CSV's folder and must exist. Raises
        :class:`TaxonomyError` naming the file and line for any problem.
        """
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise TaxonomyError(f"cannot read taxonomy file {path}: {exc.strerror or exc}") from exc
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TaxonomyError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from exc
        if "\x00" in text:
            raise TaxonomyError(f"{path}: not a text CSV file (contains NUL bytes)")
        classes: list[TaxonomyClass] = []
        seen: dict[str, int] = {}
        rows = csv.reader(text.splitlines())
        for lineno, row in enumerate(rows, start=1):
            cells = [c.strip() for c in row]
            if not cells or all(not c for c in cells) or cells[0].startswith("#"):
                continue
            if not classes and not seen and _is_header(cells):
                continue
            while len(cells) > 2 and not cells[-1]:
                cells.pop()
            if len(cells) < 2 or len(cells) > 3:
                raise TaxonomyError(
                    f"{path}, line {lineno}: expected 2 or 3 columns (id,name[,icon]), got {len(cells)}"
                )
            class_id, name = cells[0], cells[1]
            if not class_id:
                raise TaxonomyError(f"{path}, line {lineno}: empty class id")
            if class_id in seen:
                raise TaxonomyError(
                    f"{path}, line {lineno}: duplicate class id {class_id!r} (first on line {seen[class_id]})"
                )
            icon: Optional[str] = None
            if len(cells) == 3 and cells[2]:
                icon_path = Path(cells[2])
                if not icon_path.is_absolute():
                    icon_path = path.parent / icon_path
                if not icon_path.is_file():
                    raise TaxonomyError(f"{path}, line {lineno}: icon file not found: {icon_path}")
                icon = str(icon_path)
            seen[class_id] = lineno
            classes.append(TaxonomyClass(class_id, name or class_id, icon))
        if not classes:
            raise TaxonomyError(f"{path}: no classes found (expected rows of id,name[,icon])")
        return cls(classes)

    @classmethod
    def gtsrb(cls, meta_dir: Optional[PathLike] = None) -> "Taxonomy":
        """The 43 GTSRB classes (ids ``"0"``..``"42"``) with their standard names.

        ``meta_dir`` may be a GTSRB folder in the Kaggle layout (containing ``Meta/``)
        or the ``Meta`` folder itself; ``<id>.png`` files found there become icons.
        Without it, or for missing pictures, ``icon`` is ``None``.
        """
        base = cls.load_csv(GTSRB_CLASSES_CSV)
        icons_dir = _find_meta_dir(meta_dir)
        if icons_dir is None:
            return base
        classes = []
        for c in base.classes:
            icon = icons_dir / f"{c.id}.png"
            classes.append(TaxonomyClass(c.id, c.name, str(icon) if icon.is_file() else None))
        return cls(classes)


def _is_header(cells: list[str]) -> bool:
    first = [c.casefold() for c in cells[:2]]
    return len(first) == 2 and first[0] in {"id", "classid", "class_id"} and first[1] in {
        "name",
        "signname",
        "class_name",
        "classname",
    }


def _find_meta_dir(meta_dir: Optional[PathLike]) -> Optional[Path]:
    if meta_dir is None:
        return None
    folder = Path(meta_dir)
    for candidate in (folder / "Meta", folder / "meta", folder):
        if candidate.is_dir() and any(candidate.glob("*.png")):
            return candidate
    return None
