"""On-disk cache of decoded images at the working size, one blob per source and setting.

A *group* is (source, working size, ROI on/off, decoder version). Each group is two
files in the cache folder:

* ``<group>-<token>.npy`` — every cached image of the group, ``uint8 (N, H, W, 3)``,
  read back memory-mapped;
* ``<group>.json`` — the index: for each blob row the file's absolute path, ``mtime_ns``,
  byte size and ROI; plus files that failed to decode, with their reason.

An entry is used only when path, mtime, size and ROI all still match, so a changed
file is decoded again. Writes are atomic: the blob is written under a fresh name,
then the index is replaced with ``os.replace`` (the commit point), then the old blob
is removed. An index or blob that cannot be read or does not match is ignored (and
rewritten by the next store); cache problems never fail a load.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from pipeline.core.atomic import atomic_path, atomic_write
from pipeline.io.decode import DECODE_VERSION

log = logging.getLogger(__name__)

INDEX_FORMAT = 1
_STALE_SECONDS = 3600.0
_WRITE_ROWS = 4096


@dataclass(frozen=True)
class FileKey:
    """Identity of one input as decoded: file path + mtime + size + ROI."""

    path: str
    mtime_ns: int
    size: int
    roi: Optional[tuple[int, int, int, int]] = None

    def as_json(self) -> list:
        return [self.path, self.mtime_ns, self.size, None if self.roi is None else list(self.roi)]

    @classmethod
    def from_json(cls, value) -> "FileKey":
        path, mtime_ns, size, roi = value
        return cls(str(path), int(mtime_ns), int(size), None if roi is None else tuple(int(v) for v in roi))


def file_key(path: str, roi=None) -> Optional[FileKey]:
    """The current key of ``path`` (None when it cannot be stat-ed)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return FileKey(os.path.abspath(path), st.st_mtime_ns, st.st_size, None if roi is None else tuple(int(v) for v in roi))


class DecodeCache:
    """The cached decodes of one source at one working size and ROI setting."""

    def __init__(self, cache_dir, source_id: str, size: tuple[int, int], crop_roi: bool) -> None:
        self.folder = Path(cache_dir)
        self.size = (int(size[0]), int(size[1]))
        self.crop_roi = bool(crop_roi)
        self.source_id = source_id
        digest = hashlib.sha1(f"{source_id}|{self.size}|{self.crop_roi}|{DECODE_VERSION}".encode("utf-8", "surrogatepass")).hexdigest()[:16]
        self.group = f"decoded-{self.size[0]}x{self.size[1]}-{'roi' if crop_roi else 'full'}-v{DECODE_VERSION}-{digest}"
        self.index_path = self.folder / f"{self.group}.json"

    # ------------------------------------------------------------------ reading

    def lookup(self, keys: Sequence[Optional[FileKey]]) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
        """Cached results for the ``keys`` whose files are unchanged.

        Returns ``(indices, images, failures)``: ``images[j]`` is the decoded image of
        ``keys[indices[j]]``; ``failures`` maps key positions to their cached reason.
        """
        w, h = self.size
        nothing = (np.zeros(0, dtype=int), np.zeros((0, h, w, 3), np.uint8), {})
        loaded = self._load()
        if loaded is None:
            return nothing
        rows, failures, blob = loaded
        failed: dict[int, str] = {}
        indices: list[int] = []
        wanted: list[int] = []
        for i, key in enumerate(keys):
            if key is None:
                continue
            row = rows.get(key)
            if row is not None:
                indices.append(i)
                wanted.append(row)
            elif key in failures:
                failed[i] = failures[key]
        if not wanted:
            return nothing[0], nothing[1], failed
        try:
            images = np.asarray(blob[np.asarray(wanted)])  # one gather from the memory map
        except Exception as exc:  # truncated or damaged blob
            log.warning("ignoring damaged image cache %s: %s", self.index_path, exc)
            return nothing
        return np.asarray(indices, dtype=int), images, failed

    def _read_index(self) -> Optional[dict]:
        try:
            with open(self.index_path, "r", encoding="utf-8") as fh:
                index = json.load(fh)
        except FileNotFoundError:
            return None
        except Exception as exc:
            log.warning("ignoring unreadable image cache index %s: %s", self.index_path, exc)
            return None
        expected = {"format": INDEX_FORMAT, "size": list(self.size), "crop_roi": self.crop_roi, "decode_version": DECODE_VERSION}
        if not isinstance(index, dict) or any(index.get(k) != v for k, v in expected.items()):
            return None
        return index

    def _load(self):
        """``(rows by key, failures by key, memory-mapped blob)`` or None."""
        index = self._read_index()
        if index is None:
            return None
        try:
            entries = [FileKey.from_json(e) for e in index["entries"]]
            failures = {FileKey.from_json(f[:4]): str(f[4]) for f in index.get("failures", [])}
            blob = None
            if entries:
                blob = np.load(self.folder / os.path.basename(index["blob"]), mmap_mode="r", allow_pickle=False)
                w, h = self.size
                if blob.dtype != np.uint8 or blob.shape != (len(entries), h, w, 3):
                    raise ValueError(f"blob shape {blob.shape} does not match {len(entries)} entries")
        except Exception as exc:
            log.warning("ignoring damaged image cache %s: %s", self.index_path, exc)
            return None
        return {key: row for row, key in enumerate(entries)}, failures, blob

    # ------------------------------------------------------------------ writing

    def store(self, keys: Sequence[Optional[FileKey]], images: np.ndarray, ok: np.ndarray, failures: dict[int, str]) -> bool:
        """Save the decoded ``images[ok]`` and the ``failures`` of this run.

        Entries of earlier runs that this run did not cover (e.g. a subset was loaded)
        are kept while their files are unchanged. Returns False (and logs) when the cache
        could not be written; never raises for I/O problems.
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            return self._store(keys, images, ok, failures)
        except Exception as exc:
            log.warning("could not write image cache %s: %s", self.index_path, exc)
            return False

    def _store(self, keys, images, ok, failures) -> bool:
        w, h = self.size
        new_rows = [i for i, key in enumerate(keys) if key is not None and ok[i]]
        new_keys = [keys[i] for i in new_rows]
        covered = {key.path for key in keys if key is not None}

        old = self._load()
        old_index = self._read_index() if old is not None else None
        kept_rows: list[int] = []
        kept_keys: list[FileKey] = []
        kept_failures: list[list] = []
        if old is not None:
            old_rows, old_failures, _ = old
            for key, row in old_rows.items():
                if key.path not in covered and file_key(key.path, key.roi) == key:
                    kept_rows.append(row)
                    kept_keys.append(key)
            kept_failures = [
                key.as_json() + [reason]
                for key, reason in old_failures.items()
                if key.path not in covered and file_key(key.path, key.roi) == key
            ]

        token = uuid.uuid4().hex[:12]
        blob_name = f"{self.group}-{token}.npy"
        total = len(new_rows) + len(kept_rows)
        if total:  # temp names start with the group, so _remove_stale sweeps a crashed writer's
            with atomic_path(self.folder / blob_name, prefix=f"{blob_name}.", suffix=".part") as part:
                out = np.lib.format.open_memmap(part, mode="w+", dtype=np.uint8, shape=(total, h, w, 3))
                sources = [(images, new_rows)] + ([(old[2], kept_rows)] if kept_rows else [])
                at = 0
                for array, rows in sources:
                    for start in range(0, len(rows), _WRITE_ROWS):  # bounded extra memory
                        part_rows = np.asarray(rows[start : start + _WRITE_ROWS])
                        out[at : at + len(part_rows)] = array[part_rows]
                        at += len(part_rows)
                out.flush()
                del out
        index = {
            "format": INDEX_FORMAT,
            "size": [w, h],
            "crop_roi": self.crop_roi,
            "decode_version": DECODE_VERSION,
            "source": self.source_id,
            "blob": blob_name if total else None,
            "entries": [k.as_json() for k in new_keys + kept_keys],
            "failures": [keys[i].as_json() + [reason] for i, reason in failures.items() if keys[i] is not None]
            + kept_failures,
        }
        try:  # the commit point; ASCII JSON keeps undecodable (surrogate-escaped) names
            with atomic_write(self.index_path, "w", prefix=f"{self.group}.", suffix=".json.part") as fh:
                json.dump(index, fh, separators=(",", ":"))
        except BaseException:
            if total:
                _remove_quietly(self.folder / blob_name)
            raise
        old = None  # release the old memory map before deleting its file (Windows)
        previous = old_index.get("blob") if old_index else None
        if previous and previous != blob_name:
            _remove_quietly(self.folder / os.path.basename(previous))
        self._remove_stale(keep=blob_name)
        return True

    def _remove_stale(self, keep: str) -> None:
        """Delete this group's orphaned blobs and temp files left by crashed writers."""
        now = time.time()
        for path in self.folder.glob(f"{self.group}*"):
            if path.name in (keep, self.index_path.name):
                continue
            try:
                if now - path.stat().st_mtime > _STALE_SECONDS:
                    path.unlink()
            except OSError:
                pass


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:  # already gone, or still mapped by a reader on Windows
        pass
