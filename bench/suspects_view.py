"""The Suspects view on real data: a screenshot on a GTSRB subset, and UI-thread costs at full size.

    .venv/bin/python bench/suspects_view.py [--data GTSRB] [--screenshot docs/screenshot_suspects.png]

1. Screenshot: 12 GTSRB classes x 40 images, 10% of the labels flipped at random,
   HOG + PCA 60 features, ``MislabelFinder(cv=3)``; prints how many flips rank in the
   top ``n_flips`` and saves the view (with the GTSRB pictograms) after a few decisions.
2. Full size: a synthetic report over 39,209 images (the GTSRB training split's size,
   5% suspects) timed on the GUI thread: building the model, refreshing it after an
   edit and one accept decision (push + refresh + moving to the next suspect).
"""
from __future__ import annotations

import argparse
import csv
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from _common import gtsrb_dir, machine_line  # noqa: E402  (puts the repo on sys.path)

import numpy as np  # noqa: E402


def screenshot(data, out: str, seed: int = 1) -> None:
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    from gui.views.suspects_view import SuspectsView
    from pipeline.config import get_preset
    from pipeline.core.items import ImageItem
    from pipeline.io.loader import load_images
    from pipeline.mislabels import MislabelFinder
    from pipeline.review import ReviewSession, Taxonomy
    from pipeline.run import compute_features

    from gui._qt_compat import patch_signal_emit

    patch_signal_emit()
    app = QApplication.instance() or QApplication([])
    rows = list(csv.DictReader(open(data / "Train.csv", newline="")))
    rng = np.random.default_rng(seed)
    classes = ["1", "2", "4", "12", "13", "14", "17", "18", "25", "33", "38", "40"]
    items = []
    for c in classes:
        cand = [r for r in rows if r["ClassId"] == c]
        for k in rng.choice(len(cand), 40, replace=False):
            r = cand[k]
            roi = (int(r["Roi.X1"]), int(r["Roi.Y1"]), int(r["Roi.X2"]), int(r["Roi.Y2"]))
            items.append(ImageItem(str(data / r["Path"]), c, roi))
    image_set = load_images(items, size=32, crop_roi=True, cache_dir=False, workers=1)
    config = get_preset("hog-kmeans")
    config.pca = 60
    features = compute_features(config, image_set)
    labels = [it.label for it in image_set.items]
    flipped = rng.choice(len(labels), len(labels) // 10, replace=False)
    for i in flipped:
        labels[i] = str(rng.choice([c for c in classes if c != labels[i]]))
    report = MislabelFinder(cv=3, seed=0).fit(features, labels)
    hits = len(set(report.ranked(len(flipped)).tolist()) & set(flipped.tolist()))
    print(f"GTSRB subset {len(labels)} images, {len(classes)} classes, {len(flipped)} flipped labels: "
          f"{hits} of them in the top {len(flipped)}")

    session = ReviewSession(str(data), {}, image_set.paths, labels, np.zeros(len(labels), dtype=np.int64))
    view = SuspectsView(session, report, Taxonomy.gtsrb(data), QUndoStack(), images=image_set.images)
    view.resize(1250, 640)
    view.show()
    app.processEvents()
    m = view.model
    view.accept_suggestion([m.entry(0)])
    view.accept_suggestion([m.entry(1)])
    view.keep_label([m.entry(3)])
    view.reject_images([m.entry(4)])
    view.select_entry(m.entry(2))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not view.loader.idle():
        app.processEvents()
        time.sleep(0.01)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)
    view.grab().save(out)
    print(f"saved {out} ({os.path.getsize(out) // 1024} KB)")
    view.detach()
    view.loader.shutdown()


def full_size(n: int = 39209, n_classes: int = 43, suspects: float = 0.05, seed: int = 0) -> None:
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    from gui.models.suspects_model import SuspectsModel
    from gui.views.suspects_view import SuspectsView
    from pipeline.mislabels import SuspectReport
    from pipeline.review import ReviewSession, Taxonomy

    from gui._qt_compat import patch_signal_emit

    patch_signal_emit()
    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(seed)
    given = rng.integers(0, n_classes, n)
    suggested = given.copy()
    bad = rng.random(n) < suspects
    suggested[bad] = (given[bad] + 1 + rng.integers(0, n_classes - 1, bad.sum())) % n_classes
    score = np.where(bad, 0.5 + 0.5 * rng.random(n), 0.5 * rng.random(n))
    probs = np.full((n, n_classes), 1.0 / n_classes)
    report = SuspectReport(
        classes=[str(c) for c in range(n_classes)], given=given, suggested=suggested, score=score,
        confidence=rng.random(n), knn=score, cluster=score, confident_learning=score, flagged=bad,
        probabilities=probs, outlier_scores=rng.random(n), outliers=np.flatnonzero(rng.random(n) < 0.002),
        near_duplicate_conflicts=[(int(i), int(i) + 1, 0.01) for i in range(0, 200, 2)])
    session = ReviewSession("x", {}, [f"{i}.png" for i in range(n)], [str(g) for g in given], given % 60)
    images = rng.integers(0, 255, (n, 32, 32, 3), dtype=np.uint8)
    t = time.perf_counter()
    model = SuspectsModel(session, report, Taxonomy.gtsrb())
    t_model = time.perf_counter() - t
    session.apply(session.mark_reviewed([int(model.indices[model.entry(0)])]))
    t = time.perf_counter()
    model.refresh()
    t_refresh = time.perf_counter() - t
    stack = QUndoStack()
    view = SuspectsView(session, report, Taxonomy.gtsrb(), stack, images=images)
    view.resize(1250, 640)
    view.show()
    app.processEvents()
    times = []
    for _ in range(20):
        t = time.perf_counter()
        view.accept_suggestion()
        times.append(time.perf_counter() - t)
        app.processEvents()
    print(f"full size: {n} images, {len(model.suspects)} suspects; model build {1000 * t_model:.1f} ms, "
          f"refresh after an edit {1000 * t_refresh:.1f} ms, accept decision (push + refresh + select next) "
          f"median {1000 * float(np.median(times)):.1f} ms, max {1000 * max(times):.1f} ms")
    view.detach()
    view.loader.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="GTSRB training split (default: ../shared/data/gtsrb)")
    parser.add_argument("--screenshot", default="bench/out/suspects_gtsrb.png")
    parser.add_argument("--skip-screenshot", action="store_true")
    args = parser.parse_args()
    print(machine_line())
    if not args.skip_screenshot:
        screenshot(gtsrb_dir(args.data), args.screenshot)
    full_size()


if __name__ == "__main__":
    main()
