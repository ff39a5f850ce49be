"""Cluster the GTSRB training split with each preset and print a results table.

Each preset runs in a fresh subprocess so its time and peak memory are its own; the
first (cold) run decodes every JPEG, later runs read the decode cache. The peer,
clustimage (bench environment only: `make bench-env`), runs the seed's recipe
(PCA 0.95 + ward agglomerative, silhouette over k = 40..50) on a stratified subsample
it can handle, and our default preset runs on the same subsample for the ratios.

    python bench/gtsrb.py [--data DIR] [--runs best,hog-kmeans] [--peer-n 6000]
                          [--no-crop] [--track-disjoint] [--limit N] [--icons DIR|drawn] [--out FILE]

The honest rows: ``--no-crop`` clusters whole frames (no ROI file, as a new user's set),
``--track-disjoint`` keeps at most 3 spaced frames per physical-sign track (GTSRB names
files ``class_track_frame``), so ~30 near-identical frames per sign cannot carry the score.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, gtsrb_dir, machine_line, markdown_table, peak_rss_mb, track_disjoint

RUNS = [
    # (label, preset, k, k_range, cold cache)
    ("best (cold: decode included)", "best", 43, None, True),
    ("best", "best", 43, None, False),
    ("best, auto k 30:60", "best", None, (30, 60), False),
    ("hog-kmeans", "hog-kmeans", 43, None, False),
    ("pixels-kmeans", "pixels-kmeans", 43, None, False),
    ("hog-multicrop-ward", "hog-multicrop-ward", 43, None, False),
    ("guarded", "guarded", 43, None, False),
    ("deep-multicrop", "deep-multicrop", 43, None, False),
    ("prior-multicrop-ward", "prior-multicrop-ward", 43, None, False),
    ("deep-prior-multicrop", "deep-prior-multicrop", 43, None, False),
]


def single(args: argparse.Namespace) -> None:
    """Child process: one preset on the whole split; print one JSON line."""
    from pipeline.config import get_preset
    from pipeline.run import run_pipeline

    config = get_preset(args.preset)
    config = config.with_k(k_range=tuple(args.k_range)) if args.k_range else config.with_k(k=args.k)
    config.crop_roi = not args.no_crop
    for spec in config.features:  # the pictogram prior learns from the split's Meta/ icons (or --icons)
        if spec["name"] == "pictogram_prior" and not spec["params"].get("icons_from"):
            spec["params"] = {**spec["params"], "icons_from": args.icons or str(args.data)}
    t0 = time.perf_counter()
    result = run_pipeline(config, select_images(args, config), cache_dir=args.cache_dir)
    seconds = time.perf_counter() - t0
    m = result.metrics
    print(json.dumps({
        "n": len(result.image_set), "skipped": len(result.image_set.skipped), "k": result.clusters.n_clusters,
        "acc": m["acc"], "purity": m["purity"], "nmi": m["nmi"], "ari": m["ari"], "seconds": seconds,
        "timings": result.timings, "peak_mb": peak_rss_mb(), "notes": result.notes,
    }))


def select_images(args: argparse.Namespace, config):
    """The folder itself, or (``--track-disjoint`` / ``--limit``) the decoded subsample."""
    if not (args.track_disjoint or args.limit):
        return str(args.data)
    import numpy as np

    from pipeline.run import load_source

    image_set = load_source(str(args.data), config, cache_dir=args.cache_dir)
    idx = np.asarray(track_disjoint(image_set.items) if args.track_disjoint else range(len(image_set)))
    if args.limit and len(idx) > args.limit:
        idx = np.sort(np.random.default_rng(0).choice(idx, args.limit, replace=False))
    return image_set.subset(idx)


def run_child(data: Path, preset: str, k, k_range, cache_dir: Path, extra: list[str] = ()) -> dict:
    cmd = [sys.executable, __file__, "--single", "--data", str(data), "--preset", preset, "--cache-dir", str(cache_dir)]
    cmd += list(extra)
    cmd += ["--k-range", str(k_range[0]), str(k_range[1])] if k_range else ["--k", str(k)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def stratified_subsample(labels, n: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    share = n / len(labels)
    picks = [rng.choice(np.where(labels == c)[0], max(1, round(share * (labels == c).sum())), replace=False)
             for c in np.unique(labels)]
    return np.sort(np.concatenate(picks))


def peer_comparison(data: Path, cache_dir: Path, n: int) -> list[list]:
    """clustimage's seed recipe vs our default on the same stratified subsample."""
    import numpy as np

    from pipeline.clustering.api import cluster_features
    from pipeline.config import get_preset
    from pipeline.evaluate import evaluate_clustering
    from pipeline.io.loader import load_images
    from pipeline.run import compute_features

    try:
        from clustimage import Clustimage
    except ImportError:
        print("clustimage is not installed (run `make bench-env`); peer comparison skipped")
        return []
    image_set = load_images(str(data), size=32, crop_roi=True, cache_dir=cache_dir)
    idx = stratified_subsample(image_set.labels, n)
    sub = image_set.subset(idx)
    y = np.array(sub.labels)

    t0 = time.perf_counter()
    config = get_preset("best")
    feats = compute_features(config, sub)
    ours = cluster_features(feats, config.method, 43, **config.method_params)
    ours_s = time.perf_counter() - t0
    ours_auto = cluster_features(feats, config.method, k_range=(40, 50), **config.method_params)
    ours_m = evaluate_clustering(y, ours.labels)
    ours_auto_m = evaluate_clustering(y, ours_auto.labels)

    # clustimage takes flattened gray images of a square size it is told
    gray = sub.images.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    flat = gray.reshape(len(sub), -1) / 255.0
    size = sub.images.shape[1]
    t0 = time.perf_counter()
    peer = Clustimage(method="pca", params_pca={"n_components": 0.95}, dim=(size, size), grayscale=True, verbose=50)
    peer.fit_transform(flat, cluster="agglomerative", evaluate="silhouette", metric="euclidean",
                       linkage="ward", min_clust=40, max_clust=50)
    peer_s = time.perf_counter() - t0
    peer_labels = np.asarray(peer.results["labels"])
    peer_m = evaluate_clustering(y, peer_labels)
    rows = [
        ["clustimage (PCA 0.95 + ward, silhouette 40..50)", len(np.unique(peer_labels)), peer_m["acc"], peer_m["nmi"], peer_m["ari"], f"{peer_s:.1f}"],
        ["ours: best, k=43", ours.n_clusters, ours_m["acc"], ours_m["nmi"], ours_m["ari"], f"{ours_s:.1f}"],
        ["ours: best, auto k 40..50", ours_auto.n_clusters, ours_auto_m["acc"], ours_auto_m["nmi"], ours_auto_m["ari"], "(same tree)"],
    ]
    print(f"\npeer comparison on a stratified subsample of {len(sub)} images")
    print(markdown_table(["pipeline", "k", "ACC", "NMI", "ARI", "seconds"], rows))
    print(f"ratio ours/clustimage: time {ours_s / peer_s:.2f}x, ACC {ours_m['acc'] / peer_m['acc']:.2f}x, "
          f"NMI {ours_m['nmi'] / peer_m['nmi']:.2f}x")
    return rows


def _load() -> str:
    import os

    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data")
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--preset")
    parser.add_argument("--k", type=int)
    parser.add_argument("--k-range", type=int, nargs=2)
    parser.add_argument("--cache-dir")
    parser.add_argument("--runs", help="comma-separated presets to run, e.g. best,hog-kmeans (default: all)")
    parser.add_argument("--peer-n", type=int, default=6000, help="subsample size for the clustimage comparison (0 = skip)")
    parser.add_argument("--no-crop", action="store_true", help="whole frames: ignore the ROIs of Train.csv")
    parser.add_argument("--track-disjoint", action="store_true", help="at most 3 spaced frames per sign track")
    parser.add_argument("--limit", type=int, default=0, help="random subsample of at most N images (after --track-disjoint)")
    parser.add_argument("--icons", help="icons for the pictogram prior: a folder with Meta/, a taxonomy CSV, "
                        "or 'drawn' (default: the split's Meta/)")
    parser.add_argument("--out", help="also write the table (with the command and machine) to this markdown file")
    args = parser.parse_args()
    args.data = gtsrb_dir(args.data)
    if args.single:
        single(args)
        return

    extra = (["--no-crop"] if args.no_crop else []) + (["--track-disjoint"] if args.track_disjoint else [])
    extra += ["--limit", str(args.limit)] if args.limit else []
    extra += ["--icons", args.icons] if args.icons else []
    setting = ", ".join(["whole frames" if args.no_crop else "ROI crops"]
                        + (["track-disjoint (<= 3 frames per track)"] if args.track_disjoint else [])
                        + ([f"random subsample of {args.limit}"] if args.limit else []))
    print(f"GTSRB training split at {args.data} ({setting}); machine: {machine_line()}")
    with tempfile.TemporaryDirectory(prefix="cr-bench-cache-") as tmp:
        cache_dir = Path(args.cache_dir or tmp)
        rows = []
        for label, preset, k, k_range, cold in RUNS:
            if args.runs and label.split(" ")[0].rstrip(",") not in args.runs.split(","):
                continue
            res = run_child(args.data, preset, k, k_range, cache_dir, extra)
            rows.append([label, res["k"], res["acc"], res["nmi"], res["ari"], f"{res['seconds']:.1f}",
                         round(res["n"] / res["seconds"]), round(res["peak_mb"])])
            print(f"{label}: {json.dumps(res)}", flush=True)
        table = markdown_table(["preset", "k", "ACC", "NMI", "ARI", "seconds", "images/s", "peak MB"], rows)
        print("\n" + table)
        if args.out:
            from pipeline.core.atomic import atomic_write_text

            atomic_write_text(Path(args.out), f"`python bench/gtsrb.py {' '.join(sys.argv[1:])}`\n\n"
                              f"{setting}; machine: {machine_line()}; load average {_load()}\n\n{table}\n")
        if args.peer_n:
            peer_comparison(args.data, cache_dir, args.peer_n)


if __name__ == "__main__":
    main()
