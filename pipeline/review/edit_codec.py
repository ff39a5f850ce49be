"""Edits as plain JSON data, for the session database's edit journal.

:func:`edit_to_dict` / :func:`edit_from_dict` turn an :class:`~pipeline.review.edits.Edit`
into JSON-serialisable data and back without loss (arrays as lists of ints/bools,
cluster ids as string keys). :func:`encode_edit` / :func:`decode_edit` add compact JSON
and zlib, which is what the journal stores. :func:`inverse` swaps before and after.
"""
from __future__ import annotations

import json
import zlib
from typing import Any

import numpy as np

from pipeline.review.edits import Edit, FlagChange, ReviewError

CODEC_VERSION = 1


def _flags_to_dict(change: FlagChange) -> dict:
    return {"i": change.indices.tolist(), "b": change.before.tolist(), "a": change.after.tolist()}


def _flags_from_dict(data: dict) -> FlagChange:
    return FlagChange(np.asarray(data["i"], dtype=np.int64).reshape(-1),
                      np.asarray(data["b"], dtype=bool).reshape(-1),
                      np.asarray(data["a"], dtype=bool).reshape(-1))


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
        "assign": [edit.assign_indices.tolist(), edit.assign_before.tolist(), edit.assign_after.tolist()],
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
        if not isinstance(data, dict) or data.get("v") != CODEC_VERSION:
            raise ReviewError("unknown edit format")
        idx, before, after = data["assign"]
        return Edit(
            str(data["kind"]),
            str(data["text"]),
            assign_indices=np.asarray(idx, dtype=np.int64).reshape(-1),
            assign_before=np.asarray(before, dtype=np.int64).reshape(-1),
            assign_after=np.asarray(after, dtype=np.int64).reshape(-1),
            names=_pairs_from_dict(data["names"], _opt_str),
            accepted=_pairs_from_dict(data["accepted"], bool),
            image_labels=_pairs_from_dict(data["image_labels"], _opt_str),
            rejected=_flags_from_dict(data["rejected"]),
            reviewed=_flags_from_dict(data["reviewed"]),
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
