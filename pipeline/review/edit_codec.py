"""Edits as plain JSON data, for the session database's edit journal.

:func:`edit_to_dict` / :func:`edit_from_dict` turn an :class:`~pipeline.review.edits.Edit`
into JSON-serialisable data and back without loss (arrays as lists of ints/bools,
cluster ids as string keys). Image indices are stored as differences from the previous
index and per-image values as runs (``[value, count, ...]``), so a merge of a cluster costs
about 1-2 bytes per moved image after zlib, not the 15-20 of plain lists (version 1, still
read). :func:`encode_edit` / :func:`decode_edit` add compact JSON and zlib, which is what
the journal stores. :func:`inverse` swaps before and after.
"""
from __future__ import annotations

import json
import zlib
from typing import Any

import numpy as np

from pipeline.review.edits import Edit, FlagChange, ReviewError

CODEC_VERSION = 2


def _deltas(indices: np.ndarray) -> list[int]:
    return np.diff(np.asarray(indices, dtype=np.int64), prepend=0).tolist()


def _undelta(data: Any) -> np.ndarray:
    return np.cumsum(np.asarray(data, dtype=np.int64).reshape(-1))


def _runs(values: np.ndarray) -> list[int]:
    """``[value, count, value, count, ...]`` of consecutive equal values (bools as 0/1)."""
    v = np.asarray(values).astype(np.int64)
    if not len(v):
        return []
    starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    counts = np.diff(np.r_[starts, len(v)])
    return np.column_stack([v[starts], counts]).reshape(-1).tolist()


def _unrun(data: Any, dtype) -> np.ndarray:
    pairs = np.asarray(data, dtype=np.int64).reshape(-1, 2)
    if (pairs[:, 1] < 0).any():
        raise ValueError("negative run length")
    return np.repeat(pairs[:, 0], pairs[:, 1]).astype(dtype)


def _flags_to_dict(change: FlagChange) -> dict:
    return {"d": _deltas(change.indices), "b": _runs(change.before), "a": _runs(change.after)}


def _flags_from_dict(data: dict, version: int) -> FlagChange:
    if version == 1:
        return FlagChange(np.asarray(data["i"], dtype=np.int64).reshape(-1),
                          np.asarray(data["b"], dtype=bool).reshape(-1),
                          np.asarray(data["a"], dtype=bool).reshape(-1))
    change = FlagChange(_undelta(data["d"]), _unrun(data["b"], bool), _unrun(data["a"], bool))
    if not len(change.indices) == len(change.before) == len(change.after):
        raise ValueError("flag indices and values differ in length")
    return change


def _assign_from(data: Any, version: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if version == 1:
        idx, before, after = data
        return tuple(np.asarray(x, dtype=np.int64).reshape(-1) for x in (idx, before, after))
    return _undelta(data["d"]), _unrun(data["b"], np.int64), _unrun(data["a"], np.int64)


def _pairs_to_dict(changes: dict) -> dict:
    return {str(k): [b, a] for k, (b, a) in changes.items()}


def _pairs_from_dict(data: dict, cast) -> dict:
    return {int(k): (cast(b), cast(a)) for k, (b, a) in data.items()}


def _opt_str(value: Any):
    return None if value is None else str(value)


def edit_to_dict(edit: Edit) -> dict:
    """The JSON-serialisable form of ``edit`` (see :func:`edit_from_dict`)."""
    return {
        "v": CODEC_VERSION,
        "kind": edit.kind,
        "text": edit.text,
        "assign": {"d": _deltas(edit.assign_indices), "b": _runs(edit.assign_before), "a": _runs(edit.assign_after)},
        "names": _pairs_to_dict(edit.names),
        "accepted": _pairs_to_dict(edit.accepted),
        "image_labels": _pairs_to_dict(edit.image_labels),
        "rejected": _flags_to_dict(edit.rejected),
        "reviewed": _flags_to_dict(edit.reviewed),
        "clusters": sorted(int(c) for c in edit.clusters),
        "new_clusters": [int(c) for c in edit.new_clusters],
    }


def edit_from_dict(data: Any) -> Edit:
    """Rebuild an :class:`Edit` from :func:`edit_to_dict` output; :class:`ReviewError` if malformed."""
    try:
        version = data.get("v") if isinstance(data, dict) else None
        if version not in (1, CODEC_VERSION):
            raise ReviewError("unknown edit format")
        idx, before, after = _assign_from(data["assign"], version)
        if not len(idx) == len(before) == len(after):
            raise ValueError("image indices and cluster ids differ in length")
        return Edit(
            str(data["kind"]),
            str(data["text"]),
            assign_indices=idx,
            assign_before=before,
            assign_after=after,
            names=_pairs_from_dict(data["names"], _opt_str),
            accepted=_pairs_from_dict(data["accepted"], bool),
            image_labels=_pairs_from_dict(data["image_labels"], _opt_str),
            rejected=_flags_from_dict(data["rejected"], version),
            reviewed=_flags_from_dict(data["reviewed"], version),
            clusters=frozenset(int(c) for c in data["clusters"]),
            new_clusters=tuple(int(c) for c in data["new_clusters"]),
        )
    except ReviewError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ReviewError(f"a journal entry is damaged ({exc})") from None


def encode_edit(edit: Edit) -> bytes:
    """``edit`` as zlib-compressed compact JSON (what the journal stores)."""
    text = json.dumps(edit_to_dict(edit), ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(text.encode("utf-8", "backslashreplace"), 6)  # non-UTF-8 label -> JSON "\udce9"


def decode_edit(blob: bytes) -> Edit:
    """The :class:`Edit` :func:`encode_edit` stored; :class:`ReviewError` if damaged."""
    try:
        data = json.loads(zlib.decompress(blob).decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise ReviewError(f"a journal entry is damaged ({exc})") from None
    return edit_from_dict(data)


def inverse(edit: Edit, text: str = "") -> Edit:
    """The edit that undoes ``edit`` (before and after swapped)."""
    def swap(changes: dict) -> dict:
        return {k: (a, b) for k, (b, a) in changes.items()}

    def flags(change: FlagChange) -> FlagChange:
        return FlagChange(change.indices, change.after, change.before)

    return Edit(
        edit.kind, text or f"Undo: {edit.text}",
        assign_indices=edit.assign_indices, assign_before=edit.assign_after, assign_after=edit.assign_before,
        names=swap(edit.names), accepted=swap(edit.accepted), image_labels=swap(edit.image_labels),
        rejected=flags(edit.rejected), reviewed=flags(edit.reviewed),
        clusters=edit.clusters, new_clusters=(),
    )
