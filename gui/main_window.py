"""The review window: composes the controllers, pages, actions and status widgets.

State and edits live in :class:`~gui.controllers.review.ReviewController`, opening and
running projects in :class:`~gui.controllers.project.ProjectController`, jobs on the
:class:`~gui.jobs.runner.JobRunner`'s model thread; the actions come from the table in
:mod:`gui.actions`. This class only builds the window around them and wires signals.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMainWindow, QSizePolicy, QSlider, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from pipeline.config import PipelineConfig
from pipeline.review import ReviewSession, Taxonomy

from gui import actions as action_table
from gui.controllers.project import ProjectController, initial_config
from gui.controllers.review import ReviewController
from gui.dialogs import file_prompts as ask
from gui.dialogs.help_dialog import HelpDialog
from gui.dialogs.settings_dialog import SettingsDialog
from gui.jobs.runner import JobRunner
from gui.jobs.suspects_job import can_find_suspects
from gui.models.cluster_text import counts_text
from gui.pages.clusters_page import ClustersPage
from gui.pages.suspects_page import SuspectsPage
from gui.settings import SessionStore
from gui.undo import follow_undo_stack
from gui.widgets.error_banner import ErrorBanner
from gui.widgets.progress_panel import ProgressPanel
from gui.widgets.welcome_page import WelcomePage


class MainWindow(QMainWindow):
    """The review window; see the module docstring."""

    session_installed = Signal()
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
        self.jobs = JobRunner(self)
        self.review = ReviewController(self.jobs, taxonomy, self)
        self.projects = ProjectController(self.store, self.jobs, demo_config, self)
        self.last_error: Optional[str] = None
        self.dialog: Optional[QWidget] = None  # the help dialog once opened (for tests)
        self.settings_dialog: Optional[SettingsDialog] = None
        self.actions_by_id = action_table.build_actions(self, self._handlers())
        self._build_ui()
        self._wire()
        self.update_actions()
        self._update_recent()

    # ================================================================== composition
    def _handlers(self) -> dict[str, Callable[[], object]]:
        r, p = self.review, self.projects

        def when(value, fn):  # run fn(value) if the dialog gave one
            return fn(value) if value else None

        def on_clusters(fn):  # cluster edits act on the Clusters tab's selection
            return lambda: fn(r.selected) if r.session is not None else None

        def on_images(fn):
            return lambda: fn(r.selected_images) if r.session is not None else None

        return {
            "open_folder": lambda: when(ask.ask_folder(self), p.open_folder),
            "open_session": lambda: when(ask.ask_session(self), p.open_session),
            "demo": p.open_demo,
            "run": self.choose_and_run,
            "cancel": self.cancel_job,
            "save_as": lambda: when(r.session and ask.ask_save_session(self), r.save_session_to),
            "taxonomy": lambda: when(ask.ask_taxonomy(self), self.load_taxonomy),
            "export_csv": lambda: when(r.session and ask.ask_export_csv(self, r.session.folder, self.say),
                                       lambda t: r.export_csv_to(*t)),
            "export_copy": lambda: when(r.session and ask.ask_export_tree(self, "copy"),
                                        lambda t: r.export_tree_to(t[0], "copy", t[1])),
            "export_link": lambda: when(r.session and ask.ask_export_tree(self, "link"),
                                        lambda t: r.export_tree_to(t[0], "link", t[1])),
            "quit": self.close,
            "undo": r.undo_stack.undo,
            "redo": r.undo_stack.redo,
            "select_all": lambda: self.clusters.select_all_images(),
            "merge": on_clusters(r.merge),
            "split": lambda: self.clusters.split_current(),
            "move": lambda: self.clusters.move_selected(),
            "move_new": on_images(lambda images: r.move(images, None)),
            "reject": on_images(r.reject),
            "name": lambda: self.clusters.name_selected(),
            "label_images": lambda: self.clusters.label_selected_images(),
            "accept": on_clusters(r.accept),
            "next": lambda: r.step(1),
            "prev": lambda: r.step(-1),
            "suspects": lambda: self.suspects.find(),
            "view": lambda: self.clusters.view_current_image(),
            "bigger": lambda: self.thumb_slider.setValue(self.thumb_slider.value() + 16),
            "smaller": lambda: self.thumb_slider.setValue(self.thumb_slider.value() - 16),
            "auto_contrast": lambda: self.set_auto_contrast(self.act("auto_contrast").isChecked()),
            "disagree_only": lambda: self.clusters.set_disagree_only(self.act("disagree_only").isChecked()),
            "help": self.show_help,
        }

    def _build_ui(self) -> None:
        acts = self.actions_by_id
        self.welcome = WelcomePage(action_table.welcome_actions(acts), self.projects.open_folder)
        self.clusters = ClustersPage(self.review)
        self.suspects = SuspectsPage(self.review, acts["suspects"])
        self.review_tabs = QTabWidget()
        self.review_tabs.setDocumentMode(True)
        self.review_tabs.addTab(self.clusters, "Clusters")
        self.review_tabs.addTab(self.suspects, "Suspects")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.review_tabs)
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(6, 6, 6, 0)
        self.error_banner = ErrorBanner()
        cl.addWidget(self.error_banner)
        cl.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.setIconSize(QSize(18, 18))
        action_table.build_toolbar(tb, acts)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        tb.addWidget(spacer)
        tb.addWidget(QLabel("Thumbnails "))
        self.thumb_slider = QSlider(Qt.Orientation.Horizontal)
        self.thumb_slider.setRange(32, 192)
        self.thumb_slider.setSingleStep(8)
        self.thumb_slider.setPageStep(32)
        self.thumb_slider.setValue(self.clusters.thumb_size)
        self.thumb_slider.setFixedWidth(140)
        self.thumb_slider.setToolTip("Thumbnail size (Ctrl+= / Ctrl+-)")
        tb.addWidget(self.thumb_slider)
        self.toolbar = tb
        self.recent_menu = action_table.build_menus(self.menuBar(), acts)

        self.progress_panel = ProgressPanel()
        self.counts_label = QLabel(counts_text(None))
        self.statusBar().addPermanentWidget(self.progress_panel)
        self.statusBar().addPermanentWidget(self.counts_label)

    def _wire(self) -> None:
        r, p, jobs = self.review, self.projects, self.jobs
        follow_undo_stack(r.undo_stack, self.act("undo"), self.act("redo"))
        self.thumb_slider.valueChanged.connect(self.clusters.set_thumb_size)
        self.clusters.disagree_only_changed.connect(self.act("disagree_only").setChecked)
        self.act("auto_contrast").setChecked(self.store.display_flag("auto_contrast"))
        self.clusters.set_auto_contrast(self.act("auto_contrast").isChecked())
        self.progress_panel.cancel_clicked.connect(self.cancel_job)
        for source in (r, p, jobs, self.suspects):
            source.message.connect(self.say)
        for source in (r, p, jobs):
            source.error.connect(self.show_error)
        jobs.job_started.connect(self._job_started)
        jobs.job_over.connect(self.progress_panel.stop)
        jobs.job_over.connect(self.update_actions)
        jobs.job_finished.connect(self.job_finished)
        jobs.job_failed.connect(self.job_failed)
        p.loaded.connect(self._install)
        p.settings_needed.connect(self.ask_settings)
        p.damaged.connect(lambda folder, text: ask.confirm_recover(self, text) and self.projects.recover(folder))
        r.state_changed.connect(self.update_actions)
        r.flushed.connect(lambda: self.counts_label.setText(counts_text(r.session)))
        self.suspects.shown.connect(lambda: self.review_tabs.setCurrentWidget(self.suspects))
        self.review_tabs.currentChanged.connect(self._on_review_tab)

    def act(self, action_id: str) -> QAction:
        """The window's action ``action_id`` (see :data:`gui.actions.ACTIONS`)."""
        return self.actions_by_id[action_id]

    @property
    def session(self) -> Optional[ReviewSession]:
        return self.review.session

    # ================================================================== state shown
    def update_actions(self) -> None:
        r = self.review
        on_clusters = self.review_tabs.currentWidget() is not self.suspects
        state = action_table.ActionState(
            has_session=r.session is not None, has_project=r.project is not None, busy=self.jobs.busy(),
            on_clusters=on_clusters, n_clusters=len(r.selected) if on_clusters else 0,
            n_images=len(r.selected_images) if on_clusters else 0, has_current=r.current is not None,
            has_labels=can_find_suspects(r.session), can_undo=r.undo_stack.canUndo(),
            can_redo=r.undo_stack.canRedo())
        action_table.update_enabled(self.actions_by_id, state)

    def show_error(self, message: str, details: str = "") -> None:
        """Show an error in the window (banner + status bar); never raises."""
        self.last_error = message
        self.error_banner.show_error(message, details)
        self.statusBar().showMessage(message, 8000)

    def say(self, text: str, ms: int = 5000) -> None:
        self.statusBar().showMessage(text, ms)

    def _update_recent(self) -> None:
        recent = self.store.recent_folders()
        self.recent_menu.clear()
        for folder in recent:
            self.recent_menu.addAction(folder).triggered.connect(
                lambda checked=False, f=folder: self.projects.open_folder(f))
        self.recent_menu.setEnabled(bool(recent))
        self.welcome.set_recent(recent)

    def _on_review_tab(self, index: int) -> None:
        self.update_actions()
        if self.review_tabs.widget(index) is self.suspects:
            self.suspects.focus_view()

    # ================================================================== jobs
    def _job_started(self, title: str, job) -> None:
        if job.name == "pipeline":
            self.error_banner.hide()
        self.progress_panel.start(title)
        job.progress.connect(self.progress_panel.update_progress)
        self.update_actions()

    def cancel_job(self) -> None:
        if self.jobs.cancel():
            self.progress_panel.cancelling()

    # ================================================================== projects
    def _install(self, data, session: ReviewSession, session_path) -> None:
        taxonomy = self.projects.taxonomy_for(session.folder) if self._default_taxonomy else None
        self.review.install(data, session, session_path, taxonomy)
        self.review_tabs.setCurrentWidget(self.clusters)
        self.stack.setCurrentIndex(1)
        self.store.add_recent(session.folder)
        self._update_recent()
        self.setWindowTitle(f"Cluster Review — {Path(session.folder).name}")
        self.counts_label.setText(counts_text(session))
        self.update_actions()
        self.session_installed.emit()

    def ask_settings(self, folder: Path) -> SettingsDialog:
        dlg = SettingsDialog(initial_config(self.review.session), folder=str(folder), parent=self)
        dlg.accepted.connect(lambda: self.projects.run_pipeline(folder, dlg.config()))
        self.settings_dialog = dlg
        dlg.open()
        return dlg

    def choose_and_run(self) -> None:
        s = self.review.session
        if s is None:
            return
        if self.review.read_only:
            self.show_error(self.review.read_only)
            return
        work = s.cluster_names or s.accepted or s.rejected or s.image_labels or s.reviewed or self.review.undo_stack.count()
        if work and not ask.confirm_rerun(self):
            return
        self.ask_settings(Path(s.folder))

    def load_taxonomy(self, path) -> bool:
        """Use the class list in ``path`` (remembered for the open folder)."""
        if self.review.load_taxonomy(path) is None:
            return False
        self._default_taxonomy = False
        if self.review.session is not None:
            self.store.set_taxonomy_path(self.review.session.folder, str(Path(path).resolve()))
        return True

    def set_auto_contrast(self, on: bool) -> None:
        """Contrast-stretch what the window shows (remembered in the preferences)."""
        self.act("auto_contrast").setChecked(on)
        self.clusters.set_auto_contrast(on)
        self.store.set_display_flag("auto_contrast", on)
        self.say("Auto-contrast on (display only)" if on else "Auto-contrast off", 3000)

    def show_help(self) -> HelpDialog:
        self.dialog = HelpDialog(action_table.ordered(self.actions_by_id), parent=self)
        self.dialog.open()
        return self.dialog

    # ================================================================== drag and drop, close
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.projects.open_path(urls[0])
            event.acceptProposedAction()

    def closeEvent(self, event) -> None:
        self.jobs.shutdown()
        self.review.teardown()
        super().closeEvent(event)
