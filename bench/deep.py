"""Deep clustering on the GTSRB training split: ACC / NMI / ARI, training time, device.

Trains each deep method on the shared split (or a stratified ``--limit`` subset), next to
the HOG + K-means baseline, and writes a markdown table to ``bench/results/deep.md``.

    nice -n 10 python bench/deep.py --limit 3000 --runs hog,ae_dense,ae_multilayer,ae_conv,ae_l1,dec,simclr,scan,iic
    nice -n 10 python bench/deep.py --runs hog,deep-fast,deep-best        # whole split

Trained models go to ``--cache-dir`` (default: the session cache), so a rerun reuses them
(the table then shows the training time measured when the model was trained).
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from _common import ROOT, gtsrb_dir, markdown_table  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data")
    parser.add_argument("--limit", type=int, default=0, help="stratified subset size (0 = the whole split)")
    parser.add_argument("--runs", default="hog,ae_dense,ae_multilayer,ae_conv,ae_l1,dec,simclr,scan,iic",
                        help="comma-separated: hog, ae_dense, ae_multilayer, ae_conv, ae_l1, dec (ae_conv + DEC), "
                             "simclr (+ K-means), scan (SimCLR + SCAN), iic, hog_dec, deep-fast, deep-best")
    parser.add_argument("--simclr-epochs", type=int, help="override SimCLR epochs of the simclr/scan runs")
    parser.add_argument("--ae-epochs", type=int, default=20)
    parser.add_argument("--iic-epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2, help="TensorFlow intra-op threads")
    parser.add_argument("--cache-dir")
    parser.add_argument("--k", type=int, default=43)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "deep.md"))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(args.threads))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    import numpy as np

    from pipeline.clustering.api import cluster_features
    from pipeline.config import PipelineConfig, get_preset
    from pipeline.deep import DEEP_PRESETS
    from pipeline.deep.runtime import describe_device
    from pipeline.evaluate import evaluate_clustering
    from pipeline.features.registry import make_extractor
    from pipeline.io.loader import load_images
    from pipeline.reduction import reduce_features
    from pipeline.run import compute_features

    data = gtsrb_dir(args.data)
    image_set = load_images(str(data), size=32, crop_roi=True)
    if args.limit and args.limit < len(image_set):
        rng = np.random.default_rng(0)
        labels = np.asarray(image_set.labels)
        share = args.limit / len(labels)
        idx = np.sort(np.concatenate([rng.choice(np.flatnonzero(labels == c), max(1, round(share * (labels == c).sum())),
                                                 replace=False) for c in np.unique(labels)]))
        image_set = image_set.subset(idx)
    images, y = image_set.images, np.asarray(image_set.labels)
    device = describe_device()
    print(f"{len(images)} images, {len(np.unique(y))} classes; device: {device}", flush=True)
    simclr_params = dict(SIMCLR_PARAMS)
    if args.simclr_epochs:
        simclr_params["epochs"] = args.simclr_epochs
    cache = {"cache_dir": args.cache_dir} if args.cache_dir else {}
    embeddings: dict[str, tuple] = {}

    def embed(name, **params):
        if name not in embeddings:
            ex = make_extractor(name, **params, **cache)
            t0 = time.perf_counter()
            ex.fit(images, progress=lambda p: p.metrics and print(f"  {p.stage} {p.message}", flush=True))
            feats = ex.transform(images)
            wall = time.perf_counter() - t0
            train_s = ex.train_seconds_ if ex.from_cache_ else wall
            embeddings[name] = (reduce_features(feats, pca=None, l2=True), train_s, ex.from_cache_)
        return embeddings[name]

    rows = []
    hog: list = []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = [f"## {when}: {len(images)} GTSRB training images"
              + (f" (stratified subset, --limit {args.limit})" if args.limit else " (whole split)") + f", k = {args.k}",
              "", f"Command: `python bench/deep.py {' '.join(sys.argv[1:])}`", "",
              *markdown_table(HEADERS, []).splitlines()]
    with out.open("a", encoding="utf-8") as fh:  # rows are appended as they finish
        fh.write("\n" + "\n".join(header) + "\n")

    def hog_features():
        if not hog:
            hog.append(compute_features(get_preset("hog-kmeans"), images))
        return hog[0]

    def record(label, labels, seconds, note=""):
        m = evaluate_clustering(y, labels)
        rows.append([label, len(np.unique(labels)), m["acc"], m["nmi"], m["ari"], f"{seconds:.0f}", device, note])
        line = markdown_table(HEADERS, rows[-1:]).splitlines()[-1]
        print(line, flush=True)
        with out.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    for run in [r.strip() for r in args.runs.split(",") if r.strip()]:
        t0 = time.perf_counter()
        if run == "hog":
            labels = cluster_features(hog_features(), "kmeans", args.k, seed=0).labels
            record("HOG + PCA 100 + K-means (baseline)", labels, time.perf_counter() - t0)
        elif run in DEEP_PRESETS:
            config = PipelineConfig.from_dict(DEEP_PRESETS[run])
            feats = hog_features() if config.features == get_preset("hog-kmeans").features else \
                compute_features(config, images)
            labels = cluster_features(feats, config.method, args.k, seed=config.seed, **config.method_params).labels
            record(f"{run}: {config.description.split(':')[0]}", labels, time.perf_counter() - t0)
        elif run == "hog_dec":
            labels = cluster_features(hog_features(), "dec", args.k, seed=0).labels
            record("HOG + PCA 100 + DEC head", labels, time.perf_counter() - t0)
        elif run.startswith("ae_"):
            feats, train_s, cached = embed(run, epochs=args.ae_epochs)
            labels = cluster_features(feats, "kmeans", args.k, seed=0).labels
            record(f"{run} ({args.ae_epochs} ep) + K-means", labels, train_s, "cached model" if cached else "")
        elif run == "dec":
            feats, train_s, cached = embed("ae_conv", epochs=args.ae_epochs)
            t1 = time.perf_counter()
            labels = cluster_features(feats, "dec", args.k, seed=0).labels
            record("ae_conv + DEC", labels, train_s + time.perf_counter() - t1)
        elif run == "simclr":
            feats, train_s, cached = embed("simclr", **simclr_params)
            labels = cluster_features(feats, "kmeans", args.k, seed=0).labels
            record(f"SimCLR ({simclr_params['epochs']} ep, width {simclr_params['width']}) + K-means", labels,
                   train_s, "cached model" if cached else "")
        elif run == "scan":
            feats, train_s, cached = embed("simclr", **simclr_params)
            t1 = time.perf_counter()
            labels = cluster_features(feats, "scan", args.k, seed=0, **SCAN_PARAMS).labels
            record(f"SimCLR ({simclr_params['epochs']} ep) + SCAN", labels, train_s + time.perf_counter() - t1)
        elif run == "iic":
            labels = cluster_features(np.zeros((len(images), 1), np.float32), "iic", args.k, seed=0, images=images,
                                      epochs=args.iic_epochs,
                                      progress=lambda p: p.metrics and print(f"  {p.stage} {p.message}", flush=True)
                                      ).labels
            record(f"IIC ({args.iic_epochs} ep, from scratch)", labels, time.perf_counter() - t0)
        else:
            sys.exit(f"unknown run {run!r}")

    print(f"appended to {out}")


#: SimCLR settings for the simclr/scan runs (CPU-sized) and the SCAN head on top.
SIMCLR_PARAMS = {"epochs": 15, "width": 16, "batch_size": 256}
SCAN_PARAMS = {"epochs": 30, "self_label_epochs": 5}
HEADERS = ["method", "clusters", "ACC", "NMI", "ARI", "train s", "device", "note"]

if __name__ == "__main__":
    main()
