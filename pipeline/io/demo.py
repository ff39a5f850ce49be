"""Built-in demo set: procedurally rendered traffic-sign images with known classes.

Nothing is downloaded: every image is drawn by :func:`render_sign` (in
:mod:`pipeline.io.demo_signs`, re-exported here). Labels are GTSRB ``ClassId`` strings
(``"14"`` is a stop sign) so results on the demo set read like results on GTSRB. This
module renders whole sets (:func:`render_signs`), writes them as image folders
(:func:`write_demo_folder`, :func:`demo_folder`) and draws a contact sheet.
"""
from __future__ import annotations

import csv
import os
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image

from pipeline.core.atomic import atomic_write, atomic_write_text
from pipeline.core.items import ImageItem
from pipeline.io.demo_signs import _CLASS_NAMES, DEMO_CLASSES, DEMO_VERSION, class_name, render_sign

__all__ = ["DEMO_CLASSES", "DEMO_VERSION", "class_name", "contact_sheet", "demo_folder", "render_sign",
           "render_signs", "write_demo_folder"]


def _image_rng(seed: int, class_id: str, index: int) -> np.random.Generator:
    """Independent stream per (seed, class, index): subsets render identical images."""
    return np.random.default_rng([int(seed), zlib.crc32(class_id.encode()), int(index)])


def _check_classes(classes: Optional[Sequence[str | int]]) -> list[str]:
    ids = [c for c, _ in DEMO_CLASSES] if classes is None else [str(c) for c in classes]
    unknown = [c for c in ids if c not in _CLASS_NAMES]
    if unknown:
        raise ValueError(f"unknown demo classes {unknown}; known: {[c for c, _ in DEMO_CLASSES]}")
    return ids


def render_signs(
    n_per_class: int,
    *,
    seed: int = 0,
    size: int = 48,
    classes: Optional[Sequence[str | int]] = None,
) -> tuple[np.ndarray, list[str]]:
    """Render ``n_per_class`` images of each class, grouped by class.

    Returns ``(images, labels)``: ``uint8`` ``(N, size, size, 3)`` and the GTSRB
    ClassId string of each image. Deterministic for a given ``seed``.
    """
    ids = _check_classes(classes)
    images = np.empty((len(ids) * n_per_class, size, size, 3), dtype=np.uint8)
    labels: list[str] = []
    i = 0
    for cid in ids:
        for j in range(n_per_class):
            images[i] = render_sign(cid, _image_rng(seed, cid, j), size)
            labels.append(cid)
            i += 1
    return images, labels


def write_demo_folder(
    folder: str | os.PathLike,
    *,
    n_per_class: int = 20,
    seed: int = 0,
    size: int = 48,
    layout: str = "class-folders",
    fmt: str = "png",
    classes: Optional[Sequence[str | int]] = None,
) -> list[ImageItem]:
    """Write a demo set to ``folder`` and return its items (absolute paths, true labels).

    ``layout="class-folders"`` writes ``<folder>/<class_id>/<class_id>_<n>.<fmt>``.
    ``layout="flat"`` writes shuffled, label-free names ``<folder>/img_<n>.<fmt>`` plus
    ``<folder>/labels.csv`` (columns ``path,label``; paths relative to the folder).
    """
    if layout not in ("class-folders", "flat"):
        raise ValueError(f"layout must be 'class-folders' or 'flat', got {layout!r}")
    fmt = fmt.lower().lstrip(".")
    if fmt not in ("png", "jpg", "jpeg"):
        raise ValueError(f"fmt must be 'png' or 'jpg', got {fmt!r}")
    root = Path(folder).resolve()
    root.mkdir(parents=True, exist_ok=True)
    images, labels = render_signs(n_per_class, seed=seed, size=size, classes=classes)
    order = np.arange(len(labels))
    if layout == "flat":
        order = np.random.default_rng([int(seed), 7]).permutation(len(labels))
    items: list[ImageItem] = []
    width = max(4, len(str(len(labels))))
    first_of = {}
    for i, lab in enumerate(labels):
        first_of.setdefault(lab, i)
    for out_idx, src_idx in enumerate(order):
        label = labels[src_idx]
        if layout == "class-folders":
            n = src_idx - first_of[label]
            path = root / label / f"{label}_{n:0{width}d}.{fmt}"
            path.parent.mkdir(exist_ok=True)
        else:
            path = root / f"img_{out_idx:0{width}d}.{fmt}"
        img = Image.fromarray(images[src_idx])
        with atomic_write(path, "wb", fsync=False) as fh:  # whole images only; no fsync per small file
            if fmt == "png":
                img.save(fh, format="PNG")
            else:
                img.save(fh, format="JPEG", quality=92)
        items.append(ImageItem(str(path), label))
    if layout == "flat":
        with atomic_write(root / "labels.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["path", "label"])
            for it in items:
                writer.writerow([Path(it.path).name, it.label])
    return items


def _default_cache_root() -> Path:
    try:
        from pipeline.core.paths import default_cache_dir  # written in parallel; optional
    except ImportError:
        import platformdirs

        return Path(platformdirs.user_cache_dir("cluster-review"))
    return Path(default_cache_dir())


def demo_folder(
    cache_root: str | os.PathLike | None = None,
    *,
    n_per_class: int = 30,
    seed: int = 0,
    size: int = 48,
) -> Path:
    """A ready demo folder (class-folders layout), written once under the user cache dir.

    The folder is built in a temporary sibling and renamed into place, so a crashed or
    concurrent first run never leaves a half-written set behind.
    """
    root = Path(cache_root) if cache_root is not None else _default_cache_root()
    target = root / f"demo-v{DEMO_VERSION}-n{n_per_class}-s{size}-seed{seed}"
    if (target / ".complete").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".demo-tmp-", dir=root))
    try:
        write_demo_folder(tmp, n_per_class=n_per_class, seed=seed, size=size)
        atomic_write_text(tmp / ".complete", "ok\n")
        if target.exists() and not (target / ".complete").is_file():
            shutil.rmtree(target, ignore_errors=True)
        try:
            tmp.rename(target)
        except OSError:
            if not (target / ".complete").is_file():  # lost a race and the winner is incomplete
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def contact_sheet(n_per_class: int = 8, *, seed: int = 0, size: int = 48, scale: int = 2) -> Image.Image:
    """A grid image, one row per class, for eyeballing the renderer."""
    images, labels = render_signs(n_per_class, seed=seed, size=size)
    rows = len(DEMO_CLASSES)
    cell = size * scale
    sheet = Image.new("RGB", (cell * n_per_class, cell * rows), "white")
    for i, img in enumerate(images):
        r, c = divmod(i, n_per_class)
        sheet.paste(Image.fromarray(img).resize((cell, cell), Image.NEAREST), (c * cell, r * cell))
    return sheet
