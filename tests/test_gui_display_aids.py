"""Display aids on real widgets: the rejected overlay keeps the image visible, auto-contrast
(thumbnails, centers, viewer; remembered; never the file), given-label badges, the
"labels ≠ cluster" grid filter, and the viewer's path beside the picture."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

from gui.main_window import MainWindow
from gui.models.thumbnail_model import BADGE_ROLE, FLAGS_ROLE, REJECTED, ThumbnailDelegate
from gui.settings import SessionStore
from gui.views.thumbnail_loader import stretch_contrast

from gui_demo_project import DARK, N_PER, WRONG, make_project, open_project_window


@pytest.fixture
def store(tmp_path):
    return SessionStore(tmp_path / "store")


@pytest.fixture
def project(tmp_path, store):
    return make_project(tmp_path, store)


def open_window(qtbot, store, folder) -> MainWindow:
    return open_project_window(qtbot, store, folder)


def grid_pixmap(w, row: int, qtbot) -> QPixmap:
    """The thumbnail the grid would draw for ``row`` (waits for the loader thread)."""
    m = w.clusters.thumb_model
    qtbot.waitUntil(lambda: m.loader.cached(m.image_index(row), m.thumb_size) is not None, timeout=10_000)
    return m.loader.cached(m.image_index(row), m.thumb_size)


def paint_cell(index, size: int, selected: bool = False) -> QImage:
    """Paint one grid cell with the real delegate into an image."""
    img = QImage(size, size, QImage.Format.Format_RGB32)
    img.fill(QColor(31, 32, 35))
    opt = QStyleOptionViewItem()
    opt.rect = QRect(0, 0, size, size)
    if selected:
        opt.state |= QStyle.StateFlag.State_Selected
    p = QPainter(img)
    ThumbnailDelegate().paint(p, opt, index)
    p.end()
    return img


def test_rejected_overlay_leaves_most_of_the_image_visible(qtbot, store, project):
    folder, _ = project
    w = open_window(qtbot, store, folder)
    w.clusters.set_thumb_size(96)
    m = w.clusters.thumb_model
    pix = grid_pixmap(w, 0, qtbot).toImage().convertToFormat(QImage.Format.Format_RGB32)
    img = m.image_index(0)
    w.review.reject([img])
    qtbot.waitUntil(lambda: REJECTED in (m.index(0).data(FLAGS_ROLE) or ()))
    for selected in (False, True):
        cell = paint_cell(m.index(0), 96 + 8, selected)
        x0 = 2 + (100 - pix.width()) // 2
        y0 = 2 + (100 - pix.height()) // 2
        same = total = 0
        for y in range(pix.height()):
            for x in range(pix.width()):
                total += 1
                same += cell.pixelColor(x0 + x, y0 + y).rgb() == pix.pixelColor(x, y).rgb()
        # The cross sits in a corner and the tint covers only a band: ≥ 60 % of the pixels untouched.
        assert same / total > 0.6, (selected, same / total)
        # ... and the image is marked: red pixels at its border and in its top-right corner.
        corner = cell.pixelColor(x0 + pix.width() - 3, y0 + 2)
        assert corner.red() > 180 and corner.green() < 90


def test_auto_contrast_brightens_a_dark_thumbnail_and_not_the_file(qtbot, store, project):
    folder, _ = project
    dark_file = sorted(folder.glob("*.png"))[DARK]
    digest = hashlib.sha256(dark_file.read_bytes()).hexdigest()
    w = open_window(qtbot, store, folder)
    w.review.select([1])
    m = w.clusters.thumb_model
    row = m.row_of(DARK)
    before = np.asarray(_pixels(grid_pixmap(w, row, qtbot)))
    w.act("auto_contrast").trigger()
    assert w.act("auto_contrast").isChecked() and m.loader.auto_contrast
    after = np.asarray(_pixels(grid_pixmap(w, row, qtbot)))
    assert after.mean() > before.mean() + 40 and after.max() > 200 >= before.max() + 150
    assert hashlib.sha256(dark_file.read_bytes()).hexdigest() == digest
    # The viewer stretches too; the setting is remembered for the next window.
    w.clusters.grid.setCurrentIndex(m.index(row))
    viewer = w.clusters.view_image_row(row)
    assert viewer.auto_contrast and np.asarray(_pixels(viewer._pixmap)).max() > 200
    viewer.close()
    assert store.display_flag("auto_contrast")
    w2 = open_window(qtbot, store, folder)
    assert w2.act("auto_contrast").isChecked() and w2.clusters.loader.auto_contrast
    w.act("auto_contrast").trigger()
    assert not store.display_flag("auto_contrast") and not w.clusters.loader.auto_contrast


def _pixels(pix: QPixmap) -> np.ndarray:
    img = pix.toImage().convertToFormat(QImage.Format.Format_RGB888)
    ptr = img.constBits()
    arr = np.frombuffer(ptr, np.uint8, img.sizeInBytes()).reshape(img.height(), img.bytesPerLine())
    return arr[:, : 3 * img.width()].copy()


def test_stretch_contrast_maps_percentiles_and_keeps_flat_images():
    rng = np.random.default_rng(0)
    dark = rng.integers(5, 25, (16, 16, 3)).astype(np.uint8)
    out = stretch_contrast(dark)
    assert out.dtype == np.uint8 and out.shape == dark.shape
    assert out.min() == 0 and out.max() == 255 and np.corrcoef(dark.ravel(), out.ravel())[0, 1] > 0.99
    flat = np.full((4, 4, 3), 77, np.uint8)
    assert np.array_equal(stretch_contrast(flat), flat)
    assert dark.max() < 25  # the input is not changed in place


def test_given_label_badges_and_the_disagreement_filter(qtbot, store, project):
    folder, _ = project
    w = open_window(qtbot, store, folder)
    s = w.session
    w.review.select([0])  # the "14" cluster: images 1 and 4 were given other labels
    m = w.clusters.thumb_model
    badges = {m.image_index(r): m.index(r).data(BADGE_ROLE) for r in range(m.rowCount())}
    assert badges[0] == ("14", False)
    assert {i: b for i, b in badges.items() if b[1]} == {i: (lab, True) for i, lab in WRONG.items()}
    # The badge is drawn: its orange box appears at the bottom left of a disagreeing thumbnail.
    cell = paint_cell(m.index(m.row_of(1)), m.thumb_size + 8)
    bottom_left = cell.pixelColor(5, m.thumb_size + 8 - 5)
    assert bottom_left.red() > 180 and 80 < bottom_left.green() < 160 and bottom_left.blue() < 60
    # The filter (action D) keeps only the disagreeing members.
    assert w.act("disagree_only").isEnabled()
    w.act("disagree_only").trigger()
    assert w.clusters.disagree_box.isChecked()
    assert sorted(m.indices().tolist()) == sorted(WRONG)
    assert "2 of 6 disagree" in w.clusters.grid_hint.text()
    # Naming the cluster as "17" compares with the name: now the five "14"s and the "13" disagree.
    w.review.name([0], "17")
    qtbot.waitUntil(lambda: s.cluster_names.get(0) == "17")
    qtbot.waitUntil(lambda: m.rowCount() == N_PER - 1)
    assert 1 not in m.indices().tolist()
    # Unticking the box (or the action) shows every member again, and both stay in step.
    w.clusters.disagree_box.setChecked(False)
    assert not w.act("disagree_only").isChecked() and m.rowCount() == N_PER


def test_viewer_shows_the_path_beside_the_picture(qtbot, store, project):
    folder, _ = project
    w = open_window(qtbot, store, folder)
    viewer = w.clusters.view_image_row(0)
    qtbot.waitExposed(viewer)
    path_pos = viewer.path_label.mapTo(viewer, viewer.path_label.rect().topLeft())
    pic_pos = viewer.picture.mapTo(viewer, viewer.picture.rect().topLeft())
    # Top-aligned with the picture, to its right: no gap below a tall picture area.
    assert abs(path_pos.y() - pic_pos.y()) < 40 and path_pos.x() > pic_pos.x() + viewer.picture.width() - 5
    assert viewer.path_label.text() == w.session.paths[w.clusters.thumb_model.image_index(0)]
    viewer.close()
