"""A quick, bounded look into a folder: does it hold any image (or a label CSV) at all?

:func:`probe_folder` stops at the first image file it meets and never reads more than
``max_entries`` directory entries, so it answers in milliseconds even for a folder of
40,000 images. The window uses it to refuse an empty folder before asking for settings
and starting a pipeline process; :func:`pipeline.io.sources.discover` remains the full scan.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.io.sources import IMAGE_EXTENSIONS

#: Tables a layout may list its images in (GTSRB's Train.csv, path,label CSVs).
LISTING_EXTENSIONS = frozenset({".csv", ".tsv"})


@dataclass(frozen=True)
class FolderProbe:
    """What :func:`probe_folder` saw: an image found, a listing found, or the scan was cut short."""

    has_image: bool
    has_listing: bool
    entries_read: int
    truncated: bool  # stopped at ``max_entries`` without finding anything: cannot tell

    @property
    def may_have_images(self) -> bool:
        return self.has_image or self.has_listing or self.truncated


def probe_folder(folder, max_entries: int = 5000) -> FolderProbe:
    """Walk ``folder`` (hidden entries and symlinked folders skipped) until the first image.

    Raises ``OSError`` when ``folder`` itself cannot be read.
    """
    stack = [Path(folder)]
    read, listing, first = 0, False, True
    while stack:
        current = stack.pop()
        try:
            entries = os.scandir(current)
        except OSError:
            if first:
                raise
            continue
        first = False
        with entries:
            for entry in entries:
                read += 1
                if read > max_entries:
                    return FolderProbe(False, listing, read, True)
                if entry.name.startswith("."):
                    continue
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                if is_dir:
                    stack.append(Path(entry.path))
                    continue
                suffix = os.path.splitext(entry.name)[1].lower()
                if suffix in IMAGE_EXTENSIONS:
                    return FolderProbe(True, listing, read, False)
                listing = listing or suffix in LISTING_EXTENSIONS
    return FolderProbe(False, listing, read, False)
