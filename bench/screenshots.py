"""Screenshots of the review window's main views on the demo set, at several window sizes.

    .venv/bin/python bench/screenshots.py                      # docs/screenshots/, 1024x640 and 1600x1000
    .venv/bin/python bench/screenshots.py --sizes 800x500 --out /tmp/shots --n-per-class 6

Clusters the built-in demo set in process (the default preset, k=13, as File > Open the demo set
does), opens the window at each size and writes ``<view>_<W>x<H>.png`` for the Clusters
tab, the Suspects tab (after Review > Find mislabeled images), the Map tab, the Move
dialog, the class picker and More like this. Dialogs are painted over the window where
they stand. The window is driven only through its actions (``w.act(id)``) and public
methods. Runs offscreen unless ``QT_QPA_PLATFORM`` is set (e.g. ``xcb`` on a real or Xvfb
display). Exits 1 when a view could not be captured; the other views are still written.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VIEWS = ("clusters", "suspects", "map", "move", "class_picker", "more_like_this")
DEFAULT_SIZES = ((1024, 640), (1600, 1000))
DEMO_K = 13


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes look like 1024x640, not {text!r}") from None
    if w < 320 or h < 240:
        raise argparse.ArgumentTypeError(f"{text}: the window needs at least 320x240")
    return w, h


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder for the PNGs")
    p.add_argument("--sizes", type=lambda s: [parse_size(v) for v in s.split(",")],
                   default=list(DEFAULT_SIZES), help="window sizes, e.g. 1024x640,1600x1000")
    p.add_argument("--views", type=lambda s: [v.strip() for v in s.split(",")], default=list(VIEWS),
                   help=f"which views ({','.join(VIEWS)})")
    p.add_argument("--n-per-class", type=int, default=30, help="demo images per class (the app's demo: 30)")
    p.add_argument("--store", type=Path, help="project store to use (default: a fresh temporary folder)")
    args = p.parse_args(argv)
    unknown = [v for v in args.views if v not in VIEWS]
    if unknown:
        p.error(f"unknown views {', '.join(unknown)}; choose from {', '.join(VIEWS)}")
    return args


# ================================================================== helpers
def settle(ms: int = 150) -> None:
    """Let the event loop run (thumbnails arrive, layouts settle)."""
    from PySide6.QtTest import QTest

    QTest.qWait(ms)


def wait_for(cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.01)


def wait_thumbnails(window) -> None:
    for loader in (window.clusters.loader, getattr(window.more_dialog, "loader", None)):
        if loader is not None:
            loader.wait_idle(10_000)
    settle(200)


def grab(window, dialog=None):
    """The window as an image, with ``dialog`` (a top-level) painted where it stands."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QColor, QPainter

    pix = window.grab()
    if dialog is not None and dialog.isVisible():
        shot = dialog.grab()
        pos = dialog.frameGeometry().topLeft() - window.frameGeometry().topLeft()
        if dialog.geometry().width() > pix.width() or pos.x() < 0 or pos.y() < 0 or \
                pos.x() + shot.width() > pix.width() or pos.y() + shot.height() > pix.height():
            pos = QPoint(max(0, (pix.width() - shot.width()) // 2), max(0, (pix.height() - shot.height()) // 2))
        painter = QPainter(pix)
        painter.drawPixmap(pos, shot)
        painter.setPen(QColor(90, 90, 90))  # offscreen dialogs have no window frame: outline them
        painter.drawRect(pos.x(), pos.y(), shot.width() - 1, shot.height() - 1)
        painter.end()
    return pix


def save_png(pix, path: Path) -> int:
    """Write ``pix`` as PNG atomically; returns its size in bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    from pipeline.core.atomic import atomic_write_bytes

    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not pix.save(buf, "PNG"):
        raise OSError(f"could not encode {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, bytes(data))
    return len(data)


def make_project(store_root: Path, n_per_class: int) -> Path:
    """The demo folder, clustered and stored as the window's project (what Open the demo set does)."""
    from pipeline.config import DEFAULT_PRESET, get_preset
    from pipeline.io.demo import demo_folder
    from pipeline.project.run_and_store import run_and_store

    folder = demo_folder(store_root / "demo", n_per_class=n_per_class).resolve()
    from gui.settings import SessionStore

    if not SessionStore(store_root).has_project(folder):
        run_and_store(get_preset(DEFAULT_PRESET).with_k(DEMO_K), str(folder), str(folder), str(store_root))
    return folder


# ================================================================== the views
def close_dialogs(w) -> None:
    for dlg in (w.clusters.dialog, w.map.dialog, w.more_dialog):
        if dlg is not None and dlg.isVisible():
            dlg.reject()
    settle(50)


def select_grid_images(w, n: int) -> list[int]:
    """Select the first ``n`` images of the shown cluster (as clicking them would)."""
    from PySide6.QtCore import QItemSelection, QItemSelectionModel

    grid, model = w.clusters.grid, w.clusters.thumb_model
    sel = QItemSelection()
    rows = list(range(min(n, model.rowCount())))
    for row in rows:
        sel.select(model.index(row), model.index(row))
    grid.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    if rows:
        grid.setCurrentIndex(model.index(rows[0]))
        grid.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    return [model.image_index(r) for r in rows]


def show_clusters(w):
    w.review_tabs.setCurrentWidget(w.clusters)
    # the suggestion column and the centre's suggestion, as a reviewer sees them a moment after opening
    wait_for(lambda: w.suggestions.has_suggestions() and not w.suggestions.busy(), 300, "the class suggestions")
    w.review.select(w.review.display_order()[:1])
    settle()
    select_grid_images(w, 3)
    wait_thumbnails(w)
    return grab(w)


def show_suspects(w):
    done = []
    w.job_finished.connect(done.append)
    w.job_failed.connect(lambda name, msg: done.append(f"failed: {msg}"))
    if not w.act("suspects").isEnabled():
        raise RuntimeError("Find mislabeled images is disabled (does the demo set have labels?)")
    w.act("suspects").trigger()
    wait_for(lambda: bool(done), 180, "the mislabel search")
    if done[0] != "suspects":
        raise RuntimeError(f"the mislabel search did not finish: {done[0]}")
    wait_for(lambda: w.suspects.view is not None, 10, "the Suspects view")
    settle(400)
    return grab(w)


def show_map(w):
    w.review_tabs.setCurrentWidget(w.map)
    wait_for(lambda: w.map.layout_xy is not None, 300, "the map layout")
    w.review.select(w.review.display_order()[:1])  # its points are ringed
    xy = w.map.layout_xy
    lo, hi = xy.min(0), xy.max(0)
    mid = (lo + hi) / 2
    w.map.view.select_rect(mid[0], mid[1], mid[0] + 0.25 * (hi[0] - lo[0]), mid[1] + 0.25 * (hi[1] - lo[1]))
    settle(300)
    return grab(w)


def show_move(w):
    w.review_tabs.setCurrentWidget(w.clusters)
    w.review.select(w.review.display_order()[:1])
    settle()
    select_grid_images(w, 4)
    w.update_actions()
    w.act("move").trigger()
    dlg = w.clusters.dialog
    if dlg is None or not dlg.isVisible():
        raise RuntimeError("the Move dialog did not open")
    settle(300)
    return grab(w, dlg)


def show_class_picker(w):
    w.review_tabs.setCurrentWidget(w.clusters)
    w.review.select(w.review.display_order()[:1])
    w.update_actions()
    w.act("name").trigger()
    dlg = w.clusters.dialog
    if dlg is None or not dlg.isVisible():
        raise RuntimeError("the class picker did not open")
    settle(300)
    return grab(w, dlg)


def show_more_like_this(w):
    w.review_tabs.setCurrentWidget(w.clusters)
    w.review.select(w.review.display_order()[:1])
    settle()
    select_grid_images(w, 1)
    w.update_actions()
    w.act("more_like_this").trigger()
    dlg = w.more_dialog
    if dlg is None or not dlg.isVisible():
        raise RuntimeError("More like this did not open")
    dlg.select_rows(range(min(4, dlg.model.rowCount())))
    wait_thumbnails(w)
    return grab(w, dlg)


SHOW: dict[str, Callable] = {"clusters": show_clusters, "suspects": show_suspects, "map": show_map,
                             "move": show_move, "class_picker": show_class_picker,
                             "more_like_this": show_more_like_this}


def capture(size: tuple[int, int], views, folder: Path, store_root: Path, out: Path) -> list[str]:
    """Open the window at ``size`` on the project and write each view; returns the failures."""
    from gui.main_window import MainWindow
    from gui.settings import SessionStore

    w = MainWindow(store=SessionStore(store_root))
    w.resize(*size)
    w.show()
    settle(200)
    failures: list[str] = []
    try:
        if not w.projects.restore_project(folder):
            return [f"{size}: cannot open the demo project: {w.last_error}"]
        settle(300)
        for view in views:
            path = out / f"{view}_{size[0]}x{size[1]}.png"
            try:
                pix = SHOW[view](w)
                n = save_png(pix, path)
                print(f"wrote {path} ({pix.width()}x{pix.height()}, {n:,} bytes)", flush=True)
            except Exception as exc:  # one broken view must not cost the others
                failures.append(f"{view} at {size[0]}x{size[1]}: {exc}")
                traceback.print_exc()
            finally:
                close_dialogs(w)
    finally:
        w.close()
        w.deleteLater()
        settle(50)
    return failures


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from gui.app import make_application

    app = make_application()
    with tempfile.TemporaryDirectory(prefix="cr-screens-") as tmp:
        store_root = args.store or Path(tmp) / "store"
        os.environ.setdefault("CLUSTER_REVIEW_HOME", str(store_root))
        folder = make_project(store_root, args.n_per_class)
        failures: list[str] = []
        for size in args.sizes:
            failures += capture(size, args.views, folder, store_root, args.out)
    app.processEvents()
    for f in failures:
        print(f"FAILED {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
