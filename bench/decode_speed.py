"""Decoding speed on the shared GTSRB training split: serial, threads, processes, cache.

    .venv/bin/python bench/decode_speed.py [--data DIR] [--limit N] [--size 32] [--workers 2]

Every file is read once before timing so that all modes start with the same (warm) OS
page cache; "cold" below means "not in our decode cache". Prints seconds, images/s and
the speed-up over serial decoding, and checks that all modes give identical arrays.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from pipeline.io.loader import default_workers, load_images  # noqa: E402
from pipeline.io.sources import discover  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gtsrb"


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="GTSRB folder (default: shared split)")
    parser.add_argument("--limit", type=int, default=None, help="use N images spread over all classes")
    parser.add_argument("--size", type=int, default=32, help="working size (default 32)")
    parser.add_argument("--workers", type=int, default=None, help=f"pool size (default {default_workers()})")
    parser.add_argument("--no-roi", action="store_true", help="decode whole frames instead of ROI crops")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per mode; the best is reported")
    args = parser.parse_args(argv)

    crop = not args.no_roi
    found = discover(args.data, crop_roi=crop)
    items = found.items
    if args.limit and args.limit < len(items):
        step = len(items) / args.limit
        items = [items[int(i * step)] for i in range(args.limit)]
    n = len(items)
    workers = args.workers or default_workers()
    print(f"{n} images ({found.layout}), size {args.size}, ROI crop {crop}, workers {workers}, "
          f"cpus available {default_workers()}")

    read_s, nbytes = _timed(lambda: sum(len(Path(it.path).read_bytes()) for it in items))
    print(f"page-cache priming read: {nbytes / 1e6:.1f} MB in {read_s:.2f} s")

    def run(**kw):
        best, result = None, None
        for _ in range(args.repeat):
            seconds, result = _timed(lambda: load_images(items, size=args.size, crop_roi=crop, **kw))
            best = seconds if best is None else min(best, seconds)
        return best, result

    rows = []
    serial_s, reference = run(cache_dir=False, workers=1)
    rows.append(("serial (1 thread), no cache", serial_s))
    labels = {"thread": "thread pool", "process": "process pool (spawn)", "fork": "process pool (fork)", "auto": "auto"}
    executors = ["thread", "process"] + (["fork"] if os.name == "posix" else []) + ["auto"]
    for executor in executors:
        seconds, result = run(cache_dir=False, workers=workers, executor=executor)
        assert np.array_equal(result.images, reference.images), f"{executor} output differs"
        rows.append((f"{labels[executor]} x{workers}, no cache", seconds))

    with tempfile.TemporaryDirectory() as cache_dir:
        fill_s, _ = _timed(lambda: load_images(items, size=args.size, crop_roi=crop, cache_dir=cache_dir, workers=workers))
        rows.append((f"auto x{workers}, cache empty (decode + write)", fill_s))
        warm_s, warm = run(cache_dir=cache_dir, workers=workers)
        assert np.array_equal(warm.images, reference.images), "cached output differs"
        rows.append(("cache warm (no decoding)", warm_s))
        blob_mb = sum(p.stat().st_size for p in Path(cache_dir).iterdir()) / 1e6
    print(f"cache files: {blob_mb:.1f} MB")

    print(f"\n{'mode':<52} {'seconds':>8} {'images/s':>10} {'vs serial':>10}")
    for name, seconds in rows:
        print(f"{name:<52} {seconds:8.2f} {n / seconds:10.0f} {serial_s / seconds:9.2f}x")
    skipped = len(reference.skipped)
    print(f"\n{len(reference)} decoded, {skipped} skipped")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
