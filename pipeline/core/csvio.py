"""CSV files that carry any file name: UTF-8, with surrogate escapes for non-UTF-8 bytes.

File names that are not valid UTF-8 (``bad\\xe9.png`` from a Latin-1 camera card) reach
Python as ``str`` with surrogate escapes (:func:`os.fsdecode`). Writing them with
``errors="surrogateescape"`` puts the name's original bytes back into the file, and
reading with the same handler gives the same ``str`` again, so a path read from one
of our CSVs opens the same file. Every CSV goes through :mod:`pipeline.core.atomic`.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

from pipeline.core.atomic import atomic_write_bytes

ENCODING = "utf-8"
ERRORS = "surrogateescape"

PathLike = Union[str, Path]


def csv_bytes(header: Optional[Sequence], rows: Iterable[Sequence], *, lineterminator: str = "\r\n") -> bytes:
    """``header`` (if any) and ``rows`` as CSV bytes (fields with commas, quotes or newlines quoted)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=lineterminator)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(ENCODING, ERRORS)


def write_csv(path: PathLike, header: Optional[Sequence], rows: Iterable[Sequence], *,
              lineterminator: str = "\r\n") -> Path:
    """Write a CSV atomically (see :func:`csv_bytes`); returns ``path``."""
    path = Path(path)
    atomic_write_bytes(path, csv_bytes(header, rows, lineterminator=lineterminator))
    return path


def read_text(path: PathLike) -> str:
    """A CSV's text as :func:`write_csv` wrote it (a UTF-8 BOM is dropped; newlines kept as is)."""
    with open(path, "r", encoding="utf-8-sig", errors=ERRORS, newline="") as fh:
        return fh.read()
