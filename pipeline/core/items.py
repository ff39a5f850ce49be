"""Plain data types for image collections: what was found on disk and what was decoded."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np


@dataclass(frozen=True)
class ImageItem:
    """One image file, with its given label and optional region of interest.

    ``roi`` is ``(x1, y1, x2, y2)`` in pixel coordinates of the original file
    (GTSRB convention, inclusive-exclusive handled by the decoder).
    """

    path: str
    label: Optional[str] = None
    roi: Optional[tuple[int, int, int, int]] = None


@dataclass(frozen=True)
class SkippedFile:
    """A file that could not be used, with a human-readable reason."""

    path: str
    reason: str


@dataclass
class ImageSet:
    """Decoded images at the working size, aligned with ``items``.

    ``images`` is ``uint8`` of shape ``(N, H, W, 3)``. ``skipped`` lists every input
    file that was dropped and why.
    """

    items: list[ImageItem]
    images: np.ndarray
    skipped: list[SkippedFile] = field(default_factory=list)
    layout: str = "unknown"

    def __len__(self) -> int:
        return len(self.items)

    @property
    def paths(self) -> list[str]:
        return [it.path for it in self.items]

    @property
    def labels(self) -> Optional[list[str]]:
        """Given labels, or ``None`` when no image carries one."""
        labels = [it.label for it in self.items]
        if all(lab is None for lab in labels):
            return None
        return ["" if lab is None else lab for lab in labels]

    def subset(self, indices) -> "ImageSet":
        idx = np.asarray(indices, dtype=int)
        return ImageSet([self.items[i] for i in idx], self.images[idx], list(self.skipped), self.layout)
