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
