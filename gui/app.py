"""Application entry: ``main(argv)`` builds the QApplication and the review window.

``main(["--demo"])`` clusters the built-in demo set; ``main([path])`` opens a folder
(restoring its saved review when there is one) or a saved ``.json`` session.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

DESCRIPTION = "Cluster Review: cluster a folder of images, review the clusters, export corrected labels."


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="cluster-review gui", description=DESCRIPTION)
    parser.add_argument("target", nargs="?", help="folder of images or saved session (.json) to open")
    parser.add_argument("--demo", action="store_true", help="open the built-in synthetic traffic-sign set")
    parser.add_argument("--preset", help="run this pipeline preset on the folder without asking")
    parser.add_argument("--k", type=int, help="number of clusters for --preset")
    parser.add_argument("--rerun", action="store_true", help="run the pipeline even if a saved review exists")
    parser.add_argument("--store", help="folder for sessions and caches (default: per-user data folder)")
    return parser.parse_args(list(argv) if argv is not None else None)


def make_application(argv: Optional[Sequence[str]] = None):
    """The existing QApplication, or a new one styled for long review sessions."""
    from PySide6.QtWidgets import QApplication

    from gui._qt_compat import patch_signal_emit
    from gui.blas_threads import one_blas_thread

    patch_signal_emit()
    one_blas_thread()  # the UI thread's small products must not queue behind a background job's (see module)
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv else [sys.argv[0]])
        app.setApplicationName("Cluster Review")
        app.setOrganizationName("cluster-review")
        app.setStyle("Fusion")
    return app


def build_window(args: argparse.Namespace):
    from pipeline.config import get_preset

    from gui.main_window import MainWindow
    from gui.settings import SessionStore

    store = SessionStore(args.store) if args.store else SessionStore()
    MainWindow.freeze_gc_after_install = True  # one window for the life of the process
    window = MainWindow(store=store)
    projects = window.projects
    config = None
    if args.preset:
        config = get_preset(args.preset)
        if args.k:
            config = config.with_k(args.k)
    if args.demo:
        if config is not None:
            projects.demo_config = config
        projects.open_demo()
    elif args.target:
        target = os.path.abspath(args.target)
        if os.path.isdir(target):
            projects.open_folder(target, config=config, force_run=args.rerun)
        else:
            projects.open_path(target)
    return window


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the review window until it is closed; returns the exit status."""
    args = parse_args(argv)
    from .platform_check import check_platform

    if check_platform():  # no display or missing xcb libraries: say so instead of a Qt abort
        return 2
    app = make_application()
    window = build_window(args)
    window.show()
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(main())
