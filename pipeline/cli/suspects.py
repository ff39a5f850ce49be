"""``cluster-review suspects FOLDER --out suspects.csv``: rank probably-wrong labels."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pipeline.cli.arguments import at_least
from pipeline.core.paths import display_path
from pipeline.mislabels.finder import MislabelFinder
from pipeline.mislabels.suspects import find_suspects, write_conflicts_csv, write_outliers_csv, write_suspects_csv


def add_suspects_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``suspects`` options to ``parser`` (a subparser of the main CLI)."""
    from pipeline.config import PRESETS
    from pipeline.mislabels.suspects import SUSPECTS_PRESET

    parser.add_argument("folder", help="labelled images: class folders, a GTSRB root or CSV, or a path,label CSV")
    parser.add_argument("--out", required=True, help="CSV to write, most suspect first")
    parser.add_argument("--preset", default=SUSPECTS_PRESET, choices=sorted(PRESETS),
                        help="feature pipeline (image size, extractors, PCA) to score on")
    parser.add_argument("--top", type=at_least(0), help="write only the N most suspect images (0 or more)")
    parser.add_argument("--neighbors", type=at_least(1), default=10, help="neighbours per image (1 or more; default 10)")
    parser.add_argument("--cv", type=at_least(2), default=5, help="cross-validation folds (2 or more; default 5)")
    parser.add_argument("--classifier", choices=["logreg", "mlp"], default="logreg")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-crop", action="store_true", help="ignore annotated ROIs (GTSRB)")
    parser.add_argument("--cache-dir", help="where decoded images are cached (default: user cache)")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the decode cache")
    return parser


def suspects_main(args: argparse.Namespace) -> int:
    """Run ``suspects`` from parsed arguments; writes the CSVs and prints a summary."""
    from pipeline.cli.progress_bar import TextProgressBar

    finder = MislabelFinder(n_neighbors=args.neighbors, cv=args.cv, seed=args.seed, classifier=args.classifier)
    bar = TextProgressBar()
    try:
        report, paths, n_unlabelled = find_suspects(
            args.folder, preset=args.preset, finder=finder, crop_roi=False if args.no_crop else None,
            cache_dir=False if args.no_cache else args.cache_dir, progress=bar)
    finally:
        bar.close()
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_suspects_csv(out, report, paths, top=args.top)
        stem = out.with_suffix("")
        dup_csv = write_conflicts_csv(f"{stem}_duplicate_conflicts.csv", report, paths)
        out_csv = write_outliers_csv(f"{stem}_outliers.csv", report, paths)
    except OSError as exc:
        raise ValueError(f"cannot write {display_path(out)}: {exc.strerror or exc} (no file was left half-written)") from exc


    print(f"scored {len(report)} labelled images in {len(report.classes)} classes"
          + (f" ({n_unlabelled} unlabelled left out)" if n_unlabelled else ""))
    print(f"confident learning flags {int(report.flagged.sum())} labels as probably wrong; "
          f"{int(np.sum(report.score > 0.5))} have score > 0.5")
    for row in report.rows(paths, top=10):
        print(f"  {row['score']:.3f}  {row['given']} -> {row['suggested']} ({row['confidence']:.2f})  {display_path(row['path'])}")
    print(f"near-duplicates with different labels: {len(report.near_duplicate_conflicts)}")
    for i, j, d in report.near_duplicate_conflicts[:5]:
        print(f"  {d:.3f}  {display_path(paths[i])} [{report.classes[report.given[i]]}]  ~  "
              f"{display_path(paths[j])} [{report.classes[report.given[j]]}]")
    print(f"outliers (fit no class well): {len(report.outliers)}")
    for i in report.outliers[:5]:
        print(f"  {report.outlier_scores[i]:.3f}  {display_path(paths[i])} [{report.classes[report.given[i]]}]")
    print(f"wrote {display_path(out)}, {display_path(dup_csv)}, {display_path(out_csv)}")
    return 0
