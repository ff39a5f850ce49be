"""The review window: open a folder, run the pipeline, review clusters, export.

Layout: a cluster table and the dendrogram / k-score plot on the left; on the right
the selected cluster's center (mean and medoid images) above a lazy thumbnail grid of
its members ordered by distance to the center. Pipeline runs and re-clustering happen
on one model thread (:class:`ModelWorker`), so the window stays responsive; every
review action is an :class:`Edit` pushed on a ``QUndoStack`` and autosaved.
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QPixmap, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QStackedWidget,
    QStyle,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pipeline.config import PipelineConfig, get_preset
from pipeline.core.progress import Progress, report
from pipeline.review import (
    Autosaver,
    Edit,
    ExportError,
    ReviewError,
    ReviewSession,
    Taxonomy,
    TaxonomyError,
    export_csv,
    export_tree,
)

from gui.dialogs.class_picker import ClassPicker
from gui.models.cluster_list_model import COL_NAME, COL_SIZE, CLUSTER_ID_ROLE, ClusterListModel, ClusterSortProxy
from pipeline.clustering.summary import ClusterStats, compute_cluster_stats
from gui.views.dendrogram_view import DendrogramView, KScorePlot
from gui.dialogs.help_dialog import HelpDialog
from gui.views.image_viewer import ImageViewer
from pipeline.project.run_and_store import load_stored, run_and_store, run_and_store_in_process
from gui.jobs.worker import Job, ModelWorker
from gui.dialogs.review_dialogs import MAX_WARD_SPLIT, MoveDialog, SplitDialog
from pipeline.project.store import ProjectData
from gui.settings import SessionStore
from gui.dialogs.settings_dialog import SettingsDialog
from gui.views.suspects_view import SuspectsView
from gui.jobs.suspects_job import SuspectsResult, can_find_suspects, suspects_job
from gui.views.thumbnail_loader import ThumbnailLoader, array_to_qimage
from gui.models.thumbnail_model import CHANGED, REJECTED, REVIEWED, ThumbnailDelegate, ThumbnailModel
from gui.undo import BatchCommand, EditCommand

CENTER_SIZE = 112
DEFAULT_THUMB = 64


def _format_seconds(s: float) -> str:
    if not math.isfinite(s):
        return "–"
    s = int(round(s))
    return f"{s // 60}:{s % 60:02d}" if s >= 60 else f"{s}s"


class ProgressPanel(QWidget):
    """Stage label, progress bar, elapsed / remaining time and Cancel, for the status bar."""

    cancel_clicked = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.stage = QLabel()
        self.stage.setMinimumWidth(220)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(220)
        self.times = QLabel()
        self.times.setMinimumWidth(170)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancel_clicked)
        for w in (self.stage, self.bar, self.times, self.cancel):
            lay.addWidget(w)
        self._t0 = 0.0
        self._stage_name: Optional[str] = None
        self._stage_t0 = 0.0
        self._fraction = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self._tick)
        self.hide()

    def start(self, title: str) -> None:
        self._t0 = time.monotonic()
        self._stage_name, self._fraction = None, 0.0
        self.stage.setText(title)
        self.bar.setValue(0)
        self.cancel.setEnabled(True)
        self.show()
        self.timer.start()
        self._tick()

    def update_progress(self, p: Progress) -> None:
        now = time.monotonic()
        if p.stage != self._stage_name:
            self._stage_name, self._stage_t0 = p.stage, now
        self._fraction = p.fraction
        text = p.stage + (f" — {p.message}" if p.message and p.message != p.stage else "")
        self.stage.setText(text[:80])
        if p.total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * p.fraction))
        else:
            self.bar.setRange(0, 0)
        self._tick()

    def _tick(self) -> None:
        now = time.monotonic()
        elapsed = now - self._t0
        remaining = float("nan")
        if self._stage_name is not None and 0.02 < self._fraction < 1.0:
            st = now - self._stage_t0
            remaining = st * (1.0 - self._fraction) / self._fraction
        rem = f" · {_format_seconds(remaining)} left in stage" if math.isfinite(remaining) else ""
        self.times.setText(f"elapsed {_format_seconds(elapsed)}{rem}")

    def stop(self) -> None:
        self.timer.stop()
        self.hide()


class ErrorBanner(QFrame):
    """A dismissible red banner showing the last error, with the traceback on demand."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setStyleSheet(
            "#errorBanner { background: #fdecea; border: 1px solid #f5c2c0; border-radius: 4px; }"
            "#errorBanner QLabel { color: #8a1c1c; }"
        )
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        row = QHBoxLayout()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        row.addWidget(self.message, 1)
        row.addWidget(self.details_button)
        row.addWidget(close)
        lay.addLayout(row)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(160)
        self.details.hide()
        lay.addWidget(self.details)
        self.details_button.toggled.connect(self.details.setVisible)
        self.hide()

    def show_error(self, message: str, details: str = "") -> None:
        self.message.setText(message)
        self.details.setPlainText(details)
        self.details_button.setVisible(bool(details))
        self.details_button.setChecked(False)
        self.show()


class CenterView(QWidget):
    """Mean image and medoid side by side, with the cluster's figures."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(14)
        self.mean = self._picture("mean image")
        self.medoid = self._picture("medoid")
        lay.addWidget(self.mean[0])
        lay.addWidget(self.medoid[0])
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 15pt; font-weight: 600;")
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        text = QVBoxLayout()
        text.addWidget(self.title)
        text.addWidget(self.info, 1)
        lay.addLayout(text, 1)

    def _picture(self, caption: str):
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        pic = QLabel()
        pic.setFixedSize(CENTER_SIZE, CENTER_SIZE)
        pic.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pic.setStyleSheet("background: #2b2d31; border-radius: 4px;")
        cap = QLabel(caption)
        cap.setAlignment(Qt.AlignmentFlag.AlignCenter)
        cap.setStyleSheet("color: #777; font-size: 9pt;")
        v.addWidget(pic)
        v.addWidget(cap)
        return box, pic

    def set_images(self, mean: Optional[np.ndarray], medoid: Optional[QPixmap]) -> None:
        for (box, pic), content in ((self.mean, mean), (self.medoid, medoid)):
            if content is None:
                pic.clear()
                continue
            pix = QPixmap.fromImage(array_to_qimage(content)) if isinstance(content, np.ndarray) else content
            pic.setPixmap(pix.scaled(CENTER_SIZE - 4, CENTER_SIZE - 4, Qt.AspectRatioMode.KeepAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation))


class WelcomePage(QWidget):
    """First page: open a folder or session, recent folders, drag-and-drop hint."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QWidget()
        box.setMaximumWidth(560)
        lay = QVBoxLayout(box)
        title = QLabel("Cluster Review")
        title.setStyleSheet("font-size: 24pt; font-weight: 600;")
        sub = QLabel("Open a folder of images to cluster it, or drop a folder or a saved session here.")
        sub.setWordWrap(True)
        sub.setStyleSheet("color: #666;")
        lay.addWidget(title)
        lay.addWidget(sub)
        buttons = QHBoxLayout()
        for action in (window.act_open_folder, window.act_open_session, window.act_demo):
            b = QPushButton(action.text().replace("&", "").rstrip("."))
            b.setMinimumHeight(34)
            b.clicked.connect(action.trigger)
            buttons.addWidget(b)
        lay.addLayout(buttons)
        lay.addSpacing(12)
        lay.addWidget(QLabel("<b>Recent folders</b>"))
        self.recent = QListWidget()
        self.recent.setMaximumHeight(220)
        self.recent.itemActivated.connect(
            lambda item: window.open_folder(item.text()) if item.flags() & Qt.ItemFlag.ItemIsEnabled else None)
        lay.addWidget(self.recent)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def set_recent(self, folders: Sequence[str]) -> None:
        self.recent.clear()
        self.recent.addItems(list(folders))
        if not folders:
            placeholder = "No recent folders yet"
            self.recent.addItem(placeholder)
            self.recent.item(0).setFlags(Qt.ItemFlag.NoItemFlags)


class MainWindow(QMainWindow):
    """The review window; see the module docstring."""

    session_installed = Signal()
    refreshed = Signal()
    job_finished = Signal(str)  # job name
    job_failed = Signal(str, str)  # job name, message

    def __init__(self, store: Optional[SessionStore] = None, taxonomy: Optional[Taxonomy] = None,
                 demo_config: Optional[PipelineConfig] = None) -> None:
        super().__init__()
        self.setWindowTitle("Cluster Review")
        self.resize(1440, 900)
        self.setAcceptDrops(True)
        self.store = store or SessionStore()
        self._default_taxonomy = taxonomy is None
        self.taxonomy = taxonomy or Taxonomy.gtsrb()
        self.demo_config = demo_config
        self.worker = ModelWorker(self)
        self.worker.warm_up()
        self.undo_stack = QUndoStack(self)
        self.session: Optional[ReviewSession] = None
        self.project: Optional[ProjectData] = None
        self.session_path: Optional[Path] = None
        self.stats: Optional[ClusterStats] = None
        self.autosaver: Optional[Autosaver] = None
        self.loader: Optional[ThumbnailLoader] = None
        self.thumb_model: Optional[ThumbnailModel] = None
        self.current_cid: Optional[int] = None
        self.active_job: Optional[Job] = None
        self.settings_dialog: Optional[SettingsDialog] = None
        self.dialog: Optional[QWidget] = None  # the review dialog open right now (for tests)
        self.viewer: Optional[ImageViewer] = None
        self.suspects_view: Optional[SuspectsView] = None  # the Suspects tab's content once a search ran
        self._has_labels = False  # enough given labels to search for mislabeled images
        self.last_error: Optional[str] = None
        self._pending_clusters: set[int] = set()
        self._pending_all = False
        self._want_selected: Optional[list[int]] = None
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self._refresh)
        self.thumb_size = DEFAULT_THUMB
        #: Run the pipeline in a child process (keeps GIL-heavy stages out of the UI's
        #: process); False runs it on the model thread itself.
        self.run_in_process = True

        self._build_actions()
        self._build_ui()
        self._build_menus()
        self._update_actions()
        self._update_recent()

    # ================================================================== UI construction
    def _action(self, text: str, slot: Callable, shortcuts=(), tip: str = "", icon=None) -> QAction:
        act = QAction(text, self)
        if shortcuts:
            act.setShortcuts([QKeySequence(s) if isinstance(s, str) else QKeySequence(s) for s in shortcuts])
        if tip:
            act.setToolTip(f"{tip} ({', '.join(QKeySequence(s).toString() for s in shortcuts)})" if shortcuts else tip)
            act.setStatusTip(tip)
        if icon is not None:
            act.setIcon(self.style().standardIcon(icon))
        act.triggered.connect(lambda checked=False: slot())
        self.addAction(act)
        return act

    def _build_actions(self) -> None:
        SP = QStyle.StandardPixmap
        A = self._action
        self.act_open_folder = A("&Open folder…", self.choose_folder, ["Ctrl+O"], "Open a folder of images", SP.SP_DirOpenIcon)
        self.act_open_session = A("Open &session…", self.choose_session, ["Ctrl+Shift+O"],
                                  "Open a saved review session", SP.SP_FileDialogStart)
        self.act_demo = A("Open the &demo set", self.open_demo, [], "Cluster the built-in synthetic traffic signs")
        self.act_run = A("&Run pipeline…", self.choose_and_run, ["Ctrl+R"],
                         "Run the pipeline on the open folder with new settings", SP.SP_MediaPlay)
        self.act_cancel = A("&Cancel run", self.cancel_job, ["Ctrl+."], "Cancel the running job", SP.SP_BrowserStop)
        self.act_save_as = A("Save session &as…", self.save_session_as, ["Ctrl+Shift+S"],
                             "Write the review session to a file of your choice", SP.SP_DialogSaveButton)
        self.act_taxonomy = A("Load &taxonomy CSV…", self.choose_taxonomy, [], "Use your own class list (id,name[,icon])")
        self.act_export_csv = A("&Export CSV…", self.choose_export_csv, ["Ctrl+E"],
                                "One row per image with its cluster and class")
        self.act_export_copy = A("Export folder tree (&copies)…", lambda: self.choose_export_tree("copy"),
                                 ["Ctrl+Shift+E"], "Copy images into one folder per class")
        self.act_export_link = A("Export folder tree (&links)…", lambda: self.choose_export_tree("link"), [],
                                 "Link images into one folder per class")
        self.act_quit = A("&Quit", self.close, ["Ctrl+Q"], "Close the window (the session is already saved)")

        # Fixed texts (the stack's own actions rename themselves after every command, which
        # makes the toolbar jump); the step to be undone/redone is in the tooltip.
        self.act_undo = A("&Undo", self.undo_stack.undo, ["Ctrl+Z"], "Undo the last edit", SP.SP_ArrowBack)
        self.act_redo = A("&Redo", self.undo_stack.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], "Redo the edit",
                          SP.SP_ArrowForward)
        self.undo_stack.canUndoChanged.connect(self.act_undo.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.act_redo.setEnabled)
        self.undo_stack.undoTextChanged.connect(
            lambda t: self.act_undo.setToolTip(f"Undo: {t} (Ctrl+Z)" if t else "Nothing to undo"))
        self.undo_stack.redoTextChanged.connect(
            lambda t: self.act_redo.setToolTip(f"Redo: {t} (Ctrl+Shift+Z)" if t else "Nothing to redo"))
        self.act_undo.setEnabled(False)
        self.act_redo.setEnabled(False)

        self.act_merge = A("&Merge clusters", self.merge_selected, ["M"], "Merge the selected clusters")
        self.act_split = A("&Split cluster…", self.split_current, ["S"], "Split the cluster into n parts")
        self.act_move = A("Mo&ve images to…", self.move_selected, ["V"], "Move the selected images to another cluster")
        self.act_move_new = A("Move images to a &new cluster", lambda: self.move_selected_to(None), ["N"],
                              "Move the selected images to a new cluster")
        self.act_reject = A("&Reject images", self.reject_selected, ["X", "Delete"],
                            "Mark the selected images as 'not a sign / reject' (again: undo the mark)")
        self.act_name = A("&Name cluster…", self.name_selected, ["L"], "Give the selected clusters a class")
        self.act_label_images = A("&Label images…", self.label_selected_images, ["Shift+L"],
                                  "Give the selected images a class of their own")
        self.act_accept = A("&Accept cluster", self.accept_selected, ["A"],
                            "Mark the selected clusters as reviewed and go to the next one")
        self.act_next = A("Ne&xt cluster", lambda: self.step_cluster(1), ["J", "Ctrl+Down"], "Select the next cluster")
        self.act_prev = A("&Previous cluster", lambda: self.step_cluster(-1), ["K", "Ctrl+Up"],
                          "Select the previous cluster")
        self.act_select_all = A("Select all &images", self.select_all_images, ["Ctrl+A"],
                                "Select every image of the cluster")
        self.act_view = A("&View image", self.view_current_image, ["Space"], "Show the image full size")
        self.act_bigger = A("&Bigger thumbnails", lambda: self.thumb_slider.setValue(self.thumb_slider.value() + 16),
                            ["Ctrl+="], "Larger thumbnails")
        self.act_smaller = A("S&maller thumbnails", lambda: self.thumb_slider.setValue(self.thumb_slider.value() - 16),
                             ["Ctrl+-"], "Smaller thumbnails")
        self.act_suspects = A("Find &mislabeled images…", self.find_suspects, ["Ctrl+Shift+M"],
                              "Rank the labelled images by how likely their given label is wrong")
        self.act_help = A("&Keyboard shortcuts", self.show_help, ["F1"], "List every shortcut", SP.SP_DialogHelpButton)
        for act in (self.act_merge, self.act_split, self.act_move, self.act_move_new, self.act_reject, self.act_name,
                    self.act_label_images, self.act_accept, self.act_next, self.act_prev, self.act_view,
                    self.act_select_all):
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

    def _build_ui(self) -> None:
        self.stack = QStackedWidget()
        self.welcome = WelcomePage(self)
        self.stack.addWidget(self.welcome)

        # Left: cluster table over dendrogram / k-score tabs.
        self.cluster_model = ClusterListModel(self.taxonomy, thumb_of=self._cluster_thumb)
        self.cluster_proxy = ClusterSortProxy(self)
        self.cluster_proxy.setSourceModel(self.cluster_model)
        self.cluster_table = QTableView()
        self.cluster_table.setModel(self.cluster_proxy)
        self.cluster_table.setSortingEnabled(True)
        self.cluster_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.cluster_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.cluster_table.setIconSize(QSize(32, 32))
        self.cluster_table.verticalHeader().setVisible(False)
        self.cluster_table.verticalHeader().setDefaultSectionSize(38)
        self.cluster_table.setAlternatingRowColors(True)
        self.cluster_table.setShowGrid(False)
        self.cluster_table.setWordWrap(False)
        self.cluster_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.cluster_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        self.cluster_table.sortByColumn(COL_SIZE, Qt.SortOrder.DescendingOrder)
        self.cluster_table.selectionModel().selectionChanged.connect(self._on_cluster_selection)
        self.cluster_table.doubleClicked.connect(lambda *_: self.name_selected())

        self.dendrogram = DendrogramView()
        self.dendrogram.clusters_clicked.connect(self.select_clusters)
        self.dendrogram.cut_requested.connect(self.apply_cut)
        self.kscores = KScorePlot()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.dendrogram, "Dendrogram")
        self.tabs.addTab(self.kscores, "k selection")
        self.left_split = QSplitter(Qt.Orientation.Vertical)
        self.left_split.addWidget(self.cluster_table)
        self.left_split.addWidget(self.tabs)
        self.left_split.setStretchFactor(0, 3)
        self.left_split.setStretchFactor(1, 2)
        self.left_split.setSizes([500, 330])

        # Right: center view over the member grid.
        self.center_view = CenterView()
        self.grid = QListView()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setUniformItemSizes(True)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setSpacing(3)
        self.grid.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.grid.verticalScrollBar().setSingleStep(24)
        self.grid.setItemDelegate(ThumbnailDelegate(self.grid))
        self.grid.setStyleSheet("QListView { background: #1f2023; }")
        self.grid.doubleClicked.connect(lambda idx: self.view_image_row(idx.row()))
        self.grid.installEventFilter(self)  # Space opens the viewer (the view would toggle selection)
        self.grid_hint = QLabel()
        self.grid_hint.setStyleSheet("color: #777; padding: 2px 8px;")
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.setSpacing(0)
        rl.addWidget(self.center_view)
        rl.addWidget(self.grid, 1)
        rl.addWidget(self.grid_hint)

        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.main_split.addWidget(self.left_split)
        self.main_split.addWidget(right)
        self.main_split.setStretchFactor(0, 0)
        self.main_split.setStretchFactor(1, 1)
        self.main_split.setSizes([470, 970])
        # Tabs over the review area: clusters, and the suspects of a mislabel search.
        self.review_tabs = QTabWidget()
        self.review_tabs.setDocumentMode(True)
        self.review_tabs.addTab(self.main_split, "Clusters")
        self.suspects_page = QStackedWidget()
        intro = QWidget()
        il = QVBoxLayout(intro)
        il.addStretch(1)
        text = QLabel("<h3>Find mislabeled images</h3>Ranks the images that came with a label by how likely "
                      "that label is wrong (nearest neighbours, clusters and a cross-validated classifier "
                      "on the pipeline's features), then lets you accept the suggested class, keep the "
                      "label, choose another class or reject each image with one key.<br><br>"
                      "Needs labelled images (class folders or a path,label CSV).")
        text.setWordWrap(True)
        text.setMaximumWidth(560)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        il.addWidget(text, 0, Qt.AlignmentFlag.AlignHCenter)
        find = QToolButton()
        find.setDefaultAction(self.act_suspects)
        find.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        find.setMinimumHeight(32)
        il.addWidget(find, 0, Qt.AlignmentFlag.AlignHCenter)
        il.addStretch(2)
        self.suspects_page.addWidget(intro)
        self.review_tabs.addTab(self.suspects_page, "Suspects")
        self.review_tabs.currentChanged.connect(self._on_review_tab)
        self.stack.addWidget(self.review_tabs)

        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(6, 6, 6, 0)
        self.error_banner = ErrorBanner()
        cl.addWidget(self.error_banner)
        cl.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        # Toolbar.
        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.setIconSize(QSize(18, 18))
        for act in (self.act_open_folder, self.act_open_session, self.act_run):
            tb.addAction(act)
        tb.addSeparator()
        for act in (self.act_undo, self.act_redo):
            tb.addAction(act)
        tb.addSeparator()
        for act in (self.act_merge, self.act_split, self.act_move, self.act_reject, self.act_name, self.act_accept):
            tb.addAction(act)
        tb.addSeparator()
        tb.addAction(self.act_export_csv)
        spacer = QWidget()
        spacer.setSizePolicy(spacer.sizePolicy().horizontalPolicy().Expanding, spacer.sizePolicy().verticalPolicy())
        tb.addWidget(spacer)
        tb.addWidget(QLabel("Thumbnails "))
        self.thumb_slider = QSlider(Qt.Orientation.Horizontal)
        self.thumb_slider.setRange(32, 192)
        self.thumb_slider.setSingleStep(8)
        self.thumb_slider.setPageStep(32)
        self.thumb_slider.setValue(self.thumb_size)
        self.thumb_slider.setFixedWidth(140)
        self.thumb_slider.setToolTip("Thumbnail size (Ctrl+= / Ctrl+-)")
        self.thumb_slider.valueChanged.connect(self.set_thumb_size)
        tb.addWidget(self.thumb_slider)

        # Status bar.
        self.progress_panel = ProgressPanel()
        self.progress_panel.cancel_clicked.connect(self.cancel_job)
        self.counts_label = QLabel("No folder open")
        self.statusBar().addPermanentWidget(self.progress_panel)
        self.statusBar().addPermanentWidget(self.counts_label)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        for act in (self.act_open_folder, self.act_open_session, self.act_demo):
            m.addAction(act)
        self.recent_menu = m.addMenu("Open &recent")
        m.addSeparator()
        m.addAction(self.act_run)
        m.addAction(self.act_cancel)
        m.addSeparator()
        m.addAction(self.act_save_as)
        m.addAction(self.act_taxonomy)
        m.addSeparator()
        for act in (self.act_export_csv, self.act_export_copy, self.act_export_link):
            m.addAction(act)
        m.addSeparator()
        m.addAction(self.act_quit)
        e = mb.addMenu("&Edit")
        e.addAction(self.act_undo)
        e.addAction(self.act_redo)
        e.addSeparator()
        e.addAction(self.act_select_all)
        r = mb.addMenu("&Review")
        for act in (self.act_merge, self.act_split, self.act_move, self.act_move_new, self.act_reject,
                    self.act_name, self.act_label_images, self.act_accept):
            r.addAction(act)
        r.addSeparator()
        r.addAction(self.act_next)
        r.addAction(self.act_prev)
        r.addSeparator()
        r.addAction(self.act_suspects)
        v = mb.addMenu("&View")
        for act in (self.act_view, self.act_bigger, self.act_smaller):
            v.addAction(act)
        h = mb.addMenu("&Help")
        h.addAction(self.act_help)

    def all_actions(self) -> list[QAction]:
        return [
            self.act_open_folder, self.act_open_session, self.act_run, self.act_cancel, self.act_save_as,
            self.act_export_csv, self.act_export_copy, self.act_quit, self.act_undo, self.act_redo,
            self.act_merge, self.act_split, self.act_move, self.act_move_new, self.act_reject, self.act_name,
            self.act_label_images, self.act_accept, self.act_next, self.act_prev, self.act_select_all,
            self.act_view, self.act_bigger, self.act_smaller, self.act_suspects, self.act_help,
        ]

    def _update_recent(self) -> None:
        recent = self.store.recent_folders()
        self.recent_menu.clear()
        for folder in recent:
            act = self.recent_menu.addAction(folder)
            act.triggered.connect(lambda checked=False, f=folder: self.open_folder(f))
        self.recent_menu.setEnabled(bool(recent))
        self.welcome.set_recent(recent)

    def _update_actions(self) -> None:
        has = self.session is not None
        busy = self.worker.busy()
        # cluster actions act on the Clusters tab only: on the Suspects tab the same
        # keys (A, X, Delete ...) belong to the suspects view
        on_clusters = self.review_tabs.currentWidget() is not self.suspects_page
        sel_clusters = self.selected_clusters() if has and on_clusters else []
        sel_images = self.selected_images() if has and on_clusters else []
        self.act_run.setEnabled(has and not busy)
        self.act_open_folder.setEnabled(not busy)
        self.act_open_session.setEnabled(not busy)
        self.act_demo.setEnabled(not busy)
        self.act_cancel.setEnabled(busy)
        for act in (self.act_save_as, self.act_export_csv, self.act_export_copy, self.act_export_link,
                    self.act_next, self.act_prev, self.act_select_all):
            act.setEnabled(has)
        self.act_merge.setEnabled(has and len(sel_clusters) >= 2)
        self.act_split.setEnabled(has and self.current_cid is not None and not busy)
        self.act_suspects.setEnabled(has and self._has_labels and self.project is not None and not busy)
        for act in (self.act_name, self.act_accept):
            act.setEnabled(has and bool(sel_clusters))
        for act in (self.act_move, self.act_move_new, self.act_reject, self.act_label_images, self.act_view):
            act.setEnabled(has and bool(sel_images))

    # ================================================================== errors / status
    def show_error(self, message: str, details: str = "") -> None:
        """Show an error in the window (banner + status bar); never raises."""
        self.last_error = message
        self.error_banner.show_error(message, details)
        self.statusBar().showMessage(message, 8000)

    def _update_counts(self) -> None:
        if self.session is None:
            self.counts_label.setText("No folder open")
            return
        s = self.session.summary()
        parts = [
            f"{s['images']:,} images",
            f"{s['clusters']} clusters",
            f"{s['named_clusters']} named",
            f"{s['accepted_clusters']} accepted",
            f"{s['rejected_images']:,} rejected",
        ]
        if any(g is not None for g in self.session.given_labels):
            parts.append(f"{s['changed_images']:,} changed")
        self.counts_label.setText("  ·  ".join(parts))

    # ================================================================== opening
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images")
        if folder:
            self.open_folder(folder)

    def choose_session(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a review session", "", "Review session (*.json)")
        if path:
            self.open_session(path)

    def open_demo(self) -> None:
        from pipeline.io.demo import demo_folder

        folder = demo_folder(self.store.root / "demo")
        cfg = self.demo_config or get_preset("hog-kmeans").with_k(13)
        self.open_folder(folder, config=cfg)

    def open_folder(self, folder, config: Optional[PipelineConfig] = None, force_run: bool = False) -> None:
        """Restore the folder's saved review, or ask for settings (unless ``config``) and run the pipeline."""
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            self.show_error(f"Not a folder: {folder}")
            return
        folder = folder.resolve()
        if not force_run and self.store.has_project(folder):
            self.restore_project(folder)
            return
        if config is not None:
            self.run_pipeline(folder, config)
        else:
            self.ask_settings(folder)

    def ask_settings(self, folder: Path) -> SettingsDialog:
        initial = None
        if self.session is not None and self.session.config:
            try:
                initial = PipelineConfig.from_dict(dict(self.session.config))
            except (ValueError, TypeError):
                initial = None
        dlg = SettingsDialog(initial, folder=str(folder), parent=self)
        dlg.accepted.connect(lambda: self.run_pipeline(folder, dlg.config()))
        self.settings_dialog = dlg
        dlg.open()
        return dlg

    def choose_and_run(self) -> None:
        if self.session is None:
            return
        if self._has_review_work() and QMessageBox.question(
            self, "Run the pipeline again?",
            "A new run replaces the clusters and the review edits of this folder "
            "(the current session file is kept as a .bak backup). Continue?",
        ) != QMessageBox.StandardButton.Yes:
            return
        self.ask_settings(Path(self.session.folder))

    def _has_review_work(self) -> bool:
        s = self.session
        return bool(s and (s.cluster_names or s.accepted or s.rejected or s.image_labels or s.reviewed
                           or self.undo_stack.count()))

    def open_session(self, path) -> None:
        """Open a session file saved anywhere; its folder's cached features are reused."""
        path = Path(path)
        try:
            session = ReviewSession.load(path)
        except ReviewError as exc:
            self.show_error(f"Cannot open the session: {exc}")
            return
        folder = Path(session.folder)
        if self.store.has_project(folder):
            self.restore_project(folder, session=session, session_path=path)
            return
        # No cache for this folder (other machine, cleared cache): compute features again.
        self._recompute_for_session(session, path)

    def _recompute_for_session(self, session: ReviewSession, path: Path) -> None:
        from pipeline.core.items import ImageItem

        try:
            config = PipelineConfig.from_dict(dict(session.config))
        except (ValueError, TypeError) as exc:
            self.show_error(f"The session's pipeline config is not valid: {exc}")
            return
        items = [ImageItem(p, g) for p, g in zip(session.paths, session.given_labels)]
        store = self.store

        def job(progress, cancel):
            from pipeline.run import compute_features, load_source  # heavy imports: off the UI thread

            image_set = load_source(items, config, cache_dir=store.pipeline_cache_dir(), progress=progress,
                                    cancel=cancel)
            if len(image_set) != len(items):
                raise ReviewError(f"{len(items) - len(image_set)} images of the session cannot be read any more")
            features = compute_features(config, image_set, progress=progress, cancel=cancel)
            data = ProjectData(str(session.folder), list(image_set.items), features, image_set.images,
                               config.to_dict())
            store.save_project(data)
            return data

        def done(data: ProjectData) -> None:
            self._install(data, session, path)

        self._submit("Computing features for the session", job, done)

    def restore_project(self, folder, session: Optional[ReviewSession] = None,
                        session_path: Optional[Path] = None) -> bool:
        """Load a folder's cached arrays and review session (no pipeline run)."""
        try:
            data = self.store.load_project(folder)
            path = Path(session_path) if session_path else self.store.session_path(folder)
            if session is None:
                session = ReviewSession.load(path)
            if len(session) != len(data.items):
                raise ReviewError(f"the session has {len(session)} images but the cache has {len(data.items)}")
        except (OSError, ValueError) as exc:
            self.show_error(f"Cannot restore {folder}: {exc}")
            return False
        self._install(data, session, path)
        return True

    # ================================================================== pipeline jobs
    def _submit(self, title: str, fn, on_done: Callable, name: Optional[str] = None) -> Optional[Job]:
        if self.worker.busy():
            self.show_error("Another job is still running; wait for it or cancel it first.")
            return None
        job = self.worker.create(name or title, fn)
        self.active_job = job
        self.progress_panel.start(title)
        job.progress.connect(self.progress_panel.update_progress)

        def finished(result) -> None:
            self._job_over()
            try:
                on_done(result)
            except Exception as exc:  # a failed install is shown, never a crash
                import traceback

                self.show_error(f"{title} failed: {exc}", traceback.format_exc())
                self.job_failed.emit(job.name, str(exc))
                return
            self.job_finished.emit(job.name)

        def failed(message: str, tb: str) -> None:
            self._job_over()
            self.show_error(f"{title} failed: {message}", tb)
            self.job_failed.emit(job.name, message)

        def cancelled() -> None:
            self._job_over()
            self.statusBar().showMessage(f"{title}: cancelled", 5000)
            self.job_failed.emit(job.name, "cancelled")

        job.finished.connect(finished)
        job.failed.connect(failed)
        job.cancelled.connect(cancelled)
        self.worker.start(job)
        self._update_actions()
        return job

    def _job_over(self) -> None:
        self.active_job = None
        self.progress_panel.stop()
        QTimer.singleShot(0, self._update_actions)

    def cancel_job(self) -> None:
        if self.active_job is not None:
            self.active_job.cancel()
            self.progress_panel.cancel.setEnabled(False)
            self.progress_panel.stage.setText("Cancelling…")

    def run_pipeline(self, folder, config: PipelineConfig, source=None) -> Optional[Job]:
        """Run the pipeline on ``folder`` in the model thread, then show the clusters.

        ``source`` (a list of ImageItem, an ImageSet or a CSV path) replaces the folder
        scan, e.g. to review a subset; the review is still stored under ``folder``.
        """
        folder = Path(folder).resolve()
        self.error_banner.hide()
        source = str(folder) if source is None else source
        run_in_process = self.run_in_process
        store_root = str(self.store.root)

        def job(progress, cancel):
            if run_in_process:
                run_and_store_in_process(config, str(folder), source, store_root, progress, cancel)
                report(progress, "loading result", 0, 1, "reading the stored result")
                return load_stored(store_root, str(folder))
            return run_and_store(config, str(folder), source, store_root, progress, cancel)

        def done(out) -> None:
            data, session = out
            self._install(data, session, self.store.session_path(folder))
            skipped = len(data.skipped)
            t = data.timings.get("total")
            msg = f"Clustered {len(data.items):,} images into {len(session.cluster_ids())} clusters"
            if t is not None:
                msg += f" in {t:.1f}s"
            if skipped:
                msg += f"; {skipped} unreadable files skipped"
            self.statusBar().showMessage(msg, 10000)

        return self._submit(f"Running {config.name} on {folder.name}", job, done, name="pipeline")

    # ================================================================== install a session
    def _install(self, data: ProjectData, session: ReviewSession, session_path: Path) -> None:
        self._teardown_session()
        self.project, self.session, self.session_path = data, session, Path(session_path)
        self.autosaver = Autosaver(session, self.session_path, on_error=self._autosave_failed)
        session.add_listener(self._on_edit)
        if self._default_taxonomy:
            self.taxonomy = Taxonomy.gtsrb(session.folder)  # pictograms when the folder has GTSRB's Meta/
            tax_path = self.store.taxonomy_path(session.folder)
            if tax_path:
                try:
                    self.taxonomy = Taxonomy.load_csv(tax_path)
                except TaxonomyError as exc:
                    self.show_error(f"Cannot load the saved taxonomy: {exc}")
        self.cluster_model.taxonomy = self.taxonomy
        self._has_labels = can_find_suspects(session)
        self.loader = ThumbnailLoader(session.paths, data.images, parent=self)
        self.thumb_model = ThumbnailModel(self.loader, flags_of=self._image_flags, tooltip_of=self._image_tooltip,
                                          parent=self)
        self.thumb_model.thumb_size = self.thumb_size
        self.grid.setModel(self.thumb_model)
        self.grid.setGridSize(QSize(self.thumb_size + 8, self.thumb_size + 8))
        self.grid.selectionModel().selectionChanged.connect(self._on_image_selection)
        self.stats = self._compute_stats()
        self.current_cid = None
        self.cluster_model.set_session(session, self.stats)
        self.cluster_table.sortByColumn(COL_SIZE, Qt.SortOrder.DescendingOrder)
        self._update_dendrogram()
        self.kscores.set_selection(data.k_selection)
        self.tabs.setTabEnabled(1, self.kscores.has_scores())
        self.stack.setCurrentIndex(1)
        self.store.add_recent(session.folder)
        self._update_recent()
        self.setWindowTitle(f"Cluster Review — {Path(session.folder).name}")
        if self.cluster_proxy.rowCount():
            self.cluster_table.selectRow(0)
        self.cluster_table.setFocus()
        self._update_counts()
        self._update_actions()
        self.session_installed.emit()

    def _teardown_session(self) -> None:
        if self.autosaver is not None:
            self.autosaver.close()
            self.autosaver = None
        if self.session is not None:
            self.session.remove_listener(self._on_edit)
        self._drop_suspects()
        self.undo_stack.clear()
        if self.loader is not None:
            self.loader.shutdown()
            self.loader.deleteLater()
            self.loader = None
        if self.viewer is not None:
            self.viewer.close()
            self.viewer = None
        self.session = None

    def _autosave_failed(self, exc: Exception) -> None:
        self.show_error(f"Autosave failed: {exc}")

    def _compute_stats(self) -> ClusterStats:
        s = self.session
        return compute_cluster_stats(self.project.features, {c: s.members(c) for c in s.cluster_ids()})

    def _cluster_label(self, cid: int) -> str:
        name = self.session.cluster_names.get(cid)
        text = "noise" if cid < 0 else f"#{cid}"
        if name is not None:
            text += f" {self.taxonomy.name_of(name)}"
        return text

    def _update_dendrogram(self) -> None:
        st = self.stats
        self.dendrogram.set_data(st.linkage, st.ids, [self._cluster_label(c) for c in st.ids])
        self.dendrogram.set_selected(self.selected_clusters())

    # ================================================================== thumbnails
    def _cluster_thumb(self, cid: int) -> Optional[QPixmap]:
        if self.stats is None or self.loader is None or cid not in self.stats.medoids:
            return None
        return self.loader.load_now(self.stats.medoids[cid], 32)

    def _image_flags(self, i: int) -> frozenset:
        s = self.session
        flags = set()
        if i in s.rejected:
            flags.add(REJECTED)
        if i in s.reviewed:
            flags.add(REVIEWED)
        if (s.given_labels[i] is not None or i in s.image_labels) and s.is_changed(i):
            flags.add(CHANGED)
        return frozenset(flags)

    def _image_tooltip(self, i: int) -> str:
        s = self.session
        lines = [s.paths[i]]
        if s.given_labels[i] is not None:
            lines.append(f"given label: {self.taxonomy.name_of(s.given_labels[i])} ({s.given_labels[i]})")
        cls = s.class_of_image(i)
        if cls is not None:
            lines.append(f"class: {self.taxonomy.name_of(cls)}")
        if i in s.rejected:
            lines.append("rejected (not a sign)")
        return "\n".join(lines)

    def image_metadata(self, i: int) -> list[tuple[str, str]]:
        s = self.session
        cls = s.class_of_image(i)
        given = s.given_labels[i]
        d = float(self.stats.distance[i]) if self.stats is not None else float("nan")
        item = self.project.items[i] if self.project is not None else None
        rows = [
            ("Index", str(i)),
            ("Cluster", self._cluster_label(s.cluster_of(i))),
            ("Class", "—" if cls is None else f"{self.taxonomy.name_of(cls)} ({cls})"),
            ("Given label", "—" if given is None else f"{self.taxonomy.name_of(given)} ({given})"),
            ("Changed", "yes" if s.is_changed(i) else "no"),
            ("Reviewed", "yes" if s.is_reviewed(i) else "no"),
            ("Rejected", "yes" if i in s.rejected else "no"),
            ("Distance to center", "—" if not math.isfinite(d) else f"{d:.3f}"),
        ]
        if item is not None and item.roi:
            rows.append(("Region of interest", ", ".join(map(str, item.roi))))
        return rows

    def set_thumb_size(self, size: int) -> None:
        self.thumb_size = int(size)
        if self.thumb_model is not None:
            self.thumb_model.set_thumb_size(self.thumb_size)
        self.grid.setGridSize(QSize(self.thumb_size + 8, self.thumb_size + 8))

    # ================================================================== selection
    def selected_clusters(self) -> list[int]:
        rows = self.cluster_table.selectionModel().selectedRows()
        return [int(self.cluster_proxy.data(r, CLUSTER_ID_ROLE)) for r in rows]

    def selected_images(self) -> list[int]:
        if self.thumb_model is None or self.grid.selectionModel() is None:
            return []
        return sorted(self.thumb_model.image_index(i.row()) for i in self.grid.selectionModel().selectedIndexes())

    def select_clusters(self, cids: Sequence[int]) -> None:
        """Select these clusters in the table (the first becomes the shown cluster)."""
        sel = QItemSelection()
        first = None
        for cid in cids:
            row = self.cluster_model.row_of(cid)
            if row is None:
                continue
            src = self.cluster_model.index(row, 0)
            idx = self.cluster_proxy.mapFromSource(src)
            sel.select(idx, idx)
            if first is None:
                first = idx
        sm = self.cluster_table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        if first is not None:
            sm.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.cluster_table.scrollTo(first)
        sm.select(sel, flags)

    def select_cluster(self, cid: int) -> None:
        self.select_clusters([cid])

    def step_cluster(self, delta: int) -> None:
        n = self.cluster_proxy.rowCount()
        if n == 0:
            return
        cur = self.cluster_table.currentIndex()
        row = cur.row() if cur.isValid() else -1
        row = min(max(0, row + delta), n - 1)
        self.cluster_table.selectRow(row)

    def _neighbour_cluster(self, cid: int, delta: int) -> int:
        """The cluster ``delta`` rows below ``cid`` in the table as sorted now (``cid`` at the ends)."""
        row = self.cluster_model.row_of(cid)
        if row is None:
            return cid
        proxy_row = self.cluster_proxy.mapFromSource(self.cluster_model.index(row, 0)).row() + delta
        if not 0 <= proxy_row < self.cluster_proxy.rowCount():
            return cid
        return int(self.cluster_proxy.data(self.cluster_proxy.index(proxy_row, 0), CLUSTER_ID_ROLE))

    def select_all_images(self) -> None:
        self.grid.selectAll()
        self._update_actions()

    def _on_cluster_selection(self, *_) -> None:
        cur = self.cluster_table.currentIndex()
        selected = self.selected_clusters()
        cid = None
        if cur.isValid() and self.cluster_table.selectionModel().isRowSelected(cur.row(), cur.parent()):
            cid = int(self.cluster_proxy.data(cur, CLUSTER_ID_ROLE))
        elif selected:
            cid = selected[0]
        if cid != self.current_cid:
            self.show_cluster(cid)
        self.dendrogram.set_selected(selected)
        self._update_actions()

    def _on_image_selection(self, *_) -> None:
        n = len(self.grid.selectionModel().selectedIndexes()) if self.grid.selectionModel() else 0
        self._update_grid_hint(n)
        self._update_actions()

    def show_cluster(self, cid: Optional[int], keep_scroll: bool = False) -> None:
        """Show cluster ``cid`` in the center view and the grid."""
        self.current_cid = cid
        if self.thumb_model is None:
            return
        scroll = self.grid.verticalScrollBar().value() if keep_scroll else 0
        if cid is None or cid not in self.stats.members:
            self.thumb_model.set_indices([])
            self.center_view.set_images(None, None)
            self.center_view.title.setText("")
            self.center_view.info.setText("")
            self._update_grid_hint(0)
            return
        self.thumb_model.set_indices(self.stats.members[cid])
        self.grid.verticalScrollBar().setValue(scroll)
        self._update_center()
        self._update_grid_hint(0)

    def _update_center(self) -> None:
        cid, s, st = self.current_cid, self.session, self.stats
        if cid is None or cid not in st.members:
            return
        mean = st.mean_image(self.project.images, cid) if self.project.images is not None else None
        medoid = self.loader.load_now(st.medoids[cid], CENTER_SIZE)
        self.center_view.set_images(mean, medoid)
        name = s.cluster_names.get(cid)
        title = self._cluster_label(cid) if name is None else f"{self.taxonomy.name_of(name)}"
        if name is not None:
            title += f"  <span style='color:#888; font-size:11pt'>cluster #{cid}</span>"
        elif cid >= 0:
            title = f"Cluster #{cid} <span style='color:#999; font-size:11pt; font-style:italic'>unnamed</span>"
        self.center_view.title.setText(title)
        facts = [f"<b>{s.size(cid):,}</b> images"]
        purity = s.purity(cid)
        if purity is not None:
            major = s.majority_label(cid)
            facts.append(f"purity <b>{100 * purity:.0f}%</b> (majority: {self.taxonomy.name_of(major)})")
        sil = st.silhouette.get(cid, float("nan"))
        if math.isfinite(sil):
            facts.append(f"silhouette <b>{sil:.2f}</b>")
        n_rej = sum(1 for i in st.members[cid].tolist() if i in s.rejected)
        if n_rej:
            facts.append(f"<span style='color:#c0392b'>{n_rej} rejected</span>")
        if cid in s.accepted:
            facts.append("<span style='color:#26a65b'>✓ accepted</span>")
        self.center_view.info.setText(" · ".join(facts) + "<br><span style='color:#888'>Members ordered by "
                                      "distance to the center: outliers come last.</span>")

    def _update_grid_hint(self, n_selected: int) -> None:
        if self.thumb_model is None or self.current_cid is None:
            self.grid_hint.setText("")
            return
        n = self.thumb_model.rowCount()
        text = f"{n:,} images"
        if n_selected:
            text += f" · {n_selected:,} selected — V move · N new cluster · X reject · Shift+L label · Space view"
        else:
            text += " · click, Shift/Ctrl+click or drag to select images"
        self.grid_hint.setText(text)

    # ================================================================== edits
    def push_edit(self, edit: Edit, select: Optional[Sequence[int]] = None) -> bool:
        """Push one edit as an undo step; returns False when it would change nothing."""
        if edit.is_empty:
            self.statusBar().showMessage("Nothing to change", 3000)
            return False
        self._want_selected = list(select) if select is not None else None
        self.undo_stack.push(EditCommand(self.session, edit))
        return True

    def push_batch(self, builders, text: str, select: Optional[Sequence[int]] = None) -> bool:
        try:
            cmd = BatchCommand.build(self.session, builders, text)
        except ReviewError as exc:
            self.show_error(str(exc))
            return False
        if cmd is None:
            self.statusBar().showMessage("Nothing to change", 3000)
            return False
        self._want_selected = list(select) if select is not None else None
        self.undo_stack.push(cmd)
        return True

    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except ReviewError as exc:
            self.show_error(str(exc))

    def merge_selected(self) -> None:
        cids = self.selected_clusters()
        if len(cids) < 2:
            self.statusBar().showMessage("Select at least two clusters to merge (Ctrl/Shift+click)", 4000)
            return

        def go() -> None:
            edit = self.session.merge(cids)
            target = min([c for c in cids if c >= 0] or cids)
            self.push_edit(edit, select=[target])

        self._guard(go)

    def split_current(self) -> Optional[SplitDialog]:
        cid = self.current_cid
        if cid is None or self.session is None:
            return None
        dlg = SplitDialog(cid, self.session.size(cid), parent=self)
        dlg.accepted.connect(lambda: self.split_cluster(cid, dlg.parts.value(), dlg.method()))
        self.dialog = dlg
        dlg.open()
        return dlg

    def split_cluster(self, cid: int, parts: int, method: str = "kmeans") -> Optional[Job]:
        """Re-cluster ``cid`` into ``parts`` in the model thread, then push the split."""
        members = self.session.members(cid)
        if len(members) < parts:
            self.show_error(f"Cluster {cid} has only {len(members)} images; cannot split into {parts}")
            return None
        if method == "ward" and len(members) > MAX_WARD_SPLIT:
            method = "kmeans"
        feats = self.project.features
        seed = int(self.session.config.get("seed", 0) or 0)
        revision = self.session.revision

        def job(progress, cancel):
            from pipeline.clustering.api import cluster_features

            x = np.asarray(feats[members], dtype=np.float32)
            if method == "ward":
                from scipy.cluster.hierarchy import fcluster, linkage

                report(progress, "splitting", 0, 1, "ward linkage of the members")
                return fcluster(linkage(x.astype(np.float64), method="ward"), parts, criterion="maxclust")
            return cluster_features(x, method="kmeans", k=parts, seed=seed, progress=progress, cancel=cancel).labels

        def done(sub) -> None:
            if self.session is None or self.session.revision != revision:
                self.show_error("The session changed while splitting; split again.")
                return
            if len(np.unique(sub)) < 2:
                self.show_error(f"Cluster {cid} could not be split: all images fell into one part")
                return
            self._guard(lambda: self._push_split(cid, sub))

        return self._submit(f"Splitting cluster {cid}", job, done, name="split")

    def _push_split(self, cid: int, sub) -> None:
        edit = self.session.split(cid, sub)
        self.push_edit(edit, select=[cid, *edit.new_clusters])

    def move_selected(self) -> Optional[MoveDialog]:
        images = self.selected_images()
        if not images:
            return None
        clusters = [(c, f"{self._cluster_label(c)}  ({self.session.size(c):,})") for c in self.session.cluster_ids()]
        dlg = MoveDialog(clusters, len(images), exclude=self.current_cid, parent=self)
        dlg.chosen_target.connect(lambda target: self.move_selected_to(target, images))
        self.dialog = dlg
        dlg.open()
        return dlg

    def move_selected_to(self, target: Optional[int], images: Optional[list[int]] = None) -> None:
        images = images if images is not None else self.selected_images()
        if not images:
            self.statusBar().showMessage("Select images in the grid first", 4000)
            return

        def go() -> None:
            edit = self.session.move(images, target)
            self.push_edit(edit, select=[self.current_cid] if self.current_cid is not None else None)
            dest = "a new cluster" if target is None else self._cluster_label(target)
            self.statusBar().showMessage(f"Moved {len(edit.assign_indices)} images to {dest}", 5000)

        self._guard(go)

    def reject_selected(self) -> None:
        images = self.selected_images()
        if not images:
            self.statusBar().showMessage("Select images in the grid first", 4000)
            return
        value = not all(i in self.session.rejected for i in images)
        self._guard(lambda: self.push_edit(self.session.reject(images, value)))

    def name_selected(self) -> Optional[ClassPicker]:
        cids = self.selected_clusters()
        if not cids:
            return None
        current = self.session.cluster_names.get(cids[0])
        what = f"cluster {cids[0]}" if len(cids) == 1 else f"{len(cids)} clusters"
        dlg = ClassPicker(self.taxonomy, title=f"Name {what}", current=current, parent=self)
        dlg.picked.connect(lambda class_id: self.name_clusters(cids, class_id))
        self.dialog = dlg
        dlg.open()
        return dlg

    def name_clusters(self, cids: Sequence[int], class_id: Optional[str]) -> None:
        cids = list(cids)
        if len(cids) == 1:
            self._guard(lambda: self.push_edit(self.session.name(cids[0], class_id), select=cids))
            return
        label = self.taxonomy.name_of(class_id) if class_id else "no class"
        builders = [lambda c=c: self.session.name(c, class_id) for c in cids]
        self.push_batch(builders, f"Name {len(cids)} clusters as {label}", select=cids)

    def label_selected_images(self) -> Optional[ClassPicker]:
        images = self.selected_images()
        if not images:
            return None
        dlg = ClassPicker(self.taxonomy, title=f"Label {len(images)} images", parent=self,
                          prompt="Overrides the cluster's class for these images only.")
        dlg.picked.connect(lambda class_id: self._guard(
            lambda: self.push_edit(self.session.set_image_label(images, class_id, mark_reviewed=True))))
        self.dialog = dlg
        dlg.open()
        return dlg

    def accept_selected(self) -> None:
        cids = self.selected_clusters()
        if not cids:
            return
        value = not all(c in self.session.accepted for c in cids)
        if len(cids) == 1:
            cid = cids[0]
            # Accept and move on to the next cluster in the table: the reviewer's main loop.
            self._guard_push(lambda: self.session.accept(cid, value),
                             select=[self._neighbour_cluster(cid, 1)] if value else [cid])
            return
        text = f"{'Accept' if value else 'Withdraw acceptance of'} {len(cids)} clusters"
        self.push_batch([lambda c=c: self.session.accept(c, value) for c in cids], text, select=cids)

    def _guard_push(self, make: Callable[[], Edit], select=None) -> bool:
        try:
            return self.push_edit(make(), select=select)
        except ReviewError as exc:
            self.show_error(str(exc))
            return False

    def apply_cut(self, groups: Sequence[Sequence[int]]) -> None:
        """Merge each group of clusters (from the dendrogram cut) as one undo step."""
        groups = [list(g) for g in groups if len(g) > 1]
        if not groups:
            return
        builders = [lambda g=g: self.session.merge(g) for g in groups]
        n = sum(len(g) for g in groups)
        self.push_batch(builders, f"Cut dendrogram: merge {n} clusters into {len(groups)}",
                        select=[min([c for c in g if c >= 0] or g) for g in groups])

    # ================================================================== after every edit
    def _on_edit(self, edit: Edit) -> None:
        self._pending_clusters |= set(edit.clusters)
        if len(edit.assign_indices):
            self._pending_all = True
        self._refresh_timer.start()

    def _refresh(self) -> None:
        if self.session is None:
            return
        changed = self._pending_clusters
        membership = self._pending_all
        self._pending_clusters, self._pending_all = set(), False
        current = self.current_cid
        if membership:
            self.stats = self._compute_stats()
        want = self._want_selected
        self._want_selected = None
        if want is None:
            want = [c for c in self.selected_clusters() if self.session.has_cluster(c)]
        self.cluster_table.selectionModel().blockSignals(True)
        self.cluster_model.refresh(self.stats, changed if not membership else None)
        self.cluster_table.selectionModel().blockSignals(False)
        if membership:
            self._update_dendrogram()
        else:
            labels = [self._cluster_label(c) for c in self.stats.ids]
            if self.stats.linkage is not None:
                self.dendrogram.set_data(self.stats.linkage, self.stats.ids, labels)
        want = [c for c in want if self.session.has_cluster(c)]
        if not want and current is not None and self.session.has_cluster(current):
            want = [current]
        if not want and self.cluster_proxy.rowCount():
            want = [int(self.cluster_proxy.data(self.cluster_proxy.index(0, 0), CLUSTER_ID_ROLE))]
        self.current_cid = None if (membership and current in changed) else current
        self.cluster_table.selectionModel().blockSignals(True)
        self.select_clusters(want)
        self.cluster_table.selectionModel().blockSignals(False)
        new_cid = want[0] if want else None
        if new_cid != self.current_cid or (membership and new_cid in changed):
            self.show_cluster(new_cid, keep_scroll=(new_cid == current))
        else:
            self.thumb_model.refresh_flags()
            self._update_center()
        self.dendrogram.set_selected(self.selected_clusters())
        self._update_counts()
        self._update_actions()
        self.cluster_table.viewport().update()
        self.refreshed.emit()

    # ================================================================== viewer, help
    def eventFilter(self, obj, event) -> bool:
        if obj is self.grid and event.type() in (event.Type.KeyPress, event.Type.ShortcutOverride):
            if event.key() == Qt.Key.Key_Space and not event.modifiers():
                if event.type() == event.Type.KeyPress:
                    self.view_current_image()
                event.accept()
                return True
        return super().eventFilter(obj, event)

    def view_current_image(self) -> None:
        idx = self.grid.currentIndex()
        if not idx.isValid():
            sel = self.grid.selectionModel().selectedIndexes() if self.grid.selectionModel() else []
            if not sel:
                return
            idx = sel[0]
        self.view_image_row(idx.row())

    def view_image_row(self, row: int) -> Optional[ImageViewer]:
        if self.thumb_model is None or row < 0:
            return None
        if self.viewer is not None:
            self.viewer.close()
        indices = self.thumb_model.indices()
        self.viewer = ImageViewer(self.session.paths, indices, row, self.image_metadata,
                                  images=self.project.images, parent=self)
        self.viewer.current_changed.connect(self._viewer_moved)
        self.viewer.show()
        return self.viewer

    def _viewer_moved(self, image_index: int) -> None:
        row = self.thumb_model.row_of(image_index) if self.thumb_model else None
        if row is not None:
            self.grid.setCurrentIndex(self.thumb_model.index(row))

    def show_help(self) -> HelpDialog:
        dlg = HelpDialog(self.all_actions(), parent=self)
        self.dialog = dlg
        dlg.open()
        return dlg

    # ================================================================== mislabeled images
    def find_suspects(self) -> Optional[Job]:
        """Run the mislabel search on the model thread; the Suspects tab shows the result."""
        if self.session is None or self.project is None:
            return None
        if not can_find_suspects(self.session):
            self.show_error("Finding mislabeled images needs labelled images (class folders or a label CSV) "
                            "in at least two classes.")
            return None
        session = self.session
        try:
            fn = suspects_job(session, self.project.features)
        except ValueError as exc:
            self.show_error(f"Cannot search for mislabeled images: {exc}")
            return None

        def done(result: SuspectsResult) -> None:
            if self.session is session:  # ignore a result for a folder closed meanwhile
                self.show_suspects(result)

        return self._submit("Finding mislabeled images", fn, done, name="suspects")

    def show_suspects(self, result: SuspectsResult) -> SuspectsView:
        """Show a search result in the Suspects tab (replacing an earlier one)."""
        self._drop_suspects()
        view = SuspectsView(self.session, result.report, self.taxonomy, self.undo_stack,
                            images=self.project.images if self.project is not None else None,
                            indices=result.indices)
        view.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.suspects_view = view
        self.suspects_page.addWidget(view)
        self.suspects_page.setCurrentWidget(view)
        self.review_tabs.setCurrentWidget(self.suspects_page)
        view.table.setFocus()
        self.statusBar().showMessage(
            f"{len(view.model.suspects):,} suspects among {len(result.report):,} labelled images", 8000)
        return view

    def _drop_suspects(self) -> None:
        if self.suspects_view is not None:
            self.suspects_view.detach()
            self.suspects_page.removeWidget(self.suspects_view)
            self.suspects_view.deleteLater()
            self.suspects_view = None
        self.suspects_page.setCurrentIndex(0)
        self.review_tabs.setCurrentIndex(0)

    def _on_review_tab(self, index: int) -> None:
        self._update_actions()
        if self.review_tabs.widget(index) is self.suspects_page and self.suspects_view is not None:
            self.suspects_view.table.setFocus()

    # ================================================================== save, taxonomy, export
    def save_session_as(self) -> None:
        if self.session is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save review session", str(Path.home() / "review-session.json"),
                                              "Review session (*.json)")
        if path:
            self.save_session_to(path)

    def save_session_to(self, path) -> None:
        """Save a copy of the session; autosave keeps writing the project's own file."""
        try:
            self.session.save(path)
        except (OSError, ReviewError) as exc:
            self.show_error(f"Cannot save the session: {exc}")
            return
        self.statusBar().showMessage(f"Session saved to {path}", 5000)

    def choose_taxonomy(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a taxonomy", "", "Class list (*.csv)")
        if path:
            self.load_taxonomy(path)

    def load_taxonomy(self, path) -> bool:
        try:
            tax = Taxonomy.load_csv(path)
        except TaxonomyError as exc:
            self.show_error(str(exc))
            return False
        self.taxonomy = tax
        self._default_taxonomy = False
        self.cluster_model.taxonomy = tax
        if self.suspects_view is not None:
            self.suspects_view.set_taxonomy(tax)
        if self.session is not None:
            self.store.set_taxonomy_path(self.session.folder, str(Path(path).resolve()))
            self.cluster_model.refresh(self.stats)
            self._update_dendrogram()
            self._update_center()
        self.statusBar().showMessage(f"Taxonomy: {len(tax)} classes from {path}", 5000)
        return True

    def choose_export_csv(self) -> None:
        if self.session is None:
            return
        default = str(Path(self.session.folder).parent / f"{Path(self.session.folder).name}-labels.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export CSV", default, "CSV (*.csv)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if not path:
            return
        overwrite = False
        if Path(path).exists():
            answer = QMessageBox.question(self, "Replace the file?", f"{path} already exists. Replace it?")
            if answer != QMessageBox.StandardButton.Yes:
                self.statusBar().showMessage("Export cancelled: the file exists", 5000)
                return
            overwrite = True
        self.export_csv_to(path, overwrite=overwrite)

    def export_csv_to(self, path, overwrite: bool = False) -> bool:
        try:
            n = export_csv(self.session, path, self.taxonomy, overwrite=overwrite)
        except ExportError as exc:
            self.show_error(f"Export refused: {exc}")
            return False
        self.statusBar().showMessage(f"Exported {n:,} rows to {path}", 8000)
        return True

    def choose_export_tree(self, mode: str) -> None:
        if self.session is None:
            return
        folder = QFileDialog.getExistingDirectory(self, f"Export images as a folder tree ({mode})")
        if not folder:
            return
        overwrite = False
        if Path(folder).is_dir() and any(Path(folder).iterdir()):
            answer = QMessageBox.question(self, "Folder not empty",
                                          f"{folder} is not empty. Write into it (same-named files are replaced)?")
            if answer != QMessageBox.StandardButton.Yes:
                return
            overwrite = True
        self.export_tree_to(folder, mode, overwrite=overwrite)

    def export_tree_to(self, folder, mode: str = "copy", overwrite: bool = False) -> Optional[Job]:
        session, taxonomy = self.session, self.taxonomy

        def job(progress, cancel):
            return export_tree(session, folder, taxonomy, mode=mode, overwrite=overwrite, progress=progress,
                               cancel=cancel)

        def done(counts) -> None:
            self.statusBar().showMessage(f"Exported {sum(counts.values()):,} images into {len(counts)} folders "
                                         f"under {folder}", 8000)

        return self._submit(f"Exporting to {folder}", job, done, name="export")

    # ================================================================== drag and drop, close
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not urls:
            return
        self.open_path(urls[0])
        event.acceptProposedAction()

    def open_path(self, path) -> None:
        """Open a folder or a session file, whichever ``path`` is."""
        p = Path(path)
        if p.is_dir():
            self.open_folder(p)
        elif p.suffix.lower() == ".json" and p.is_file():
            self.open_session(p)
        else:
            self.show_error(f"Drop a folder of images or a session .json file (got {p.name})")

    def closeEvent(self, event) -> None:
        self.worker.shutdown()
        self._teardown_session()
        super().closeEvent(event)
