"""``cluster-review relink OLD_FOLDER NEW_FOLDER``: point a project at its moved images."""
from __future__ import annotations

import argparse

from pipeline.core.paths import display_path


def add_relink_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``relink`` options to ``parser`` (a subparser of the main CLI)."""
    parser.add_argument("old_folder", help="the image folder the project was made for (where it used to be)")
    parser.add_argument("new_folder", help="where the same images are now")
    parser.add_argument("--allow-missing", action="store_true",
                        help="relink even when some images are not under the new folder")
    parser.add_argument("--store", help="project store folder (default: the window's, or $CLUSTER_REVIEW_HOME)")
    return parser


def relink_main(args: argparse.Namespace) -> int:
    """Run ``relink`` from parsed arguments; prints what was found."""
    from pipeline.project.relink import relink_project
    from pipeline.project.store import ProjectStore

    store = ProjectStore(args.store) if args.store else ProjectStore()
    plan = relink_project(store, args.old_folder, args.new_folder, allow_missing=args.allow_missing)
    print(f"relinked {display_path(plan.old_folder)} -> {display_path(plan.new_folder)}: {plan.describe()}")
    return 0
