"""Review window at scale: open a synthetic N-image project (default 1,000,000) and stay smooth.

Builds the project once into ``--cache`` (reused by later runs): a few thousand real
24-pixel PNGs (the other images' paths name files that do not exist; the window shows
their working-size array instead), clustered random 64-d features and given labels
(``--clusters`` groups, 10 % of the labels wrong), 16x16 working-size images, all saved
with the real :class:`~pipeline.project.store.ProjectStore`, and a review database made
as ``run_and_store`` makes it (``ReviewSession.from_result`` + ``SessionDB.create``).

Then opens it in the real window (offscreen) the way the app does
(``ProjectController.open_folder``) while a 5 ms timer on the UI thread records every
tick, and prints: seconds from the open to the first usable paint (table filled, first
cluster's grid painted), the longest UI-thread gap while opening, and the gaps while
scrolling the cluster table, selecting clusters, one merge and its undo.

    nice -n 10 .venv/bin/python bench/window_scale.py --images 1000000

Last line: ``window_scale: n N, open_s S, open_gap_ms G, scroll_gap_ms A, select_gap_ms B, merge_gap_ms C, undo_gap_ms D``
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from _common import machine_line, peak_rss_mb  # noqa: E402
from _gap_trace import EventLog, StackSampler  # noqa: E402
from gui_responsiveness import TickRecorder, gap_summary, wait_until  # noqa: E402

REAL_FILES = 4096
DIMS = 64
SIDE = 16
CHUNK = 100_000


def build_project(cache: Path, n: int, k: int, seed: int = 0) -> Path:
    """Write the synthetic project under ``cache`` (once); returns the image folder it is stored for."""
    from PIL import Image

    from pipeline.core.items import ImageItem
    from pipeline.project.store import ProjectData, ProjectStore
    from pipeline.review import ReviewSession
    from pipeline.review.session_db import SessionDB

    folder = cache / "images"
    store = ProjectStore(cache / "store")
    if store.has_project(folder):
        return folder
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n_classes = 43
    cluster = rng.integers(0, k, n)
    cluster_class = rng.integers(0, n_classes, k)
    given = cluster_class[cluster]
    wrong = rng.random(n) < 0.10
    given[wrong] = rng.integers(0, n_classes, int(wrong.sum()))
    centers = rng.normal(0, 1, (k, DIMS)).astype(np.float32)
    class_colour = rng.integers(30, 226, (n_classes, 3))
    features = np.lib.format.open_memmap(cache / "features.tmp.npy", "w+", np.float32, (n, DIMS))
    images = np.lib.format.open_memmap(cache / "images.tmp.npy", "w+", np.uint8, (n, SIDE, SIDE, 3))
    for a in range(0, n, CHUNK):
        b = min(n, a + CHUNK)
        features[a:b] = centers[cluster[a:b]] + rng.normal(0, 0.7, (b - a, DIMS)).astype(np.float32)
        tone = class_colour[given[a:b]][:, None, None, :] + rng.integers(-25, 26, (b - a, SIDE, SIDE, 3))
        images[a:b] = np.clip(tone, 0, 255).astype(np.uint8)
    for i in range(min(n, REAL_FILES)):
        Image.fromarray(np.asarray(images[i])).resize((24, 24)).save(folder / f"img_{i:07d}.png")
    paths = [str(folder / f"img_{i:07d}.png") if i < REAL_FILES else str(folder / "gone" / f"img_{i:07d}.png")
             for i in range(n)]
    labels = [str(v) for v in given.tolist()]
    items = [ImageItem(p, lab) for p, lab in zip(paths, labels)]
    config = {"name": "hog-kmeans", "k": k}
    store.save_project(ProjectData(str(folder), items, features, images, config))
    session = ReviewSession.from_result(str(folder), config, paths, labels, cluster)
    SessionDB.create(store.new_session_path(folder, "run"), session, action="run", text="synthetic run").close()
    del features, images
    for tmp in ("features.tmp.npy", "images.tmp.npy"):
        (cache / tmp).unlink()
    print(f"built a {n:,}-image project ({k} clusters) in {time.perf_counter() - t0:.0f} s under {cache}")
    return folder


class PaintWatch:
    """Times of the paint events of a few widgets (an event filter)."""

    def __init__(self, *widgets) -> None:
        from PySide6.QtCore import QEvent, QObject

        watch = self

        class Filter(QObject):
            def eventFilter(self, obj, event):
                if event.type() == QEvent.Type.Paint:
                    watch.times.setdefault(obj, []).append(time.perf_counter())
                return False

        self.times: dict = {}
        self.filter = Filter()
        for w in widgets:
            w.installEventFilter(self.filter)

    def painted_after(self, widget, t: float) -> bool:
        return any(x > t for x in self.times.get(widget, []))


TRACE_MS = 0.0  # --trace: say where each gap over this many ms went (bench/_gap_trace.py)


def measured(app, ticks_for, action, done, timeout_s: float = 60.0) -> tuple[np.ndarray, str]:
    """Run ``action`` with the tick recorder on; wait for ``done`` and 0.2 s more.

    Returns the gaps (ms) and what the UI thread's CPU time says about them (``TickRecorder.cpu_summary``)."""
    ticks = TickRecorder()
    sampler, events = (StackSampler(), EventLog()) if TRACE_MS else (None, None)
    if sampler:
        sampler.start()
        events.start()
    ticks.start()
    action()
    ok = wait_until(app, done, timeout_s)
    t = time.perf_counter()
    wait_until(app, lambda: time.perf_counter() - t > 0.2, 1)
    gaps = ticks.stop()
    if sampler:
        sampler.stop()
        events.stop()
        if gaps.max() > TRACE_MS:
            print(f"  [{ticks_for}] gaps over {TRACE_MS:.0f} ms:")
        sampler.explain(ticks.ticks, threshold_ms=TRACE_MS, events=events, cpu_times=ticks.cpu)
    if not ok:
        sys.exit(f"timed out after {timeout_s:.0f} s ({ticks_for})")
    return gaps, ticks.cpu_summary()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--cache", help="where the synthetic project is kept (default: /tmp/cr-window-scale-N)")
    parser.add_argument("--trace", type=float, default=0.0, metavar="MS",
                        help="sample the UI thread's stack and say where each gap over MS ms went")
    args = parser.parse_args(argv)
    global TRACE_MS
    TRACE_MS = args.trace
    cache = Path(args.cache or f"/tmp/cr-window-scale-{args.images}-{args.clusters}")
    print(machine_line())
    folder = build_project(cache, args.images, args.clusters)

    from gui.app import make_application
    from gui.main_window import MainWindow
    from gui.settings import SessionStore

    app = make_application()
    MainWindow.freeze_gc_after_install = True  # as gui.app sets it
    window = MainWindow(store=SessionStore(cache / "store"))
    window.resize(1440, 900)
    window.show()
    wait_until(app, lambda: all(j.done for j in window.jobs.worker._jobs), 120)  # the start-up imports
    page = window.clusters
    watch = PaintWatch(page.table.viewport(), page.grid.viewport())
    from pipeline.project.stats_cache import stats_path

    cached = stats_path(window.store.project_dir(folder)).is_file()
    print(f"open a {args.images:,}-image project ({args.clusters} clusters; cluster statistics "
          f"{'from the project cache' if cached else 'computed, no cache yet'}); load average {os.getloadavg()[0]:.1f}")

    t0 = time.perf_counter()
    first: list[float] = []

    def usable() -> bool:
        if window.session is None or page.thumb_model is None or not page.thumb_model.rowCount():
            return False
        if not first and watch.painted_after(page.grid.viewport(), t0) and watch.painted_after(page.table.viewport(), t0):
            shown = window.review.current
            if shown is not None and page.cluster_model.rowCount():
                first.append(time.perf_counter())
        return bool(first)

    gaps_open, cpu = measured(app, "open", lambda: window.projects.open_folder(folder), usable, 300)
    open_s = first[0] - t0
    print(f"  open to first usable paint: {open_s:.2f} s; UI {gap_summary(gaps_open)}; {cpu} "
          f"(load average {os.getloadavg()[0]:.1f})")
    wait_until(app, lambda: not window.jobs.busy(), 60)

    bar = page.table.verticalScrollBar()
    scroll_gaps = []
    for value in np.linspace(bar.maximum() / 30, bar.maximum(), 30).astype(int):
        if value == bar.value():
            continue
        t = time.perf_counter()
        scroll_gaps.append(measured(app, "scroll", lambda v=int(value): bar.setValue(v),
                                    lambda t=t: watch.painted_after(page.table.viewport(), t) or bar.maximum() == 0)[0])
    scroll = np.concatenate(scroll_gaps)
    print(f"  scrolling the cluster table ({page.cluster_model.rowCount():,} rows) in 30 jumps: UI {gap_summary(scroll)}")

    order = window.review.display_order()
    select_gaps = []
    for cid in order[1:: max(1, len(order) // 10)][:10]:
        t = time.perf_counter()
        select_gaps.append(measured(app, "select", lambda c=cid: window.review.select([c]),
                                    lambda t=t: watch.painted_after(page.grid.viewport(), t))[0])
    select = np.concatenate(select_gaps)
    print(f"  selecting 10 clusters one by one: UI {gap_summary(select)}")

    a, b = order[0], order[1]
    flushed: list[float] = []
    window.review.flushed.connect(lambda: flushed.append(time.perf_counter()))
    settled = lambda: bool(flushed) and not page.tree.pending()  # noqa: E731  (the tree redrawn too)
    merge, cpu = measured(app, "merge", lambda: window.review.merge([a, b]), settled)
    print(f"  merging clusters {a} and {b}: UI {gap_summary(merge)}; {cpu}")
    flushed.clear()
    undo, cpu = measured(app, "undo", window.review.undo, settled)
    print(f"  undoing the merge: UI {gap_summary(undo)}; {cpu}")
    print(f"peak memory {peak_rss_mb():.0f} MiB")
    print(f"window_scale: n {args.images}, open_s {open_s:.2f}, open_gap_ms {gaps_open.max():.0f}, "
          f"scroll_gap_ms {scroll.max():.0f}, select_gap_ms {select.max():.0f}, merge_gap_ms {merge.max():.0f}, "
          f"undo_gap_ms {undo.max():.0f}", flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip interpreter teardown of Qt objects: nothing left to save
