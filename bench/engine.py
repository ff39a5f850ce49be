"""Images per second of the streaming decode + features pass on each engine.

    .venv/bin/python bench/engine.py [--n 6000] [--workers 2] [--preset best] [--no-gtsrb] [--data DIR]
                                     [--gtsrb-limit N] [--profiler]

Engines, each over the same files in the same run (OS page cache warmed first, no decode
cache): ``in-process`` (:class:`~pipeline.engine.base.LocalEngine`, one core, the
baseline), ``local`` (``make_engine("local", workers=W)``: a process pool) and ``dask``
(a ``LocalCluster`` of W worker processes on loopback). The pass is
:func:`pipeline.streaming.stream_features` (PCA sample, then every chunk), the part an
engine spreads; clustering runs on the driver and is left out. Dask's start-up is timed
apart from its pass. ``--profiler`` adds a Dask run with the workers' sampling profiler on
(Dask's default; the engine turns it off). Sets: a generated demo set of ``--n`` images (written once under
``~/.cache/cluster-review/bench-engine``) and the shared GTSRB Train split when present.
Last line: ``engine: n N, local L img/s, dask D img/s, ratio R`` (R = dask / local) for
the largest set.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_GTSRB, machine_line, markdown_table

CACHE = Path.home() / ".cache" / "cluster-review" / "bench-engine"


def demo_set(n: int) -> Path:
    """A class-folder demo set of about ``n`` images, written once and reused."""
    from pipeline.core.atomic import atomic_write_text
    from pipeline.io.demo import DEMO_CLASSES, DEMO_VERSION, write_demo_folder

    per_class = -(-n // len(DEMO_CLASSES))
    folder = CACHE / f"demo-{per_class}x{len(DEMO_CLASSES)}-v{DEMO_VERSION}"
    if not (folder / ".complete").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        write_demo_folder(folder, n_per_class=per_class, seed=0, size=48)
        atomic_write_text(folder / ".complete", "ok\n")
    return folder


def warm_page_cache(items) -> None:
    for item in items:
        try:
            with open(item.path, "rb") as fp:
                fp.read()
        except OSError:
            pass


def timed_pass(config, source, found, engine) -> tuple[float, int]:
    from pipeline.streaming import stream_features

    store = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    try:
        start = time.perf_counter()
        streamed = stream_features(config, source, engine=engine, store_dir=store, cache_dir=False, found=found)
        seconds = time.perf_counter() - start
        return seconds, len(streamed.image_set)
    finally:
        shutil.rmtree(store, ignore_errors=True)


def bench_set(name: str, source: Path, config, workers: int, profiler: bool = False, limit=None) -> dict:
    from pipeline.engine import make_engine
    from pipeline.engine.base import LocalEngine
    from pipeline.engine.dask_engine import DaskEngine
    from pipeline.io.sources import discover

    found = discover(source, crop_roi=config.crop_roi)
    if limit and limit < len(found.items):  # spread over the whole listing (every class)
        step = len(found.items) / limit
        found.items = [found.items[int(i * step)] for i in range(limit)]
    warm_page_cache(found.items)
    row = {"set": name, "n": len(found.items)}
    row["in-process s"], n = timed_pass(config, source, found, LocalEngine())
    with make_engine("local", workers=workers) as pool:
        row["local s"], _ = timed_pass(config, source, found, pool)
    start = time.perf_counter()
    with DaskEngine(n_workers=workers) as cluster:
        row["dask start s"] = time.perf_counter() - start
        row["dask s"], _ = timed_pass(config, source, found, cluster)
    if profiler:
        with DaskEngine(n_workers=workers, worker_profiler=True) as cluster:
            row["dask+profiler s"], _ = timed_pass(config, source, found, cluster)
    row["n"] = n
    for key in ("in-process", "local", "dask") + (("dask+profiler",) if profiler else ()):
        row[f"{key} img/s"] = n / row[f"{key} s"]
    row["dask / local"] = row["dask img/s"] / row["local img/s"]
    row["local / in-process"] = row["local img/s"] / row["in-process img/s"]
    return row


def _cell(header: str, value):
    if header.endswith("img/s"):
        return f"{value:.0f}"
    if header.endswith(" s"):
        return f"{value:.1f}"
    return f"{value:.2f}" if isinstance(value, float) else value


def main(argv=None) -> int:
    from pipeline.config import get_preset

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=6000, help="images in the generated set (default 6000)")
    parser.add_argument("--workers", type=int, default=2, help="pool / Dask worker processes (default 2)")
    parser.add_argument("--preset", default="best")
    parser.add_argument("--data", type=Path, default=DEFAULT_GTSRB, help="GTSRB folder with Train.csv")
    parser.add_argument("--no-gtsrb", action="store_true", help="only the generated set")
    parser.add_argument("--gtsrb-limit", type=int, default=None, help="use N GTSRB images spread over the split")
    parser.add_argument("--profiler", action="store_true", help="also run Dask with its worker profiler on")
    args = parser.parse_args(argv)

    config = get_preset(args.preset)
    print(machine_line())
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    sets = [("demo", demo_set(args.n))]
    if not args.no_gtsrb and (args.data / "Train.csv").is_file():
        sets.append(("gtsrb-train", args.data))
    rows = []
    for name, folder in sets:
        row = bench_set(name, folder, config, args.workers, args.profiler, args.gtsrb_limit if name != "demo" else None)
        rows.append(row)
        print(f"{name}: n {row['n']}, in-process {row['in-process img/s']:.0f} img/s, local {row['local img/s']:.0f} "
              f"img/s, dask {row['dask img/s']:.0f} img/s (start-up {row['dask start s']:.1f} s), "
              f"dask/local {row['dask / local']:.2f}", flush=True)
    headers = ["set", "n", "in-process img/s", "local img/s", "dask img/s"] + (["dask+profiler img/s"] if args.profiler else [])
    headers += ["dask start s", "local / in-process", "dask / local"]
    print()
    print(markdown_table(headers, [[_cell(h, r[h]) for h in headers] for r in rows]))
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    last = max(rows, key=lambda r: r["n"])
    print(f"engine: n {last['n']}, local {last['local img/s']:.0f} img/s, dask {last['dask img/s']:.0f} img/s, "
          f"ratio {last['dask / local']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
