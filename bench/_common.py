"""Shared helpers for the benchmark scripts (not part of the installed package)."""
from __future__ import annotations

import os
import platform
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_GTSRB = ROOT.parent / "shared" / "data" / "gtsrb"


def gtsrb_dir(path: str | None = None) -> Path:
    """The GTSRB training split to benchmark on; exits with a clear message if absent."""
    folder = Path(path) if path else DEFAULT_GTSRB
    if not (folder / "Train.csv").is_file():
        sys.exit(f"GTSRB training split not found at {folder} (expected Train.csv); pass --data")
    return folder


def peak_rss_mb() -> float:
    """Peak resident memory of this process (and waited-for children) in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0


def machine_line() -> str:
    """One line saying where the numbers were measured."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.processor() or platform.machine()}, {cpus} CPU cores usable, Python {platform.python_version()}"


def markdown_table(headers: list[str], rows: list[list]) -> str:
    def fmt(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _track_key(path: str) -> tuple[str, int] | None:
    """``(track id, frame)`` from a GTSRB-style name ``class_track_frame.ext``, else ``None``."""
    stem = Path(str(path)).stem.split("_")
    if len(stem) != 3 or not all(part.isdigit() for part in stem):
        return None
    return f"{stem[0]}_{stem[1]}", int(stem[2])


def track_disjoint(items, per_track: int = 3) -> list[int]:
    """Indices of at most ``per_track`` frames per physical-sign track, spaced evenly along it.

    ``items`` are paths or objects with a ``path`` (``ImageItem``); GTSRB names its files
    ``class_track_frame``. Files without that pattern are each their own track (all kept),
    so the subsample stays meaningful on other sets. Indices come back sorted.
    """
    import numpy as np

    tracks: dict[str, list[tuple[int, int]]] = {}
    keep: list[int] = []
    for i, item in enumerate(items):
        key = _track_key(getattr(item, "path", item))
        if key is None:
            keep.append(i)
        else:
            tracks.setdefault(key[0], []).append((key[1], i))
    for frames in tracks.values():
        frames.sort()
        if len(frames) <= per_track:
            keep.extend(i for _, i in frames)
            continue
        picks = np.linspace(0, len(frames) - 1, per_track).round().astype(int)
        keep.extend(frames[p][1] for p in np.unique(picks))
    return sorted(keep)
