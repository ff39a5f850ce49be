"""A small stored review project of demo signs for the window tests (no pipeline run).

Four classes of six rendered signs, written as PNG files; the clusters follow the true
classes, and two images carry a wrong given label (so a cluster's labels disagree).
The last image of class "17" is made nearly black (for auto-contrast).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.core.items import ImageItem
from pipeline.io.demo import render_signs
from pipeline.project.store import ProjectData
from pipeline.review import ReviewSession

CLASSES = ["14", "17", "13", "1"]
N_PER = 6
SIZE = 32
#: (image index, wrong given label): two disagreeing labels in the "14" cluster.
WRONG = {1: "17", 4: "13"}
DARK = 2 * N_PER - 1  # last image of class "17"


def make_project(tmp_path: Path, store) -> tuple[Path, list[str]]:
    """Write the images and the stored project into ``store``; returns (folder, true labels)."""
    from PIL import Image

    images, truth = render_signs(N_PER, seed=3, size=SIZE, classes=CLASSES)
    images[DARK] = (images[DARK].astype(np.float32) * 0.08).astype(np.uint8)
    folder = tmp_path / "signs"
    folder.mkdir()
    paths = []
    for i, img in enumerate(images):
        p = folder / f"img_{i:03d}.png"
        Image.fromarray(img).save(p)
        paths.append(str(p))
    given = [WRONG.get(i, t) for i, t in enumerate(truth)]
    rng = np.random.default_rng(0)
    onehot = np.eye(len(CLASSES), 6)[[CLASSES.index(t) for t in truth]] * 4
    feats = (onehot + rng.normal(0, 0.3, onehot.shape)).astype(np.float32)
    data = ProjectData(str(folder.resolve()), [ImageItem(p, g) for p, g in zip(paths, given)], feats, images,
                       {"name": "hog-kmeans", "seed": 0}, timings={"total": 1.0})
    store.save_project(data)
    assignments = [CLASSES.index(t) for t in truth]
    session = ReviewSession.from_result(data.folder, data.config, paths, given, assignments)
    session.save(store.session_path(folder))
    return folder, truth


def shown_window(qtbot, store, *, activate: bool = False):
    """A shown (and exposed) :class:`~gui.main_window.MainWindow` on ``store``; ``activate`` gives it the focus."""
    from gui.main_window import MainWindow

    w = MainWindow(store=store)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    if activate:
        w.activateWindow()
    return w


def open_project_window(qtbot, store, folder):
    """:func:`shown_window` with the project of ``folder`` restored."""
    w = shown_window(qtbot, store)
    assert w.projects.restore_project(folder)
    return w
