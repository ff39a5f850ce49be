"""The review window: composes the controllers, pages, actions and status widgets.

State and edits live in :class:`~gui.controllers.review.ReviewController`, opening and
running projects in :class:`~gui.controllers.project.ProjectController`, jobs on the
:class:`~gui.jobs.runner.JobRunner`'s model thread; the actions come from the table in
:mod:`gui.actions`. This class only builds the window around them and wires signals.
"""
from __future__ import annotations

import gc
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QApplication, QLabel, QMainWindow, QSizePolicy, QSlider, QStackedWidget, QTabWidget,
                               QVBoxLayout, QWidget)

from pipeline.config import PipelineConfig
from pipeline.core.errors import plain_message
from pipeline.review import ReviewSession, Taxonomy

from gui import actions as action_table
from gui.controllers.project import ProjectController, initial_config, recommended_config
from gui.controllers.review import ReviewController
from gui.controllers.suggestions import SuggestionController
from gui.dialogs import file_prompts as ask
from gui.dialogs.help_dialog import HelpDialog
from gui.dialogs.history_dialog import show_history
from gui.dialogs.more_like_this import MoreLikeThisDialog
from gui.dialogs.settings_dialog import SettingsDialog
from gui.disabled_keys import DisabledKeyNotice
from gui.jobs.runner import JobRunner
from gui.jobs.suspects_job import can_find_suspects
from gui.models.cluster_text import counts_text
from gui.pages.clusters_page import ClustersPage
from gui.pages.map_page import MapPage
from gui.pages.suggestion_ui import SuggestionUI, suggestion_handlers
from gui.pages.suspects_page import SuspectsPage
from gui.settings import SessionStore
from gui.undo import follow_undo_stack
from gui.widgets.error_banner import ErrorBanner
from gui.widgets.progress_panel import ProgressPanel
from gui.widgets.run_notice import RunNotice
from gui.widgets.status_line import ElidedLabel, StatusLine
from gui.widgets.welcome_page import WelcomePage
from gui.widgets.window_fit import fit_toolbar, initial_size


class MainWindow(QMainWindow):
    """The review window; see the module docstring."""

    session_installed = Signal()
    #: After an install, move every live object out of the cyclic collector's reach (``gc.freeze``):
    #: the project's objects live as long as it is shown, and a full collection over a 39k-image
    #: project held the GIL 270-460 ms while the next result was read. The application turns it on
    #: (gui.app); tests, which build many windows in one process, leave it off.
    freeze_gc_after_install = False
    job_finished = Signal(str)  # job name
    job_failed = Signal(str, str)  # job name, message

    def __init__(self, store: Optional[SessionStore] = None, taxonomy: Optional[Taxonomy] = None,
                 demo_config: Optional[PipelineConfig] = None) -> None:
        super().__init__()
        self.setWindowTitle("Cluster Review")
        self.resize(initial_size())
        self.setAcceptDrops(True)
        self.store = store or SessionStore()
        self._default_taxonomy = taxonomy is None
        self.jobs = JobRunner(self)
        self.review = ReviewController(self.jobs, taxonomy, self)
        self.suggestions = SuggestionController(self.review, self, project_dir_of=self.store.project_dir)  # refit per edit
        self.projects = ProjectController(self.store, self.jobs, demo_config, self)
        self.last_error: Optional[str] = None
        self._labels_known: tuple = (None, False)  # (session, can_find_suspects(session))
        self.locked_for: Optional[Path] = None
        self._installing: Optional[tuple] = None  # (counts text or None, in turns) while _install runs
        self._read_only_before: Optional[str] = None  # the review's read_only before a run locked it
        self.dialog: Optional[QWidget] = None  # the help dialog once opened (for tests)
        self.settings_dialog: Optional[SettingsDialog] = None
        self.more_dialog: Optional[MoreLikeThisDialog] = None
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
            "relink": lambda: when(r.session and ask.ask_folder(self), lambda f: p.relink_folder(r.session.folder, f)),
            "export_csv": lambda: when(r.session and ask.ask_export_csv(self, r.session.folder, self.say),
                                       lambda t: r.export_csv_to(*t)),
            "export_copy": lambda: when(r.session and ask.ask_export_tree(self, "copy"),
                                        lambda t: r.export_tree_to(t[0], "copy", t[1])),
            "export_link": lambda: when(r.session and ask.ask_export_tree(self, "link"),
                                        lambda t: r.export_tree_to(t[0], "link", t[1])),
            "quit": self.close,
            "undo": r.undo,
            "redo": r.redo,
            "history": lambda: setattr(self, "dialog", show_history(self, r, p)),
            "clear_selection": r.clear_selection,
            "select_all": lambda: (self.map.select_all() if self.review_tabs.currentWidget() is self.map
                                   else self.clusters.select_all_images()),
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
            "more_like_this": lambda: self.more_like_this(),
            "bigger": lambda: self.thumb_slider.setValue(self.thumb_slider.value() + 16),
            "smaller": lambda: self.thumb_slider.setValue(self.thumb_slider.value() - 16),
            "auto_contrast": lambda: self.set_auto_contrast(self.act("auto_contrast").isChecked()),
            "disagree_only": lambda: self.clusters.set_disagree_only(self.act("disagree_only").isChecked()),
            "help": self.show_help,
            **suggestion_handlers(lambda: self.suggest_ui),
        }

    def _build_ui(self) -> None:
        acts = self.actions_by_id
        self.welcome = WelcomePage(action_table.welcome_actions(acts), self.projects.open_folder)
        self.clusters = ClustersPage(self.review)
        self.suspects = SuspectsPage(self.review, acts["suspects"], self.store.project_dir)
        self.review_tabs = QTabWidget()
        self.review_tabs.setDocumentMode(True)
        self.review_tabs.addTab(self.clusters, "Clusters")
        self.review_tabs.addTab(self.suspects, "Suspects")
        self.map = MapPage(self.review, self.store.project_dir, self.clusters.move_targets)
        self.review_tabs.addTab(self.map, "Map")
        self.suggest_ui = SuggestionUI(self.suggestions, self.clusters, self.map, self)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.review_tabs)
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(6, 6, 6, 0)
        self.error_banner = ErrorBanner()
        cl.addWidget(self.error_banner)
        self.run_notice = RunNotice(central)
        cl.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)  # text beside icons once wide: resizeEvent
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

        self.status_line = StatusLine()
        self.progress_panel = ProgressPanel()
        self.counts_label = ElidedLabel(counts_text(None))
        self.counts_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.statusBar().addWidget(self.status_line, 1)
        self.statusBar().addPermanentWidget(self.progress_panel)
        self.statusBar().addPermanentWidget(self.counts_label, 0)
        self.key_notice = DisabledKeyNotice(self, self.actions_by_id, self.action_state, self.say,
                                            own_keys=[self.suspects])  # its table takes A, K, C, R itself
        QApplication.instance().installEventFilter(self.key_notice)

    def _wire(self) -> None:
        r, p, jobs = self.review, self.projects, self.jobs
        follow_undo_stack(r.undo_stack, self.act("undo"), self.act("redo"))
        self.thumb_slider.valueChanged.connect(self.clusters.set_thumb_size)
        self.clusters.disagree_only_changed.connect(self.act("disagree_only").setChecked)
        self.act("auto_contrast").setChecked(self.store.display_flag("auto_contrast"))
        self.clusters.set_auto_contrast(self.act("auto_contrast").isChecked())
        self.suspects.set_auto_contrast(self.act("auto_contrast").isChecked())
        self.progress_panel.cancel_clicked.connect(self.cancel_job)
        self.map.show_image.connect(self.show_image_in_clusters)
        QApplication.instance().focusWindowChanged.connect(self._viewer_keys)  # however the viewer opened
        self.clusters.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)  # right-click on a thumbnail
        for action_id in ("view", "more_like_this", "move", "move_new", "label_images", "reject"):
            self.clusters.grid.addAction(self.act(action_id))
        for source in (r, p, jobs, self.suspects, self.map, self.suggestions):
            source.message.connect(self.say)
        for source in (r, p, jobs):
            source.error.connect(self.show_error)
        jobs.job_started.connect(self._job_started)
        jobs.job_over.connect(self.progress_panel.stop)
        jobs.job_failed.connect(lambda *_: self._unlock())  # a finished run unlocks as it installs
        r.images_cleared.connect(self.clusters.grid.clearSelection)
        jobs.job_over.connect(self.update_actions)
        jobs.job_finished.connect(self.job_finished)
        jobs.job_failed.connect(self.job_failed)
        p.loaded.connect(self._install)
        r.install_done.connect(self._install_done)
        p.settings_needed.connect(self.ask_settings)
        p.damaged.connect(lambda folder, text: ask.confirm_recover(self, text) and self.projects.recover(folder))
        r.state_changed.connect(self.update_actions)
        r.flushed.connect(lambda: QTimer.singleShot(0, self._show_counts))  # (a pass over every image) a turn later
        self.suspects.shown.connect(lambda: self.review_tabs.setCurrentWidget(self.suspects))
        self.review_tabs.currentChanged.connect(self._on_review_tab)

    def act(self, action_id: str) -> QAction:  # the window's action (see gui.actions.ACTIONS)
        return self.actions_by_id[action_id]

    @property
    def session(self) -> Optional[ReviewSession]:
        """The review shown; ``None`` until an install in turns is complete."""
        return None if self.review.installing else self.review.session

    # ================================================================== state shown
    def action_state(self) -> action_table.ActionState:
        """What the action table's predicates (and the disabled-key reasons) look at now."""
        r = self.review
        on_clusters = self.review_tabs.currentWidget() is self.clusters
        return action_table.ActionState(
            has_session=r.session is not None, has_project=r.project is not None, busy=self.jobs.busy(),
            on_clusters=on_clusters, n_clusters=len(r.selected) if on_clusters else 0,
            n_images=len(r.selected_images) if on_clusters else 0, has_current=r.current is not None,
            has_labels=self._has_labels(r.session), can_undo=r.undo_stack.canUndo(),
            can_redo=r.undo_stack.canRedo(), locked=self.locked_for is not None, read_only=bool(r.read_only))

    def _has_labels(self, session) -> bool:
        """Whether ``session``'s given labels allow a mislabel search (they never change: once per session)."""
        if self._labels_known[0] is not session:
            self._labels_known = (session, can_find_suspects(session))
        return self._labels_known[1]

    def update_actions(self) -> None:
        action_table.update_enabled(self.actions_by_id, self.action_state())

    def show_error(self, message: str, details: str = "") -> None:
        """Show an error in the window (banner + status bar); never raises."""
        message = plain_message(message)
        self.last_error = message
        self.error_banner.show_error(message, details)
        self.status_line.show_message(message, 8000)

    def say(self, text: str, ms: int = 5000) -> None:
        self.status_line.show_message(text, ms)

    def _show_counts(self, text: Optional[str] = None) -> None:
        text = text if text is not None else counts_text(self.review.session)
        self.counts_label.setText(text)
        self.counts_label.setToolTip(text)

    def _update_recent(self) -> None:
        recent = self.store.recent_folders()
        self.recent_menu.clear()
        metrics = self.recent_menu.fontMetrics()
        self.recent_menu.setToolTipsVisible(True)
        for folder in recent:  # the folder's own name stays visible: elide in the middle
            act = self.recent_menu.addAction(metrics.elidedText(folder, Qt.TextElideMode.ElideMiddle, 480))
            act.setToolTip(folder)
            act.triggered.connect(lambda checked=False, f=folder: self.projects.open_folder(f))
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
            self._lock(self.projects.running_folder, title)
        self.progress_panel.start(title)
        job.progress.connect(self.progress_panel.update_progress)
        self.update_actions()

    def _lock(self, folder: Optional[Path], title: str) -> None:
        """While a run goes, the review shown (to be replaced) is read-only and the title says what runs.

        The edit actions are off and the controller refuses every edit (drag and drop, type-ahead
        naming, a dendrogram cut ...) with the reason; the page stays visible for looking, and is
        not repainted greyed out (a 40,000-image page takes long to repaint)."""
        if folder is None:
            return
        self.locked_for = Path(folder)
        old = self.review.session
        if old is not None:
            self._read_only_before = self.review.read_only
            self.review.read_only = (f"The review of {Path(old.folder).name} is read-only while the new run goes "
                                     f"(Cancel keeps it).")
            self.run_notice.show_over(self.stack.geometry(), f"{title}… The review of {Path(old.folder).name} below "
                                      f"is read-only until the new result replaces it (Cancel keeps it).")
            self.setWindowTitle(f"Cluster Review — running on {self.locked_for.name} (showing {Path(old.folder).name})")
        else:
            self.setWindowTitle(f"Cluster Review — running on {self.locked_for.name}")
        self.update_actions()

    def _unlock(self) -> None:
        if self.locked_for is None or self.jobs.busy():
            return
        self.locked_for = None
        if self._read_only_before is not None:  # the old review was locked: give it back as it was
            self.review.read_only, self._read_only_before = self._read_only_before, None
        self.run_notice.hide()
        self._show_title()
        self.update_actions()

    def _show_title(self) -> None:
        s = self.review.session
        self.setWindowTitle(f"Cluster Review — {Path(s.folder).name}" if s is not None else "Cluster Review")

    def cancel_job(self) -> None:
        if self.jobs.cancel():
            self.progress_panel.cancelling()

    # ================================================================== projects
    def _install(self, data, session: ReviewSession, session_path, prepared=None) -> None:
        """Show a project. A finished run (``prepared``: figures computed on the model thread) goes in
        over several event-loop turns (``ReviewController.install(in_turns=True)``): none holds the UI
        thread long. :attr:`session_installed` follows the last turn."""
        self._unlock()  # before the new models go in: one repaint, of the new review
        if prepared is not None:
            self._labels_known = (session, prepared.has_labels)
        self._installing = (prepared.counts if prepared is not None else None, prepared is not None)
        taxonomy = self.projects.taxonomy_for(session.folder) if self._default_taxonomy else None
        self.review_tabs.setCurrentWidget(self.clusters)
        self.stack.setCurrentIndex(1)
        self.review.install(data, session, session_path, taxonomy, stats=prepared.stats if prepared else None,
                            in_turns=prepared is not None)

    def _install_done(self) -> None:
        if self._installing is None:  # a review installed by someone else (tests): nothing of ours to do
            return
        (counts, in_turns), self._installing = self._installing, None
        self._show_title()
        self._show_counts(counts)
        self.update_actions()
        if in_turns:  # the recent-folder list writes the preferences: a turn of its own
            QTimer.singleShot(0, self._after_install)
        else:
            self._after_install()

    def _after_install(self) -> None:
        if self.review.session is None:
            return
        self.store.add_recent(self.review.session.folder)
        self._update_recent()
        if self.freeze_gc_after_install:
            gc.freeze()
        self.session_installed.emit()

    def ask_settings(self, folder: Path) -> SettingsDialog:
        dlg = SettingsDialog(self.initial_settings(folder), folder=str(folder), parent=self)
        dlg.accepted.connect(lambda: self.projects.run_pipeline(folder, dlg.config()))
        self.settings_dialog = dlg
        dlg.open()
        return dlg

    def initial_settings(self, folder) -> PipelineConfig:
        """Re-running the open folder starts from its own settings; a new folder from the recommended
        preset with one cluster per class of its taxonomy."""
        s = self.review.session
        if s is not None and Path(s.folder).resolve() == Path(folder).resolve():
            cfg = initial_config(s)
            if cfg is not None:
                return cfg
        taxonomy = self.projects.taxonomy_for(folder) if self._default_taxonomy else self.review.taxonomy
        return recommended_config(len(taxonomy))

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
        self.suspects.set_auto_contrast(on)
        self.store.set_display_flag("auto_contrast", on)
        self.say("Auto-contrast on (display only)" if on else "Auto-contrast off", 3000)

    def show_image_in_clusters(self, image: int) -> None:
        """Switch to the Clusters tab with ``image``'s cluster shown and the image current in the grid."""
        r = self.review
        if r.session is None:
            return
        self.review_tabs.setCurrentWidget(self.clusters)
        r.select([r.session.cluster_of(image)])
        self.clusters.make_current(image)

    def current_image(self) -> Optional[int]:
        """The image More like this starts from: the viewer's, the map's, or the grid's current one."""
        r, viewer = self.review, self.clusters.viewer
        if viewer is not None and viewer.isVisible() and viewer.isActiveWindow():
            return viewer.image_index
        if self.review_tabs.currentWidget() is self.map:
            picked = self.map.view.current()
            return picked if picked is not None else (self.map.selected_images() or [None])[0]
        idx, model = self.clusters.grid.currentIndex(), self.clusters.thumb_model
        if idx.isValid() and model is not None and self.clusters.grid.selectionModel().isSelected(idx):
            return model.image_index(idx.row())
        return r.selected_images[0] if r.selected_images else None

    def more_like_this(self, image: Optional[int] = None) -> Optional[MoreLikeThisDialog]:
        """Show the images nearest ``image`` (default :meth:`current_image`) across all clusters."""
        r = self.review
        if r.session is None or r.project is None:
            return None
        image = self.current_image() if image is None else image
        if image is None:
            self.say("More like this: select an image in the grid or on the map first", 5000)
            return None
        if self.more_dialog is not None:
            self.more_dialog.close()
        self.more_dialog = MoreLikeThisDialog(r, image, self.clusters.move_targets, parent=self)
        self.more_dialog.show()
        return self.more_dialog

    def _viewer_keys(self, *_) -> None:
        """The full-size viewer is its own window: give it the More like this key too."""
        try:
            if self.clusters.viewer is not None:
                self.clusters.viewer.addAction(self.act("more_like_this"))
        except RuntimeError:  # the viewer (or this window) is being deleted
            pass

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

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        fit_toolbar(self.toolbar, self.width())
        third = max(200, self.width() // 3)  # message, progress and counts share a narrow status bar
        self.progress_panel.setMaximumWidth(min(620, max(380, third)))
        self.counts_label.setMaximumWidth(third)
        if self.run_notice.isVisible():
            self.run_notice.place(self.stack.geometry())

    def closeEvent(self, event) -> None:
        QApplication.instance().removeEventFilter(self.key_notice)
        self.jobs.shutdown()
        self.review.teardown()
        super().closeEvent(event)
