"""Time ReviewSession.save/load and one autosaved edit for a GTSRB-sized project.

Usage: .venv/bin/python bench/bench_review_save.py [--images 40000] [--clusters 500] [--repeat 20]
Synthetic paths shaped like GTSRB's (``<root>/Train/<cls>/000cc_0000t_0000f.png``).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from pipeline.review import Autosaver, ReviewSession


def build(n: int, k: int, seed: int = 0) -> ReviewSession:
    rng = np.random.default_rng(seed)
    given = rng.integers(0, 43, n)
    paths = [f"/home/user/data/gtsrb/Train/{g}/{i // 30:05d}_{i % 30:05d}_{i % 7:05d}.png" for i, g in enumerate(given)]
    labels = rng.integers(0, k, n)
    s = ReviewSession.from_result("/home/user/data/gtsrb", {"method": "kmeans", "k": k}, paths, [str(g) for g in given], labels)
    for c in range(0, k, 2):
        s.apply(s.name(c, str(c % 43)))
    s.apply(s.reject(rng.choice(n, n // 100, replace=False)))
    s.apply(s.mark_reviewed(rng.choice(n, n // 4, replace=False)))
    return s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=40000)
    ap.add_argument("--clusters", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    s = build(args.images, args.clusters)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "project.review.json"
        s.save(path)
        size = path.stat().st_size
        saves, loads, edits = [], [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter(); s.save(path); saves.append(time.perf_counter() - t0)
            t0 = time.perf_counter(); ReviewSession.load(path); loads.append(time.perf_counter() - t0)
        with Autosaver(s, path):
            rng = np.random.default_rng(1)
            for _ in range(args.repeat):
                idx = rng.choice(args.images, 20, replace=False)
                t0 = time.perf_counter(); s.apply(s.move(idx, None)); edits.append(time.perf_counter() - t0)
    ms = lambda xs: f"median {statistics.median(xs) * 1e3:.1f} ms, max {max(xs) * 1e3:.1f} ms"
    print(f"{args.images} images, {args.clusters} clusters, file {size / 1e6:.2f} MB")
    print(f"save:                {ms(saves)}")
    print(f"load:                {ms(loads)}")
    print(f"move edit+autosave:  {ms(edits)}")


if __name__ == "__main__":
    main()
