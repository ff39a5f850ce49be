"""How much reviewer work turns a folder of images into a correct labeled set?

A simulated reviewer drives the same ``pipeline/`` objects the window calls: the pipeline
run, :class:`~pipeline.review.session.ReviewSession` edits and the ``pipeline.suggest``
APIs (propagation, review queue, labeling-mode over-clustering). It knows the true labels
only to decide (is this cluster one class? is this suggestion right? which images are
wrong?); the tool never sees them (items are stripped of labels before the run).

Cost model (printed with the results): every command (name, accept suggestion, accept
page, merge, split, move, reject, decline) = 1 action; choosing images = 1 click each,
a contiguous run in the shown order = 2 (click, shift-click). Viewing is free but every
screen of 60 thumbnails looked at is counted; reviewer time = 2 s/action + 4 s/screen.

Flows, all in one run:
* ``assisted``: labeling mode (over-clustered), the review queue's top item each time,
  propagation refitted after every edit;
* ``today``: name clusters at k = number of classes (preset ``best``), then fix the
  minorities image by image (select each, 1 move per class group);
* ``per-image``: label every image by hand (1 action per image).

    python bench/review_effort.py [--data DIR] [--no-crop] [--limit N] [--out DIR]
"""
from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

from _common import DEFAULT_GTSRB, ROOT, machine_line, peak_rss_mb

SCREEN = 60
TARGETS = (0.90, 0.95, 0.99)
COST_LINE = ("cost model: 1 action per command (name / accept / accept page / decline / split / move), "
             "1 per image click, 2 per contiguous range; 60 thumbnails per screen; time = 2 s/action + 4 s/screen")


def screens(n: int) -> int:
    return int(math.ceil(n / SCREEN))


def select_cost(mask_in_order: np.ndarray) -> int:
    """Clicks to select the ``True`` entries of a shown list: 1 per lone image, 2 per run."""
    m = np.asarray(mask_in_order, dtype=bool)
    if not m.any():
        return 0
    starts = np.flatnonzero(m & ~np.concatenate([[False], m[:-1]]))
    ends = np.flatnonzero(m & ~np.concatenate([m[1:], [False]]))
    return int(np.minimum(ends - starts + 1, 2).sum())


class Reviewer:
    """Counts actions and screens and records the correct share after every decision."""

    def __init__(self, session, truth: np.ndarray, flow: str) -> None:
        self.s = session
        self.truth = truth
        self.flow = flow
        self.actions = 0
        self.screens = 0
        self.curve: list[tuple[int, int, float]] = [(0, 0, self.share())]

    def share(self) -> float:
        final = np.asarray(self.s.final_classes(), dtype=object)
        return float(np.mean(final == self.truth))

    def command(self, edit, clicks: int = 0) -> None:
        self.s.apply(edit)
        self.actions += 1 + clicks

    def look(self, n_images: int) -> None:
        self.screens += screens(n_images)

    def record(self, share=None) -> float:
        share = self.share() if share is None else share
        self.curve.append((self.actions, self.screens, share))
        return share

    def at(self, target: float):
        for a, sc, share in self.curve:
            if share >= target - 1e-12:
                return a, sc, share
        return None


# ---------------------------------------------------------------------------- flows
def assisted_flow(session, features, truth, *, max_actions: int, log=print) -> tuple[Reviewer, dict]:
    from pipeline.clustering.api import cluster_features
    from pipeline.suggest import Propagator, review_queue

    r = Reviewer(session, truth, "assisted")
    t0 = time.perf_counter()
    prop = Propagator().prepare(features)
    stats = {"graph_s": time.perf_counter() - t0, "fit_s": [], "accept_pages": 0, "cluster_items": 0,
             "declined_pages": 0, "splits": 0, "wrong_seen_on_pages": 0, "page_images": 0}
    declined: dict[int, set] = {}
    share = r.share()
    step = 0
    while r.actions < max_actions and share < TARGETS[-1]:
        sugg = prop.fit_session(session)
        stats["fit_s"].append(sugg.fit_seconds)
        items = review_queue(session, sugg, features=features, declined=declined)
        if not items:
            break
        it = items[0]
        shown = it.indices
        r.look(len(shown))
        if it.kind == "accept":
            stats["accept_pages"] += 1
            wrong = truth[shown] != it.class_id
            first = int(np.argmax(wrong)) if wrong.any() else len(shown)
            if wrong.all():  # a bad page: decline it whole (1 command)
                stats["declined_pages"] += 1
                for i in shown.tolist():
                    declined.setdefault(i, set()).add(it.class_id)
                r.actions += 1
            elif first > 0 and first / 1.0 >= (len(shown) - wrong.sum()) / (select_cost(wrong) + 1.0):
                # grow-accept: one click on the first wrong image accepts all before it
                stats["page_images"] += first
                r.command(session.set_image_label(shown[:first], it.class_id, mark_reviewed=True))
            else:  # deselect each wrong image, accept the rest
                stats["wrong_seen_on_pages"] += int(wrong.sum())
                stats["page_images"] += len(shown)
                for i in shown[wrong].tolist():
                    declined.setdefault(i, set()).add(it.class_id)
                r.command(session.set_image_label(shown[~wrong], it.class_id, mark_reviewed=True),
                          clicks=select_cost(wrong))
        else:
            stats["cluster_items"] += 1
            cid = it.cluster_id
            major, count = Counter(truth[shown].tolist()).most_common(1)[0]
            wrong = truth[shown] != major
            first = int(np.argmax(wrong)) if wrong.any() else len(shown)
            clicks = select_cost(wrong)
            cut = first >= 0.5 * len(shown) and clicks > 2  # click first misfit, shift-click the last
            fix = 2 if cut else clicks
            if not wrong.any():
                r.command(session.name(cid, major))
            elif count / len(shown) >= 0.5 or len(shown) < 4:
                r.command(session.name(cid, major))
                pick = shown[first:] if cut else shown[wrong]
                r.command(session.move(pick, None), clicks=fix)
            else:  # mixed: split in two by the tool's 2-means on its features (1 command)
                members = session.members(cid)
                sub = cluster_features(features[members], "kmeans", 2, seed=step).labels
                if len(np.unique(sub)) < 2:
                    r.command(session.name(cid, major))
                    r.command(session.move(shown[wrong], None), clicks=clicks)
                else:
                    stats["splits"] += 1
                    r.command(session.split(cid, sub))
        share = r.record()
        step += 1
        if step % 25 == 0:
            log(f"  assisted: step {step}, actions {r.actions}, screens {r.screens}, correct {share:.4f}")
    return r, stats


def today_flow(session, truth) -> Reviewer:
    """Name clusters with their majority, then fix minority groups, best gain per action first."""
    r = Reviewer(session, truth, "today")
    ops = []
    for cid in session.cluster_ids():
        members = session.members(cid)
        counts = Counter(truth[members].tolist())
        major, m = counts.most_common(1)[0]
        ops.append((m / 1.0, 0, cid, major, None))
        for cls, c in counts.items():
            if cls != major:
                ops.append((c / (c + 1.0), 1, cid, cls, members[truth[members] == cls]))
    ops.sort(key=lambda o: (-o[0], o[1]))
    for ratio, kind, cid, cls, idx in ops:
        if kind == 0:
            r.look(session.size(cid))
            r.command(session.name(cid, cls))
        else:
            r.command(session.set_image_label(idx, cls, mark_reviewed=True), clicks=len(idx))
        if r.record() >= TARGETS[-1]:
            break
    return r


def per_image_flow(session, truth) -> Reviewer:
    r = Reviewer(session, truth, "per-image")
    n = len(truth)
    marks = {int(math.ceil(t * n)) for t in TARGETS} | set(range(500, n + 1, 500))
    for i in range(n):
        r.command(session.set_image_label([i], truth[i], mark_reviewed=True))
        if (i + 1) in marks:
            r.screens = screens(i + 1)
            if r.record() >= TARGETS[-1]:
                break
    return r


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
    with open(path, "w", newline="") as fh:
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
    img.save(path)


# ---------------------------------------------------------------------------- main
def load(args):
    """Decode the source, keep the truth, hand the tool label-free items."""
    from pipeline.core.items import ImageItem, ImageSet
    from pipeline.io.loader import load_images

    full = load_images(str(args.data), size=32, crop_roi=not args.no_crop)
    truth = np.asarray(full.labels if full.labels is not None else [""] * len(full), dtype=object)
    idx = np.arange(len(full))
    if args.limit and args.limit < len(full):
        from gtsrb import stratified_subsample

        idx = stratified_subsample(truth, args.limit, seed=args.seed)
    items = [ImageItem(full.items[i].path, None, full.items[i].roi) for i in idx.tolist()]
    blind = ImageSet(items, full.images[idx], list(full.skipped), full.layout)
    return blind, truth[idx]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_GTSRB))
    ap.add_argument("--no-crop", action="store_true", help="whole frames (ignore ROIs)")
    ap.add_argument("--limit", type=int, default=0, help="stratified subsample of N images (quick runs)")
    ap.add_argument("--k", type=int, default=0, help="labeling-mode clusters (default: pipeline.suggest.labeling.overcluster_k)")
    ap.add_argument("--max-actions", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--skip-baselines", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from pipeline.config import get_preset
    from pipeline.review.session import ReviewSession
    from pipeline.run import run_pipeline
    from pipeline.suggest.labeling import overcluster, overcluster_k

    t_start = time.perf_counter()
    print(f"data {args.data} ({'whole frames' if args.no_crop else 'ROI crop'}); machine: {machine_line()}")
    print(COST_LINE)
    blind, truth = load(args)
    n_classes = len(set(truth.tolist()))
    config = replace(get_preset("best"), crop_roi=not args.no_crop).with_k(k=n_classes)
    t0 = time.perf_counter()
    result = run_pipeline(config, blind)
    print(f"pipeline (preset best, k={n_classes}): {len(blind)} images, {time.perf_counter() - t0:.1f} s")
    feats = result.features
    paths = result.image_set.paths
    k_over = args.k or overcluster_k(len(blind), n_classes)
    t0 = time.perf_counter()
    over = overcluster(feats, k_over, seed=args.seed)
    print(f"labeling mode: {k_over} clusters in {time.perf_counter() - t0:.1f} s")

    flows = []
    t0 = time.perf_counter()
    session = ReviewSession.from_result(str(args.data), config.to_dict(), paths, None, over)
    assisted, st = assisted_flow(session, feats, truth, max_actions=args.max_actions)
    fit = np.asarray(st.pop("fit_s"))
    print(f"assisted flow: {time.perf_counter() - t0:.1f} s; graph {st.pop('graph_s'):.1f} s once; propagation "
          f"refit median {np.median(fit):.3f} s, max {fit.max():.3f} s over {len(fit)} refits; {st}")
    flows.append(assisted)
    if not args.skip_baselines:
        t0 = time.perf_counter()
        flows.append(today_flow(ReviewSession.from_result(str(args.data), config.to_dict(), paths, None,
                                                          result.clusters.labels), truth))
        flows.append(per_image_flow(ReviewSession.from_result(str(args.data), config.to_dict(), paths, None,
                                                              result.clusters.labels), truth))
        print(f"baselines: {time.perf_counter() - t0:.1f} s")
    n = len(truth)
    for r in flows:
        hits = summary(r, n)
        parts = []
        for t, h in hits.items():
            parts.append(f"@{t:.2f}: " + (f"{h[0]} actions, {h[1]} screens, {(2 * h[0] + 4 * h[1]) / 60:.1f} min"
                                          if h else "not reached"))
        print(f"{r.flow}: " + "; ".join(parts) + f" (final {r.curve[-1][2]:.4f} after {r.actions} actions)")
    tag = "review_effort" + ("" if not args.limit else f"_n{args.limit}")
    write_csv(out / f"{tag}.csv", flows)
    write_png(out / f"{tag}.png", flows, f"correct share vs actions, {n} images, "
              f"{'whole frames' if args.no_crop else 'ROI crop'}")
    print(f"wrote {out / (tag + '.csv')} and {out / (tag + '.png')}; total {time.perf_counter() - t_start:.1f} s, "
          f"peak {peak_rss_mb():.0f} MB")
    print(fmt_line(assisted, n))


if __name__ == "__main__":
    sys.exit(main())
