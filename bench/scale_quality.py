"""Where streamed runs lose ACC: the PCA sample and the two-stage clustering, seed by seed.

On the same N images as ``bench/scale.py`` (its hard-linked GTSRB set), the raw features of
the preset are computed once in memory (kept in the cache folder as a ``.npy``); then, for
every seed, the reduction is fitted on

- ``full``: every image (what today's in-memory path does),
- ``rows``: ``--sample`` images drawn uniformly (what the streamed path now fits on),
- ``chunks``: ``--sample`` images as whole runs of 512 consecutive rows (the old streamed
  sample). Rows come in the order the pipeline lists them (``io.sources.discover`` sorts
  by path, so the GTSRB copies are class-sorted although the CSV is shuffled): such a
  sample holds whole runs of few classes,

and the reduced set is clustered both with the preset's one-stage method and in two stages
(:func:`pipeline.clustering.two_stage.two_stage_labels`).

    python bench/scale_quality.py --n 40000 [--no-crop] [--seeds 0,1,2] [--sample 16384]
                                  [--samples full,rows,chunks] [--stages one,two] [--micro 4096,8192] [--centre-k 10,5]

``--micro`` / ``--centre-k`` try other micro-cluster counts and k-NN widths of the graph over
their centres (two-stage rows, one per pair).

Last line: ``scale_quality: n N, full_one_stage A, rows_two_stage B, gap G`` (seed means).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from _common import machine_line, markdown_table
from scale import DEFAULT_CACHE, build_set, load

CHUNK = 512


def raw_features(n: int, no_crop: bool, config, cache: Path):
    """``(raw, labels)`` for the first ``n`` images of the scale set (computed once, then read back)."""
    stem = cache / f"raw-{n}-{'full' if no_crop else 'roi'}-{config.name}"
    if not (stem.with_suffix(".npy").is_file() and Path(f"{stem}-labels.npy").is_file()):
        from pipeline.io.loader import load_images
        from pipeline.run import extract_features

        image_set = load_images(build_set(n, cache), size=config.image_size, crop_roi=not no_crop, cache_dir=False)
        raw = extract_features(config, image_set.images)
        _, labels = np.unique(np.asarray(image_set.labels), return_inverse=True)
        np.save(f"{stem}-labels.npy", labels)
        np.save(stem.with_suffix(".npy"), raw)
    return np.load(stem.with_suffix(".npy"), mmap_mode="r"), np.load(f"{stem}-labels.npy")


def sample_rows(kind: str, n: int, size: int, order: np.ndarray, rng) -> np.ndarray:
    """Row indices the reduction fits on (``order``: the listing's order of the rows)."""
    if kind == "full" or size >= n:
        return np.arange(n)
    if kind == "rows":
        return np.sort(rng.choice(n, size, replace=False))
    starts = np.arange(0, n, CHUNK)
    picked = rng.choice(len(starts), min(len(starts), -(-size // CHUNK)), replace=False)
    return np.sort(np.concatenate([order[s : s + CHUNK] for s in starts[picked]]))


def reduce_all(raw, rows: np.ndarray, config, seed: int) -> np.ndarray:
    from pipeline.reduction import Reducer

    reducer = Reducer(pca=config.pca, whiten=config.whiten, l2=config.l2_normalize, seed=seed)
    reducer.fit(np.asarray(raw[rows], dtype=np.float32))
    return np.concatenate([reducer.transform(raw[s : s + 8192]) for s in range(0, len(raw), 8192)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=40000)
    parser.add_argument("--no-crop", action="store_true")
    parser.add_argument("--preset", default="best")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--sample", type=int, default=16384)
    parser.add_argument("--samples", default="full,rows,chunks")
    parser.add_argument("--stages", default="one,two")
    parser.add_argument("--micro", default="", help="micro-cluster counts to try (default: the pipeline's)")
    parser.add_argument("--centre-k", default="", help="k-NN widths of the centre graph to try (default: the preset's)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    from pipeline.clustering.api import cluster_features
    from pipeline.clustering.two_stage import two_stage_labels
    from pipeline.config import get_preset
    from pipeline.evaluate import evaluate_clustering

    config = get_preset(args.preset)
    print(f"# {machine_line()}; n {args.n}, {'whole frames' if args.no_crop else 'ROI crops'}, sample {args.sample}, "
          f"rows in the pipeline's order; load at start {load()}", flush=True)
    t0 = time.perf_counter()
    raw, labels = raw_features(args.n, args.no_crop, config, args.cache)
    print(f"raw features {raw.shape} in {time.perf_counter() - t0:.0f} s; class changes along the rows: "
          f"{int((np.diff(labels) != 0).sum())}", flush=True)
    order = np.arange(len(raw))
    rows, scores = [], {}
    for seed in [int(s) for s in args.seeds.split(",")]:
        for kind in args.samples.split(","):
            t0 = time.perf_counter()
            x = reduce_all(raw, sample_rows(kind, len(raw), args.sample, order, np.random.default_rng(seed)), config, seed)
            variants = [("one", None, None)] if "one" in args.stages.split(",") else []
            if "two" in args.stages.split(","):
                variants += [("two", m, k) for m in (args.micro.split(",") if args.micro else [None])
                             for k in (args.centre_k.split(",") if args.centre_k else [None])]
            for stage, micro, centre_k in variants:
                if stage == "one":
                    pred = cluster_features(x, config.method, config.k, seed=seed, **config.method_params).labels
                else:
                    params = dict(config.method_params)
                    if centre_k:
                        params["centre_neighbors"] = int(centre_k)
                    pred = two_stage_labels(x, config.k, method=config.method, method_params=params, seed=seed,
                                            n_micro=int(micro) if micro else None)[0]
                    stage = "two" + (f" m{micro}" if micro else "") + (f" k{centre_k}" if centre_k else "")
                m = evaluate_clustering(labels, pred)
                scores.setdefault((kind, stage), []).append(m["acc"])
                rows.append([seed, kind, stage, round(m["acc"], 3), round(m["nmi"], 3)])
                print(f"seed {seed} pca {kind:6s} {stage}-stage: ACC {m['acc']:.3f} NMI {m['nmi']:.3f} "
                      f"({time.perf_counter() - t0:.0f} s; load {load()})", flush=True)
    print(markdown_table(["seed", "PCA sample", "stages", "ACC", "NMI"], rows), flush=True)
    for key, accs in sorted(scores.items()):
        print(f"{key[0]:6s} {key[1]}-stage: ACC mean {np.mean(accs):.3f}, sd {np.std(accs):.3f}, "
              f"range {min(accs):.3f}-{max(accs):.3f}", flush=True)
    print(f"load at end {load()}", flush=True)
    ref = np.mean(scores.get(("full", "one"), [float("nan")]))
    got = np.mean(scores.get(("rows", "two"), [float("nan")]))
    print(f"scale_quality: n {args.n}, full_one_stage {ref:.3f}, rows_two_stage {got:.3f}, gap {got - ref:+.3f}", flush=True)


if __name__ == "__main__":
    main()
