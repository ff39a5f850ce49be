"""Time hog_batch against the dense-histogram formulation it replaced, in the same run.

The reference is the one ``tests/test_features_hog_reference.py`` checks hog_batch against
(a (N, H, W, C, bins) vote array summed per cell); hog_batch sums the votes with ``bincount``
and picks the strongest channel with comparisons. Also times the ``hog_multicrop`` extractor
of the whole-frame presets (5 crops) per image.

    python bench/hog_speed.py [--n 4096] [--repeat 3]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import time

import numpy as np

from _common import ROOT, machine_line, markdown_table


def _reference():
    path = ROOT / "tests" / "test_features_hog_reference.py"
    spec = importlib.util.spec_from_file_location("hog_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dense_reference_hog


def _best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=4096, help="images of 32 x 32 (random, batches of 1024)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; the fastest is kept")
    args = parser.parse_args()
    from pipeline.features.hog import hog_batch
    from pipeline.features.registry import make_extractor

    dense = _reference()
    images = np.random.default_rng(0).integers(0, 256, (args.n, 32, 32, 3), dtype=np.uint8)
    batches = [images[i : i + 1024] for i in range(0, len(images), 1024)]
    print(f"{args.n} random 32 x 32 images; machine: {machine_line()}; load average "
          f"{' / '.join(f'{v:.1f}' for v in os.getloadavg())}")
    rows, ratios = [], {}
    for color in ("max", "channels", "gray"):
        new = _best_of(lambda: [hog_batch(b, color=color) for b in batches], args.repeat)
        old = _best_of(lambda: [dense(b, color=color) for b in batches], args.repeat)
        ratios[color] = old / new
        rows.append([color, f"{old / args.n * 1e6:.0f}", f"{new / args.n * 1e6:.0f}", f"{old / new:.2f}"])
    print(markdown_table(["HOG color", "dense µs/image", "hog_batch µs/image", "speed-up"], rows))
    multicrop = make_extractor("hog_multicrop", pool="mean", crops=[1.0, 0.9, 0.8, 0.7, 0.6])
    mc = _best_of(lambda: multicrop.transform(images), args.repeat)
    print(f"hog_multicrop (5 crops, color channels): {mc / args.n * 1e6:.0f} µs/image, "
          f"{mc / args.n * 39209:.0f} s for 39,209 images")
    print(f"hog_speed: max {ratios['max']:.2f}x, channels {ratios['channels']:.2f}x, gray {ratios['gray']:.2f}x "
          f"vs dense; multicrop {mc / args.n * 1e6:.0f} us/image")


if __name__ == "__main__":
    main()
