"""How much reviewer work turns a folder of images into a correct labeled set?

A simulated reviewer drives the same ``pipeline/`` objects the window calls: the pipeline's
features and ward tree, :class:`~pipeline.review.session.ReviewSession` edits and the
``pipeline.suggest`` APIs (calibrated propagation, review queue, bulk-accept and
disagreement plans, labeling-mode over-clustering, zero-shot pictogram suggestions). It
knows the true labels only to decide (is this cluster one class? which shown suggestions
are wrong?); the tool never sees them (items are stripped of labels before the run).

Cost model (printed with the results): every command = 1 action; choosing images = 1 click
each, a contiguous run in the shown order = 2 (click, shift-click); viewing is free but
every screen of 60 thumbnails looked at is counted; time = 2 s/action + 4 s/screen.

Flows, all in one run (see ``review_effort_flows.py``):
* ``assisted``: labeling mode (the ward tree cut at ``overcluster_k`` clusters), then each
  step the better of the queue's top cluster and the best "accept every suggestion above
  X %" plan (or a plan relabelling disagreeing images), suggestions refitted and
  recalibrated after every edit;
* ``today``: name clusters at k = number of classes, fix the minorities image by image;
* ``per-image``: label every image by hand (1 action per image).

    python bench/review_effort.py [--data DIR] [--no-crop] [--limit N | --track-disjoint] [--out DIR]
"""
from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import numpy as np

from _common import DEFAULT_GTSRB, ROOT, machine_line, markdown_table, peak_rss_mb, track_disjoint
from review_effort_flows import COST_LINE, TARGETS, Reviewer, assisted_flow, per_image_flow, today_flow


# ---------------------------------------------------------------------------- output
def summary(r: Reviewer, n: int) -> dict:
    out = {}
    for t in TARGETS:
        hit = r.at(t)
        out[t] = hit
    return out


def fmt_line(r: Reviewer, n: int) -> str:
    hits = summary(r, n)
    a = {t: (str(h[0]) if h else "none") for t, h in hits.items()}
    h95 = hits[0.95]
    ipa = f"{h95[2] * n / max(h95[0], 1):.1f}" if h95 else "none"
    h99 = hits[0.99]
    mins = f"{(2 * h99[0] + 4 * h99[1]) / 60:.1f}" if h99 else "none"
    return (f"review-effort: images {n}, actions@0.90 {a[0.90]}, actions@0.95 {a[0.95]}, "
            f"actions@0.99 {a[0.99]}, images/action@0.95 {ipa}, minutes@0.99 {mins}")


def write_csv(path: Path, flows: list[Reviewer]) -> None:
    from pipeline.core.atomic import atomic_write

    with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["flow", "actions", "screens", "minutes", "correct_share"])
        for r in flows:
            for a, sc, share in r.curve:
                w.writerow([r.flow, a, sc, f"{(2 * a + 4 * sc) / 60:.2f}", f"{share:.5f}"])


def write_png(path: Path, flows: list[Reviewer], title: str) -> None:
    """Correct share against actions (log x), drawn with Pillow (no matplotlib here)."""
    from PIL import Image, ImageDraw

    w, h, ml, mr, mt, mb = 900, 560, 70, 20, 40, 60
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    xmax = max(max(a for a, _, _ in r.curve) for r in flows)
    lx = lambda a: ml + (w - ml - mr) * math.log10(max(a, 1)) / math.log10(max(xmax, 10))
    ly = lambda s: h - mb - (h - mt - mb) * s
    d.rectangle([ml, mt, w - mr, h - mb], outline="black")
    for s in (0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.99, 1.0):
        y = ly(s)
        d.line([ml, y, w - mr, y], fill=(225, 225, 225))
        d.text((8, y - 6), f"{s:.2f}", fill="black")
    dec = 1
    while dec <= xmax:
        x = lx(dec)
        d.line([x, mt, x, h - mb], fill=(225, 225, 225))
        d.text((x - 10, h - mb + 6), str(dec), fill="black")
        dec *= 10
    colours = {"assisted": (200, 30, 30), "today": (30, 90, 200), "per-image": (90, 90, 90)}
    for k, r in enumerate(flows):
        pts = [(lx(a), ly(s)) for a, _, s in r.curve]
        if len(pts) > 1:
            d.line(pts, fill=colours.get(r.flow, "green"), width=2)
        d.text((ml + 10, mt + 10 + 16 * k), r.flow, fill=colours.get(r.flow, "green"))
    d.text((ml, 12), title, fill="black")
    d.text((w // 2 - 80, h - 25), "actions (log scale)", fill="black")
    from pipeline.core.atomic import atomic_path

    with atomic_path(path, suffix=".png") as tmp:
        img.save(tmp, format="PNG")


# ---------------------------------------------------------------------------- main
def load(args):
    """Decode the source (through the decode cache), keep the truth, hand the tool label-free items."""
    from pipeline.core.items import ImageItem, ImageSet
    from pipeline.io.loader import load_images

    full = load_images(str(args.data), size=32, crop_roi=not args.no_crop)
    truth = np.asarray(full.labels if full.labels is not None else [""] * len(full), dtype=object)
    idx = np.arange(len(full))
    if args.track_disjoint:
        idx = np.asarray(track_disjoint(full.items, per_track=3), dtype=np.int64)
    if args.limit and args.limit < len(idx):
        from gtsrb import stratified_subsample

        idx = idx[stratified_subsample(truth[idx], args.limit, seed=args.seed)]
    items = [ImageItem(full.items[i].path, None, full.items[i].roi) for i in idx.tolist()]
    blind = ImageSet(items, full.images[idx], list(full.skipped), full.layout)
    return blind, truth[idx]


def features_and_tree(config, images, icons_from=None):
    """A ward preset as ``run_pipeline`` runs it (features -> Reducer -> ward tree on a k-NN
    graph), kept in pieces: the Reducer serves the zero-shot renderings, one tree gives
    both the k = classes cut and the labeling-mode cut. ``icons_from``: the folder whose
    taxonomy icons a ``pictogram_prior`` extractor reads (as the window passes the source)."""
    from pipeline.clustering.methods import agglomerative_tree
    from pipeline.reduction import Reducer
    from pipeline.run import extract_features

    raw = extract_features(config, images, icons_from=icons_from)
    reducer = Reducer(pca=config.pca, whiten=config.whiten, l2=config.l2_normalize, seed=config.seed).fit(raw)
    feats = reducer.transform(raw).astype(np.float32)
    tree = agglomerative_tree(feats, "ward", config.method_params.get("n_neighbors", 10))
    return feats, reducer, tree


def zero_shot_report(args, config, reducer, feats, truth, over):
    """``(line, suggestions)``: top-1 accuracy of the zero-shot pictogram suggestion per image and
    per labeling-mode cluster, and the suggestions themselves (the calibration's prior)."""
    from pipeline.suggest.zero_shot import ZeroShot, taxonomy_icons

    t0 = time.perf_counter()
    icons, source = taxonomy_icons(str(args.data))
    zs = ZeroShot(config, reducer, n_per_class=args.zs_renders, seed=args.seed).fit(icons)
    sugg = zs.suggest(feats)
    how = f"icons from {source}, {args.zs_renders} renderings each, {time.perf_counter() - t0:.1f} s"
    return zero_shot_line(sugg, truth, over, how), sugg


def zero_shot_line(sugg, truth, over, how: str) -> str:
    """Top-1 accuracy of the zero-shot suggestion per image and per labeling-mode cluster."""
    pred = np.asarray(sugg.classes, dtype=object)[sugg.top]
    img_acc = float(np.mean(pred == truth))
    right = total = 0
    for c in np.unique(over):
        m = np.flatnonzero(over == c)
        cls, _ = sugg.cluster_vote(m)
        vals, counts = np.unique(truth[m], return_counts=True)
        right += int(cls == vals[counts.argmax()]) * len(m)
        total += len(m)
    return (f"zero-shot ({len(sugg.classes)} classes, {how}): image top-1 {img_acc:.3f}, labeling-mode clusters "
            f"whose suggestion is their majority class: {right / max(total, 1):.3f} of images "
            f"(chance {1 / len(sugg.classes):.3f})")


def reliability(stats) -> str:
    from pipeline.suggest.calibration import reliability_table

    rel = stats.pop("reliability")
    if not rel:
        return "reliability: no suggestions were made"
    conf = np.concatenate([c for c, _ in rel])
    ok = np.concatenate([k for _, k in rel])
    rows = [[f"{lo:.2f}-{hi:.2f}", n, f"{p:.3f}", f"{o:.3f}"] for lo, hi, n, p, o in reliability_table(conf, ok)]
    return ("reliability of the calibrated confidence on undecided images (pooled over every 5th refit):\n"
            + markdown_table(["confidence", "image-suggestions", "mean predicted", "observed right"], rows))


def refit_timing(prop, session, feats, n_taxonomy, suggest_kw, repeats: int = 3) -> str:
    """One refit on the flow's final decisions, isotonic vs the flow's calibration (best of ``repeats``)."""
    from pipeline.suggest import calibrated_suggestions
    from pipeline.suggest.decided import undecided_mask
    from pipeline.suggest.history import SuggestionHistory

    times = {}
    for name, kw in (("isotonic", {}), ("evidence", dict(suggest_kw, history=SuggestionHistory()))):
        if name == "evidence" and not suggest_kw:
            continue
        best = math.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            calibrated_suggestions(prop, session, n_taxonomy=n_taxonomy, **kw)
            best = min(best, time.perf_counter() - t0)
        times[name] = best
    ratio = f", ratio {times['evidence'] / times['isotonic']:.2f}" if "evidence" in times else ""
    return (f"refit on the final {int((~undecided_mask(session)).sum())} decided images of {len(feats)} "
            f"(best of {repeats}): "
            + ", ".join(f"{k} {v:.3f} s" for k, v in times.items()) + ratio)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_GTSRB))
    ap.add_argument("--no-crop", action="store_true", help="whole frames (ignore ROIs)")
    ap.add_argument("--limit", type=int, default=0, help="stratified subsample of N images (quick runs)")
    ap.add_argument("--track-disjoint", action="store_true", help="at most 3 spaced frames per GTSRB track")
    ap.add_argument("--k", type=int, default=0, help="labeling-mode clusters (default: pipeline.suggest.labeling.overcluster_k)")
    ap.add_argument("--max-actions", type=int, default=3000)
    ap.add_argument("--fix-limit", type=int, default=3, help="clicks the reviewer spends on misfits when naming a cluster")
    ap.add_argument("--min-groups", type=int, default=60, help="named clusters before confidences are calibrated")
    ap.add_argument("--keep-feedback", type=int, default=0, help="reviewed plans pooled into calibration (0: none)")
    ap.add_argument("--zs-renders", type=int, default=60, help="zero-shot renderings per class icon (0: no zero-shot prior; "
                                                           "a pictogram_prior preset reads its features' scores instead)")
    ap.add_argument("--calibration", choices=("evidence", "isotonic"), default="evidence",
                    help="evidence: logistic on confidence, distance to decisions, zero-shot prior and the "
                         "history of earlier suggestions; isotonic: the raw confidence on held-out clusters only")
    ap.add_argument("--preset", default="best", help="a ward preset (best, hog-multicrop-ward, prior-multicrop-ward, ...)")
    ap.add_argument("--seed", type=int, default=0,
                    help="the subsample's draw (--limit), the icon renderings, and the flow's random choices "
                         "(the calibration's held-out clusters, the splits' k-means): other seeds show the spread")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--tag", default="", help="file name stem (default from the subsample)")
    ap.add_argument("--skip-baselines", action="store_true")
    ap.add_argument("--open-set", action="store_true",
                    help="the zero-shot prior also suggests the classes nobody has named yet")
    ap.add_argument("--branches", action="store_true",
                    help="the reviewer first names the dendrogram's branches (cut at the taxonomy's size) that are "
                         "nearly one class: branch click, Ctrl+click the other clusters out, Name")
    ap.add_argument("--self-trained-prior", action=argparse.BooleanOptionalAction, default=None,
                    help="sharpen the features' zero-shot prior with a SCAN head it seeds, trained on the images "
                         "(pipeline.suggest.self_trained; default: on for a pictogram_prior preset, as the window does)")
    ap.add_argument("--siblings", action="store_true",
                    help="the reviewer may also name the dendrogram siblings that get one class at once "
                         "(the window's Name siblings…)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from pipeline.clustering.methods import cut_tree
    from pipeline.config import get_preset
    from pipeline.review.session import ReviewSession
    from pipeline.review.taxonomy import Taxonomy
    from pipeline.suggest.labeling import overcluster, overcluster_k

    t_start = time.perf_counter()
    print(f"data {args.data} ({'whole frames' if args.no_crop else 'ROI crop'}"
          f"{', track-disjoint' if args.track_disjoint else ''}); machine: {machine_line()}")
    print(COST_LINE)
    t0 = time.perf_counter()
    blind, truth = load(args)
    n, n_classes = len(truth), len(set(truth.tolist()))
    print(f"load: {n} images, {time.perf_counter() - t0:.1f} s")
    config = get_preset(args.preset)
    if config.method != "agglomerative" or config.method_params.get("linkage", "ward") != "ward":
        sys.exit(f"--preset {args.preset}: the labeling mode cuts a ward tree; pick a ward preset")
    n_taxonomy = len(Taxonomy.gtsrb())  # the tool knows the taxonomy's size, never the truth
    t0 = time.perf_counter()
    feats, reducer, tree = features_and_tree(config, blind.images, icons_from=args.data)
    k_over = args.k or overcluster_k(n, n_classes)
    over = overcluster(feats, k_over, tree=tree)
    print(f"features + ward tree (preset {args.preset}): {time.perf_counter() - t0:.1f} s; labeling mode k = {k_over}")
    prior = None
    from pipeline.features.pictogram_prior import from_feature_scores

    in_features = from_feature_scores(feats, config, args.data) if args.zs_renders else None  # as the window does
    if in_features is not None:
        prior = in_features
        print(zero_shot_line(prior, truth, over, "the features' icon-classifier scores, no rendering"), flush=True)
    elif args.zs_renders:
        line, prior = zero_shot_report(args, config, reducer, feats, truth, over)
        print(line, flush=True)
    if args.self_trained_prior is None:
        args.self_trained_prior = in_features is not None
    if args.self_trained_prior:
        if in_features is None:
            sys.exit("--self-trained-prior needs a pictogram_prior preset (its features end with the icons' scores)")
        from pipeline.suggest.self_trained import self_trained_prior

        t0 = time.perf_counter()
        prior = self_trained_prior(feats, prior, seed=args.seed)
        print(zero_shot_line(prior, truth, over, f"the icon scores x a SCAN head they seed, "
                                                  f"{time.perf_counter() - t0:.1f} s"), flush=True)
    suggest_kw = {}
    if args.calibration == "evidence":
        from pipeline.suggest.history import SuggestionHistory

        suggest_kw = {"evidence": True, "prior": prior, "history": SuggestionHistory(),
                      "open_set": args.open_set and prior is not None}
    print(f"calibration: {args.calibration}" + (f" (zero-shot prior: {'yes' if prior is not None else 'no'})"
                                                  if args.calibration == "evidence" else ""))

    flows = []
    paths = blind.paths
    t0 = time.perf_counter()
    session = ReviewSession.from_result(str(args.data), config.to_dict(), paths, None, over)
    assisted, st = assisted_flow(session, feats, truth, max_actions=args.max_actions, fix_limit=args.fix_limit,
                                  n_taxonomy=n_taxonomy, min_groups=args.min_groups,
                                  keep_feedback=args.keep_feedback, suggest_kw=suggest_kw, branches=args.branches,
                                  siblings=args.siblings,
                                  seed=args.seed)
    fit = np.asarray(st.pop("fit_s"))
    prop = st.pop("propagator")
    st.pop("trace", None)
    rel = reliability(st)
    print(f"assisted flow: {time.perf_counter() - t0:.1f} s; graph {st.pop('graph_s'):.1f} s once; suggestions "
          f"(held-out fit + full fit + calibration, all of calibrated_suggestions) median {np.median(fit):.3f} s, "
          f"max {fit.max():.3f} s over {len(fit)} refits; {st}")
    print(refit_timing(prop, session, feats, n_taxonomy, suggest_kw), flush=True)
    print(rel)
    flows.append(assisted)
    if not args.skip_baselines:
        t0 = time.perf_counter()
        at_k = cut_tree(tree, n, n_classes)
        flows.append(today_flow(ReviewSession.from_result(str(args.data), config.to_dict(), paths, None, at_k), truth))
        flows.append(per_image_flow(ReviewSession.from_result(str(args.data), config.to_dict(), paths, None, at_k),
                                    truth))
        print(f"baselines: {time.perf_counter() - t0:.1f} s")
    for r in flows:
        hits = summary(r, n)
        parts = []
        for t, h in hits.items():
            parts.append(f"@{t:.2f}: " + (f"{h[0]} actions, {h[1]} screens, {(2 * h[0] + 4 * h[1]) / 60:.1f} min"
                                          if h else "not reached"))
        print(f"{r.flow}: " + "; ".join(parts) + f" (final {r.curve[-1][2]:.4f} after {r.actions} actions)")
    tag = args.tag or ("review_effort" + ("_tracks" if args.track_disjoint else "")
                       + ("" if not args.limit else f"_n{args.limit}"))
    write_csv(out / f"{tag}.csv", flows)
    write_png(out / f"{tag}.png", flows, f"correct share vs actions, {n} images, "
              f"{'whole frames' if args.no_crop else 'ROI crop'}{', track-disjoint' if args.track_disjoint else ''}")
    print(f"wrote {out / (tag + '.csv')} and {out / (tag + '.png')}; total {time.perf_counter() - t_start:.1f} s, "
          f"peak {peak_rss_mb():.0f} MB")
    print(fmt_line(assisted, n))


if __name__ == "__main__":
    sys.exit(main())
