"""Session values as SQLite stores them: compact JSON, class ids as JSON strings, display text.

Surrogate escapes (names from non-UTF-8 folders) survive as JSON escapes, so SQLite never
refuses a value and every value reads back exactly.
"""
from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any, Optional

import numpy as np

from pipeline.core.gil_slices import split_in_slices
from pipeline.review.edits import ReviewError


def pack_json(value: Any) -> tuple[bytes, int]:
    data = zlib.compress(db_json(value).encode("utf-8"), 1)
    return data, zlib.crc32(data)


def pack_strings(items: list[Optional[str]]) -> Optional[tuple[bytes, int]]:
    """Strings (``None`` as ``""``) joined by NUL, UTF-8 with surrogates kept, zlib; ``None`` if one holds a NUL.

    Paths never hold NUL, so this is what ``static`` stores for them: it reads back with one
    decode and one split instead of a JSON parse of a million strings.
    """
    text = "\0".join(["" if s is None else s for s in items])
    if text.count("\0") != max(len(items) - 1, 0):
        return None
    data = zlib.compress(text.encode("utf-8", "surrogatepass"), 1)
    return data, zlib.crc32(data)


def unpack_strings(data: bytes, n: int) -> list[str]:
    """The ``n`` strings :func:`pack_strings` stored (``""`` where it stored ``None``)."""
    if n == 0:
        return []
    # in pieces: one decode and split of a million paths would hold the interpreter for ~0.3 s
    return split_in_slices(zlib.decompress(data), b"\0", lambda piece: piece.decode("utf-8", "surrogatepass").split("\0"))


def pack_labels(labels: list[Optional[str]]) -> tuple[bytes, int]:
    """Labels as their distinct values (JSON) and one int32 code per image, zlib: a few bytes per
    image, and read back with one numpy lookup (:func:`unpack_labels`)."""
    index: dict[Optional[str], int] = {}
    codes = np.fromiter(map(lambda g: index.setdefault(g, len(index)), labels), np.int32, len(labels))
    head = db_json(list(index)).encode("utf-8")
    data = zlib.compress(len(head).to_bytes(4, "little") + head + codes.astype("<i4").tobytes(), 6)
    return data, zlib.crc32(data)


def unpack_labels(data: bytes, n: int) -> list[Optional[str]]:
    """The ``n`` labels :func:`pack_labels` stored."""
    raw = zlib.decompress(data)
    size = int.from_bytes(raw[:4], "little")
    values = json.loads(raw[4:4 + size].decode("utf-8"))
    distinct = np.empty(len(values), dtype=object)
    distinct[:] = values
    codes = np.frombuffer(raw[4 + size:], dtype="<i4")
    if len(codes) != n or (n and (codes.min() < 0 or codes.max() >= len(distinct))):
        raise ValueError("the stored label codes do not match the images")
    return distinct[codes].tolist()


def stored_name(name: str) -> str:
    """A class id as stored: a JSON string (ASCII), so a name from a non-UTF-8 folder survives."""
    return json.dumps(name)


def read_name(stored: str) -> str:
    return json.loads(stored) if stored.startswith('"') else stored


def display_text(text: str) -> str:
    """Text for display columns (the exact values are in the edit itself): never refused by SQLite."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _plain(value: Any) -> Any:
    """JSON for the numpy values, paths and sets that configs and notes may hold."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot save a value of type {type(value).__name__} in a session")


def session_json(value: Any) -> str:
    """Compact JSON of session data (numpy values, paths and sets allowed); :class:`ReviewError` otherwise.

    Non-UTF-8 file names stay surrogate escapes in the text (the JSON session file writes them so).
    """
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_plain)
    except (TypeError, ValueError) as exc:
        raise ReviewError(f"session cannot be saved: {exc} (check 'config' and 'notes')") from None


def db_json(value: Any) -> str:
    """:func:`session_json` for SQLite text; a surrogate escape becomes the JSON escape "\udce9"."""
    return session_json(value).encode("utf-8", "backslashreplace").decode("utf-8")
