"""Review-window parts on their own: stats, thumbnail loading/cache, dialogs, viewer, entry point."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QListView

from gui.dialogs.class_picker import ClassPicker
from pipeline.clustering.summary import compute_cluster_stats
from gui.dialogs.help_dialog import HelpDialog
from pipeline.project.store import ProjectData
from gui.settings import SessionStore
from gui.dialogs.settings_dialog import SettingsDialog, parse_pca
from gui.views.thumbnail_loader import ThumbnailLoader
from gui.models.thumbnail_model import ThumbnailModel
from pipeline.core.items import ImageItem
from pipeline.review import ReviewSession, Taxonomy


def blobs(n_per=50, k=3, dim=4, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.eye(k, dim) * 10
    x = np.concatenate([c + rng.normal(size=(n_per, dim)) for c in centers]).astype(np.float32)
    labels = np.repeat(np.arange(k), n_per)
    return x, labels


def test_cluster_stats_orders_members_and_scores_separation():
    x, labels = blobs()
    x[0] += 6.0  # one outlier in cluster 0
    members = {int(c): np.flatnonzero(labels == c) for c in range(3)}
    st = compute_cluster_stats(x, members)
    assert st.ids == [0, 1, 2]
    for cid, idx in st.members.items():
        assert sorted(idx.tolist()) == members[cid].tolist()
        d = np.linalg.norm(x[idx] - x[members[cid]].mean(0), axis=1)
        assert np.all(np.diff(d) >= -1e-4)  # nearest to the center first
        assert st.medoids[cid] == idx[0]
    assert st.members[0][-1] == 0  # the outlier comes last
    assert all(0.5 < st.silhouette[c] <= 1.0 for c in st.ids)
    assert st.linkage.shape == (2, 4)
    np.testing.assert_allclose(st.centers[1], x[labels == 1].mean(0), atol=1e-4)
    # A bad partition scores lower.
    mixed = {0: np.arange(0, 150, 2), 1: np.arange(1, 150, 2)}
    bad = compute_cluster_stats(x, mixed)
    assert max(bad.silhouette.values()) < min(st.silhouette.values())
    # Arbitrary ids (noise -1, gaps) and mean images.
    st2 = compute_cluster_stats(x, {-1: [0, 1], 7: list(range(2, 150))})
    assert st2.ids == [-1, 7] and np.isnan(st2.distance).sum() == 0
    images = np.zeros((150, 4, 4, 3), np.uint8)
    images[:75] = 200
    mean = st.mean_image(images, 0)
    assert mean.shape == (4, 4, 3) and int(mean[0, 0, 0]) == 200


def test_thumbnail_loader_is_lazy_and_bounded(qtbot):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 255, size=(300, 32, 32, 3), dtype=np.uint8)
    images[5] = (200, 20, 20)  # image 5: left half red, right half blue
    images[5, :, 16:] = (20, 20, 200)
    paths = [f"/nonexistent/{i}.png" for i in range(300)]
    per_thumb = 48 * 48 * 4
    loader = ThumbnailLoader(paths, images, max_bytes=per_thumb * 40)
    assert loader.request(5, 48) is None  # queued, not loaded on the GUI thread
    with qtbot.waitSignal(loader.loaded, timeout=10_000) as sig:
        pass
    assert sig.args == [5, 48]
    pix = loader.cached(5, 48)
    assert pix is not None and pix.width() == 48
    # The pixels come from the decoded array (no file on disk).
    img = pix.toImage()
    left, right = img.pixelColor(6, 24), img.pixelColor(41, 24)
    assert left.red() > 150 and left.blue() < 60, left.getRgb()
    assert right.blue() > 150 and right.red() < 60, right.getRgb()
    for i in range(200):
        loader.request(i, 48)
    qtbot.waitUntil(lambda: loader.wait_idle(100) and len(loader) >= 40, timeout=20_000)
    qtbot.wait(50)
    assert len(loader) <= 40 and loader.cache_bytes <= per_thumb * 40
    loader.shutdown()


def test_a_shut_down_loader_is_destroyed_on_the_gui_thread(qtbot):
    """Its worker threads hold no reference to it: the last one dropped off the GUI thread destroyed the
    QObject and its timers there (a segfault under load, CI of stop 19)."""
    import threading
    import weakref

    images = np.zeros((40, 16, 16, 3), np.uint8)
    where = []
    for _ in range(20):
        loader = ThumbnailLoader([f"{i}.png" for i in range(40)], images)
        for i in range(40):
            loader.request(i, 32)
        qtbot.wait(1)  # the hand-over starts the workers
        weakref.finalize(loader, lambda: where.append(threading.current_thread() is threading.main_thread()))
        loader.shutdown()
        del loader
    qtbot.waitUntil(lambda: len(where) == 20, timeout=5000)
    assert all(where)


def test_thumbnail_model_asks_only_for_visible_rows(qtbot):
    images = np.full((5000, 16, 16, 3), 90, np.uint8)
    loader = ThumbnailLoader([""] * 5000, images)
    requested = []
    original = loader.request
    loader.request = lambda i, s: requested.append(i) or original(i, s)
    model = ThumbnailModel(loader)
    view = QListView()
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setUniformItemSizes(True)
    view.resize(400, 300)
    view.setModel(model)
    qtbot.addWidget(view)
    model.set_indices(np.arange(5000)[::-1])
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: len(requested) > 0)
    assert len(set(requested)) < 200  # a screenful, not 5,000
    assert model.image_index(0) == 4999 and model.row_of(4999) == 0
    loader.shutdown()


def test_settings_dialog_builds_configs(qtbot):
    dlg = SettingsDialog()
    qtbot.addWidget(dlg)
    dlg.preset.setCurrentIndex(dlg.preset.findData("hog-kmeans"))
    cfg = dlg.config()
    assert cfg.name == "hog-kmeans" and cfg.method == "kmeans" and cfg.features[0]["name"] == "hog"
    dlg.auto_k.setChecked(True)
    dlg.k_lo.setValue(5)
    dlg.k_hi.setValue(9)
    cfg = dlg.config()
    assert cfg.k is None and cfg.k_range == [5, 9] and cfg.name == "custom"
    dlg.labeling.setChecked(True)  # labeling mode: k is the class count again, the range is off
    assert not dlg.auto_k.isEnabled() and not dlg.k_lo.isEnabled() and dlg.k.isEnabled()
    dlg.k.setValue(13)
    cfg = dlg.config()
    assert cfg.labeling_mode and cfg.k == 13 and cfg.k_range is None
    dlg.labeling.setChecked(False)
    assert dlg.auto_k.isEnabled() and dlg.config().k_range == [5, 9] and not dlg.config().labeling_mode
    dlg.pca.setText("0.9")
    assert dlg.config().pca == 0.9
    assert parse_pca("none") is None and parse_pca("50") == 50
    for box in dlg.feature_boxes.values():
        box.setChecked(False)
    dlg.accept()  # no features: refused with a message, the dialog stays open
    assert dlg.error.text() and dlg.result() == 0


def test_class_picker_searches_and_shows_icons(qtbot, tmp_path):
    icon = tmp_path / "stop.png"
    from PIL import Image

    Image.new("RGB", (20, 20), (200, 0, 0)).save(icon)
    csv_path = tmp_path / "classes.csv"
    csv_path.write_text("id,name,icon\nstop,Stop sign,stop.png\nyield,Yield,\ncar,Not a sign,\n")
    tax = Taxonomy.load_csv(csv_path)
    picker = ClassPicker(tax)
    qtbot.addWidget(picker)
    picker.show()
    assert picker.list.count() == 4  # 3 classes + "no class"
    QTest.keyClicks(picker.search, "yie")
    assert picker.list.count() == 1 and picker.chosen() == "yield"
    picker.search.clear()
    QTest.keyClicks(picker.search, "st")
    assert picker.chosen() == "stop" and not picker.list.item(0).icon().isNull()
    with qtbot.waitSignal(picker.picked) as sig:
        QTest.keyClick(picker.search, Qt.Key.Key_Return)
    assert sig.args == ["stop"]
    gtsrb = Taxonomy.gtsrb()
    assert len(gtsrb) == 43


def _tiny_project(tmp_path, n=12):
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    paths = []
    for i in range(n):
        p = folder / f"img_{i}.png"
        Image.new("RGB", (24, 20), (i * 20, 80, 160)).save(p)
        paths.append(str(p))
    labels = ["a" if i < n // 2 else "b" for i in range(n)]
    rng = np.random.default_rng(0)
    feats = np.concatenate([rng.normal(0, 1, (n // 2, 3)), rng.normal(5, 1, (n - n // 2, 3))]).astype(np.float32)
    images = np.stack([np.asarray(Image.open(p).convert("RGB").resize((16, 16))) for p in paths])
    data = ProjectData(str(folder.resolve()), [ImageItem(p, l) for p, l in zip(paths, labels)], feats, images,
                       {"name": "hog-kmeans"}, {"criterion": "silhouette", "ks": [2, 3, 4],
                                                "scores": {"silhouette": [0.8, 0.5, 0.4]}, "best_k": 2})
    store = SessionStore(tmp_path / "store")
    store.save_project(data)
    session = ReviewSession.from_result(data.folder, data.config, paths, labels, [0] * (n // 2) + [1] * (n - n // 2))
    session.save(store.session_path(folder))
    return folder, store


def test_restore_viewer_help_and_k_plot(qtbot, tmp_path):
    from gui.main_window import MainWindow

    folder, store = _tiny_project(tmp_path)
    w = MainWindow(store=store)
    qtbot.addWidget(w)
    w.show()
    assert w.projects.restore_project(folder)
    assert w.clusters.cluster_model.rowCount() == 2 and w.clusters.kscores.has_scores()
    assert w.clusters.tabs.isTabEnabled(1) and "k = 2" in w.clusters.kscores.info.text()
    # Sorting by purity and by name through the header.
    w.clusters.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)
    assert w.clusters.cluster_model.rowCount() == 2
    # Space on a selected image opens the full-size viewer with path and metadata.
    w.activateWindow()
    qtbot.waitActive(w)
    w.clusters.grid.setCurrentIndex(w.clusters.thumb_model.index(0))
    assert w.act("view").isEnabled(), (w.review.selected_images,)
    QTest.keyClick(w.clusters.grid, Qt.Key.Key_Space)
    viewer = w.clusters.viewer
    assert viewer is not None and viewer.isVisible()
    first = w.clusters.thumb_model.image_index(0)
    assert viewer.path_label.text() == w.session.paths[first]
    assert viewer._pixmap.width() == 24  # the original file, not the thumbnail
    fields = [viewer.form.itemAt(r, viewer.form.ItemRole.LabelRole).widget().text() for r in range(viewer.form.rowCount())]
    assert any("Given label" in f for f in fields) and any("Cluster" in f for f in fields)
    viewer.step(1)
    assert viewer.image_index == w.clusters.thumb_model.image_index(1)
    viewer.close()
    # The help dialog lists every action's shortcut.
    w.act("help").trigger()
    help_dlg = w.dialog
    assert isinstance(help_dlg, HelpDialog)
    texts = help_dlg.shortcut_texts()
    for expected in ("M", "S", "V", "N", "X", "L", "A", "J", "K", "Ctrl+Z", "Space", "F1"):
        assert any(expected in t.split(", ") for t in texts), expected
    # Thumbnail size slider resizes the grid cells.
    w.thumb_slider.setValue(96)
    assert w.clusters.thumb_model.thumb_size == 96 and w.clusters.grid.gridSize().width() == 104
    # Loading a taxonomy CSV is remembered for the folder.
    tax = tmp_path / "tax.csv"
    tax.write_text("a,Apple\nb,Banana\n")
    assert w.load_taxonomy(tax)
    assert store.taxonomy_path(folder) == str(tax.resolve())
    bad = tmp_path / "bad.csv"
    bad.write_text("only-one-column\n")
    assert not w.load_taxonomy(bad) and w.error_banner.isVisible()


def test_app_entry_opens_a_folder(qtbot, tmp_path):
    from gui.app import build_window, parse_args

    folder, store = _tiny_project(tmp_path)
    args = parse_args([str(folder), "--store", str(store.root)])
    w = build_window(args)  # the stored project is read on the model thread, then installed
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.session is not None, timeout=20_000)
    assert len(w.session) == 12
    args = parse_args(["--demo", "--preset", "hog-kmeans", "--k", "5"])
    assert args.demo and args.k == 5


def test_ward_split_drop_and_recent_folders(qtbot, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    from gui.main_window import MainWindow

    folder, store = _tiny_project(tmp_path)
    w = MainWindow(store=store)
    qtbot.addWidget(w)
    w.show()
    # Dropping the folder on the window opens it.
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(w.session_installed, timeout=10_000):
        w.dropEvent(drop)
    assert len(w.session) == 12
    # Split the cluster by cutting its sub-dendrogram (ward on the members' features).
    cid = w.session.cluster_ids()[0]
    n_before = len(w.session.cluster_ids())
    with qtbot.waitSignal(w.job_finished, timeout=20_000):
        w.review.split(cid, 2, "ward")
    qtbot.waitUntil(lambda: len(w.session.cluster_ids()) == n_before + 1)
    assert w.review.undo_stack.count() == 1
    # The folder is listed under File > Open recent and on the welcome page.
    texts = [a.text() for a in w.recent_menu.actions()]
    assert str(folder.resolve()) in texts
    assert w.welcome.recent.count() >= 1
