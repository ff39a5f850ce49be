"""Decoding a large JSON document without holding the interpreter lock for all of it.

``json.loads`` is one C call: decoding the 4 MB ``project.json`` of a 39,209-image project
keeps every other Python thread (the window's UI thread among them) waiting 100-200 ms.
:func:`loads_in_pieces` gives the same result, but decodes the elements of a top-level
object's arrays one ``raw_decode`` call at a time, so other threads run in between.
"""
from __future__ import annotations

import json
import re
from typing import Any

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _skip(text: str, idx: int) -> int:
    return _SPACE.match(text, idx).end()


def _expect(text: str, idx: int, chars: str) -> str:
    if idx >= len(text) or text[idx] not in chars:
        raise json.JSONDecodeError(f"Expecting one of {chars!r}", text, idx)
    return text[idx]


def _array(text: str, idx: int) -> tuple[list, int]:
    """Decode the array starting at ``text[idx] == "["`` element by element."""
    items: list = []
    idx = _skip(text, idx + 1)
    if text.startswith("]", idx):
        return items, idx + 1
    while True:
        value, idx = _DECODER.raw_decode(text, idx)
        items.append(value)
        idx = _skip(text, idx)
        if _expect(text, idx, ",]") == "]":
            return items, idx + 1
        idx = _skip(text, idx + 1)


def loads_in_pieces(text: str) -> Any:
    """``json.loads(text)``, decoding a top-level object's array values piece by piece.

    Raises :class:`json.JSONDecodeError` (a ``ValueError``) on malformed input, like ``json.loads``.
    """
    idx = _skip(text, 0)
    if not text.startswith("{", idx):
        return json.loads(text)
    out: dict[str, Any] = {}
    idx = _skip(text, idx + 1)
    if text.startswith("}", idx):
        idx += 1
    else:
        while True:
            _expect(text, idx, '"')
            key, idx = _DECODER.raw_decode(text, idx)
            idx = _skip(text, idx)
            _expect(text, idx, ":")
            idx = _skip(text, idx + 1)
            if text.startswith("[", idx):
                value, idx = _array(text, idx)
            else:
                value, idx = _DECODER.raw_decode(text, idx)
            out[key] = value
            idx = _skip(text, idx)
            if _expect(text, idx, ",}") == "}":
                idx += 1
                break
            idx = _skip(text, idx + 1)
    if _skip(text, idx) != len(text):
        raise json.JSONDecodeError("Extra data", text, _skip(text, idx))
    return out
