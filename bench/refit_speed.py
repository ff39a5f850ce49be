"""How long one suggestion refit takes (the window's background job after every edit): the issue's ≤ 1 s at 40,000.

A labeling-mode review is built on synthetic features (``--classes`` Gaussian classes in ``--dim``
dimensions, ``--clusters`` small clusters; the cost depends on the sizes, not on the pictures), the
first ``--named`` clusters are named, and :func:`pipeline.suggest.calibrated_suggestions` runs
``--repeats`` times the way the window calls it (evidence calibration, suggestion history, one BLAS
thread as in the window's process), once with the images in class-folder order and once in a mixed
folder's order (neighbours far apart in memory). Last line::

    refit: images N, named clusters C, median S s (class folders), M s (mixed folder)
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import _common  # noqa: F401  (puts the repository on sys.path)
from _common import machine_line


def synthetic_review(n: int, dim: int, n_classes: int, n_clusters: int, seed: int, sorted_by_class: bool = False):
    """Features, true classes and a ReviewSession over ``n_clusters`` k-means-like cells of them; the
    images in a mixed folder's order, or ``sorted_by_class`` (class folders)."""
    from pipeline.review.session import ReviewSession

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, dim)).astype(np.float32) * 1.5
    truth = rng.integers(0, n_classes, n)
    if sorted_by_class:
        truth = np.sort(truth)
    x = centres[truth] + rng.normal(size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    # clusters: each class split into cells around a few of its images, plus a few percent of strays
    per_class = max(1, n_clusters // n_classes)
    assign = np.empty(n, np.int64)
    for c in range(n_classes):
        rows = np.flatnonzero(truth == c)
        anchors = x[rng.choice(rows, min(per_class, len(rows)), replace=False)]
        assign[rows] = c * per_class + (x[rows] @ anchors.T).argmax(1)
    strays = rng.random(n) < 0.05
    assign[strays] = rng.integers(0, n_classes * per_class, int(strays.sum()))
    paths = [f"/synthetic/{i:06d}.png" for i in range(n)]
    session = ReviewSession.from_result("/synthetic", {}, paths, None, assign)
    return x, truth.astype(str).astype(object), session


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=39209)
    ap.add_argument("--dim", type=int, default=143, help="feature width (prior-multicrop-ward: 100 + 43 class scores)")
    ap.add_argument("--classes", type=int, default=43)
    ap.add_argument("--clusters", type=int, default=980)
    ap.add_argument("--named", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kernel-features", type=int, default=None,
                    help="the propagator's random Fourier features (default: Propagator's; 0: the plain ridge learner)")
    args = ap.parse_args()
    print(machine_line())
    medians = {}
    for order in ("class folders", "mixed folder"):
        medians[order], worst = time_refits(args, sorted_by_class=order == "class folders")
        print(f"{order}: median {medians[order]:.3f} s, max {worst:.3f} s")
    print(f"refit: images {args.images}, named clusters {args.named}, median {medians['class folders']:.2f} s "
          f"(class folders), {medians['mixed folder']:.2f} s (mixed folder)")


def time_refits(args, sorted_by_class: bool) -> tuple[float, float]:
    """Median and max seconds of ``args.repeats`` refits on one synthetic review."""
    from threadpoolctl import threadpool_limits

    from pipeline.suggest import Propagator, calibrated_suggestions
    from pipeline.suggest.history import SuggestionHistory

    x, truth, session = synthetic_review(args.images, args.dim, args.classes, args.clusters, args.seed,
                                         sorted_by_class)
    rng = np.random.default_rng(args.seed)
    for cid in rng.permutation(session.cluster_ids())[:args.named].tolist():
        members = session.members(cid)
        values, counts = np.unique(truth[members], return_counts=True)
        session.apply(session.name(cid, str(values[counts.argmax()])))
    t0 = time.perf_counter()
    kw = {} if args.kernel_features is None else {"kernel_features": args.kernel_features}
    prop = Propagator(**kw).prepare(x)
    print(f"graph: {time.perf_counter() - t0:.1f} s (once per feature set)")
    history = SuggestionHistory()
    times = []
    with threadpool_limits(1):  # the window's process keeps BLAS at one thread (gui/blas_threads.py)
        for i in range(args.repeats):
            t0 = time.perf_counter()
            calibrated_suggestions(prop, session, seed=i, n_taxonomy=args.classes, min_groups=60,
                                   declined={}, evidence=True, prior=None, history=history)
            times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times)


if __name__ == "__main__":
    main()
