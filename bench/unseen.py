"""Cluster any class-folder image set with every preset, as a new user would (no ROI, true k).

Each preset clusters at the true number of classes; the default preset also picks k
itself over ``--k-range`` (default: half to twice the class count, or the range given).
The naive baseline (raw pixels + K-means) runs in the same call. The last line is

    unseen: ACC a, NMI n, k_auto k

for the default preset. ``--digits DIR`` first writes scikit-learn's 8x8 handwritten
digits as PNG class folders into DIR (nothing is downloaded) and uses them.

    python bench/unseen.py --data DIR [--presets best,hog-kmeans] [--limit 5000]
           [--track-disjoint] [--with-deep] [--out bench/results/unseen_x.md]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import machine_line, markdown_table, track_disjoint

BASELINE = "pixels-kmeans"


def write_digits(folder: Path) -> Path:
    """scikit-learn's digits (1,797 images, 10 classes) as ``folder/<digit>/<i>.png``."""
    import io

    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    from pipeline.core.atomic import atomic_write_bytes

    digits = load_digits()
    for i, (img, label) in enumerate(zip(digits.images, digits.target)):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        Image.fromarray((img * (255.0 / 16.0)).astype(np.uint8)).save(buf, format="PNG")
        atomic_write_bytes(folder / str(label) / f"{i:04d}.png", buf.getvalue(), fsync=False)
    return folder


def write_photo_tiles(folder: Path, per_class: int = 200, seed: int = 0) -> Path:
    """A stand-in for small natural photos (none are on disk and nothing is downloaded):
    scikit-learn's two sample photographs cut into a 2 x 3 grid of regions each (12
    classes); every image is a random 40-90 px crop of its region, maybe mirrored, with a
    random brightness, at 32 px. Colour and texture separate the classes, outlines barely."""
    import io

    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_sample_images

    from pipeline.core.atomic import atomic_write_bytes

    rng = np.random.default_rng(seed)
    for p, photo in enumerate(load_sample_images().images):
        h, w = photo.shape[:2]
        for r in range(2):
            for c in range(3):
                y0, y1, x0, x1 = r * h // 2, (r + 1) * h // 2, c * w // 3, (c + 1) * w // 3
                label = f"photo{p}_r{r}c{c}"
                (folder / label).mkdir(parents=True, exist_ok=True)
                for i in range(per_class):
                    side = int(rng.integers(40, 91))
                    y = int(rng.integers(y0, y1 - side))
                    x = int(rng.integers(x0, x1 - side))
                    tile = photo[y : y + side, x : x + side].astype(np.float32) * rng.uniform(0.5, 1.3)
                    img = Image.fromarray(np.clip(tile, 0, 255).astype(np.uint8)).resize((32, 32), Image.BILINEAR)
                    if rng.random() < 0.5:
                        img = img.transpose(Image.FLIP_LEFT_RIGHT)
                    buf = io.BytesIO()
                    img.save(buf, format="PNG")
                    atomic_write_bytes(folder / label / f"{i:04d}.png", buf.getvalue(), fsync=False)
    return folder


def pick_presets(names: str | None, with_deep: bool) -> list[str]:
    from pipeline.config import DEFAULT_PRESET, PRESETS

    if names:
        chosen = [n.strip() for n in names.split(",") if n.strip()]
    else:
        chosen = [n for n, cfg in PRESETS.items() if with_deep or cfg.method != "scan"]
    for must in (DEFAULT_PRESET, BASELINE):
        if must not in chosen:
            chosen.append(must)
    return chosen


def load_subset(data: Path, size: int, crop: bool, limit: int, disjoint: bool, cache_dir):
    import numpy as np

    from pipeline.io.loader import load_images

    image_set = load_images(str(data), size=size, crop_roi=crop, cache_dir=cache_dir)
    if image_set.labels is None:
        raise SystemExit(f"{data}: no class labels found (expected class folders or a labels CSV)")
    idx = np.arange(len(image_set))
    if disjoint:
        idx = np.asarray(track_disjoint(image_set.items))
    if limit and len(idx) > limit:
        idx = np.sort(np.random.default_rng(0).choice(idx, limit, replace=False))
    return image_set.subset(idx)


def run_one(config, image_set, cache_dir) -> dict:
    from pipeline.run import run_pipeline

    t0 = time.perf_counter()
    result = run_pipeline(config, image_set, cache_dir=cache_dir)
    seconds = time.perf_counter() - t0
    m = result.metrics
    return {"k": result.clusters.n_clusters, "acc": m["acc"], "nmi": m["nmi"], "ari": m["ari"],
            "seconds": seconds, "summary": " ".join(result.notes)}


def main() -> None:
    from pipeline.config import DEFAULT_PRESET, get_preset

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="a class-folder image set (or any layout the pipeline reads with labels)")
    parser.add_argument("--digits", help="write scikit-learn's digits as PNG class folders here and use them")
    parser.add_argument("--photos", help="write a natural-photo stand-in (tiles of two sample photos) here and use it")
    parser.add_argument("--presets", help="comma-separated presets (default: all but the slow deep ones)")
    parser.add_argument("--with-deep", action="store_true", help="also run the deep presets")
    parser.add_argument("--limit", type=int, default=0, help="random subsample of at most this many images")
    parser.add_argument("--track-disjoint", action="store_true",
                        help="at most 3 frames per GTSRB-style track (class_track_frame names)")
    parser.add_argument("--crop", action="store_true", help="crop to the ROIs the set gives (default: whole frames)")
    parser.add_argument("--k-range", type=int, nargs=2, help="range for the automatic k (default: k/2 .. 2k)")
    parser.add_argument("--cache-dir", help="decode/model cache (default: the session cache)")
    parser.add_argument("--out", help="also write the table to this markdown file")
    args = parser.parse_args()
    if args.digits:
        data = write_digits(Path(args.digits))
    elif args.photos:
        data = write_photo_tiles(Path(args.photos))
    elif args.data:
        data = Path(args.data)
    else:
        parser.error("give --data DIR, --digits DIR or --photos DIR")

    presets = pick_presets(args.presets, args.with_deep)
    print(f"unseen set {data}; machine: {machine_line()}", flush=True)
    loaded: dict = {}
    rows, results = [], {}
    n_classes = None
    for name in presets:
        config = get_preset(name)
        key = (config.image_size, args.crop)
        if key not in loaded:
            loaded[key] = load_subset(data, config.image_size, args.crop, args.limit, args.track_disjoint, args.cache_dir)
        image_set = loaded[key]
        n_classes = len(set(image_set.labels))
        config.crop_roi = args.crop
        res = run_one(config.with_k(k=n_classes), image_set, args.cache_dir)
        results[name] = res
        rows.append([name, len(image_set), n_classes, res["k"], res["acc"], res["nmi"], res["ari"], f"{res['seconds']:.1f}"])
        print(f"{name}: k={res['k']} ACC {res['acc']:.3f} NMI {res['nmi']:.3f} ({res['seconds']:.1f} s) {res['summary']}",
              flush=True)
    lo, hi = args.k_range or (max(2, n_classes // 2), 2 * n_classes)
    config = get_preset(DEFAULT_PRESET)
    config.crop_roi = args.crop
    auto = run_one(config.with_k(k_range=(lo, hi)), loaded[(config.image_size, args.crop)], args.cache_dir)
    rows.append([f"{DEFAULT_PRESET}, auto k {lo}..{hi}", len(loaded[(config.image_size, args.crop)]), n_classes,
                 auto["k"], auto["acc"], auto["nmi"], auto["ari"], f"{auto['seconds']:.1f}"])
    from pipeline.clustering.kselect import taxonomy_k_range

    tlo, thi = taxonomy_k_range(n_classes)
    tax = run_one(config.with_k(k_range=(tlo, thi)), loaded[(config.image_size, args.crop)], args.cache_dir)
    rows.append([f"{DEFAULT_PRESET}, k from a taxonomy of {n_classes} ({tlo}..{thi})",
                 len(loaded[(config.image_size, args.crop)]), n_classes, tax["k"], tax["acc"], tax["nmi"], tax["ari"],
                 f"{tax['seconds']:.1f}"])
    table = markdown_table(["preset", "images", "classes", "k", "ACC", "NMI", "ARI", "seconds"], rows)
    print("\n" + table + "\n")
    if args.out:
        from pipeline.core.atomic import atomic_write_text

        head = (f"`python bench/unseen.py {' '.join(_argv())}`\n\nset: {data}; machine: {machine_line()}; "
                f"{'ROI crops' if args.crop else 'whole frames'}{', track-disjoint' if args.track_disjoint else ''}"
                f"{f', random subsample of {args.limit}' if args.limit else ''}\n\n")
        atomic_write_text(Path(args.out), head + table + "\n")
    best = results[DEFAULT_PRESET]
    print(f"baseline {BASELINE}: ACC {results[BASELINE]['acc']:.3f}, NMI {results[BASELINE]['nmi']:.3f}")
    print(f"unseen: ACC {best['acc']:.3f}, NMI {best['nmi']:.3f}, k_auto {auto['k']}")


def _argv() -> list[str]:
    import sys

    return sys.argv[1:]


if __name__ == "__main__":
    main()
