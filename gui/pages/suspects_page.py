"""The Suspects page: an introduction with a Find button, then the result of a mislabel search.

The result is saved in the project folder (given ``project_dir``) and shown again when the
project is reopened, as long as the run and the given labels are the same.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QScrollArea, QStackedWidget, QToolButton, QVBoxLayout,
                               QWidget)

from gui.controllers.review import ReviewController
from gui.jobs.suspects_job import SuspectsResult, cached_suspects, can_find_suspects, suspects_job
from gui.jobs.worker import Job
from gui.views.suspects_view import SuspectsView

INTRO = ("<h3>Find mislabeled images</h3>Ranks the images that came with a label by how likely that label is "
         "wrong (nearest neighbours, clusters and a cross-validated classifier on the pipeline's features), then "
         "lets you accept the suggested class, keep the label, choose another class or reject each image with "
         "one key.<br><br>Needs labelled images (class folders or a path,label CSV).")


class SuspectsPage(QStackedWidget):
    """Intro page until a search ran; then a :class:`SuspectsView` on the review's session."""

    shown = Signal()  # a result is on screen (the window switches to this tab)
    message = Signal(str, int)

    def __init__(self, review: ReviewController, find_action: QAction,
                 project_dir: Optional[Callable[[str], Path]] = None, parent=None) -> None:
        super().__init__(parent)
        self.review = review
        self.project_dir = project_dir  # folder -> its project folder (where the result is kept)
        self.restoring: Optional[Future] = None  # the read of the saved search, until it is handled
        self.auto_contrast = False
        self.view: Optional[SuspectsView] = None
        self._holder: Optional[QScrollArea] = None  # scrolls the view in a small window
        intro = QWidget()
        il = QVBoxLayout(intro)
        il.addStretch(1)
        text = QLabel(INTRO)
        text.setWordWrap(True)
        text.setMaximumWidth(560)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        row = QHBoxLayout()  # centred without an alignment flag, which would cut the wrapped text's height
        row.addStretch(1)
        row.addWidget(text, 10)
        row.addStretch(1)
        il.addLayout(row)
        find = QToolButton()
        find.setDefaultAction(find_action)
        find.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        find.setMinimumHeight(32)
        il.addWidget(find, 0, Qt.AlignmentFlag.AlignHCenter)
        il.addStretch(2)
        self.addWidget(intro)
        review.uninstalled.connect(self.drop)
        review.installed.connect(lambda: review.later(self.restore))  # a turn of its own in an install
        review.taxonomy_changed.connect(lambda: self.view.set_taxonomy(review.taxonomy) if self.view else None)

    def find(self) -> Optional[Job]:
        """Run the mislabel search on the model thread; the result replaces the page's content."""
        r = self.review
        if r.session is None or r.project is None:
            return None
        if not can_find_suspects(r.session):
            r.error.emit("Finding mislabeled images needs labelled images (class folders or a label CSV) "
                         "in at least two classes.", "")
            return None
        session, project = r.session, r.project
        try:
            fn = suspects_job(session, project.features, cache_dir=self._cache_dir(), config=project.config,
                              timings=project.timings)
        except ValueError as exc:
            r.error.emit(f"Cannot search for mislabeled images: {exc}", "")
            return None
        return r.runner.start("Finding mislabeled images", fn,
                              lambda result: self.show_result(result) if r.session is session else None,
                              name="suspects")

    def _cache_dir(self) -> Optional[Path]:
        s = self.review.session
        return Path(self.project_dir(s.folder)) if self.project_dir is not None and s is not None else None

    def restore(self) -> Optional[Future]:
        """Read the search saved with the project on a helper thread (the model thread stays free for
        the reviewer's jobs); if it still matches, show it without switching to the tab."""
        r, folder = self.review, self._cache_dir()
        if folder is None or r.project is None or not can_find_suspects(r.session):
            return None
        session, project = r.session, r.project
        labels = list(session.given_labels)  # read now: the helper thread never touches the session
        features, config, timings = project.features, project.config, project.timings
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="suspects-cache")
        future = pool.submit(cached_suspects, labels, features, folder, config, timings)
        pool.shutdown(wait=False)  # the thread ends with the read
        timer = QTimer(self)
        timer.setInterval(15)

        def poll() -> None:
            if not future.done():
                return
            timer.stop()
            timer.deleteLater()
            self.restoring = None
            result = future.result() if future.exception() is None else None
            if result is None:
                from pipeline.project.suspects_cache import clear_suspects  # imports scikit-learn: only now

                clear_suspects(folder)  # stale (the project was re-run) or unreadable: drop it
            elif r.session is session and list(session.given_labels) == labels:
                self.show_result(result, announce=False)

        timer.timeout.connect(poll)
        timer.start()
        self.restoring = future
        return future

    def show_result(self, result: SuspectsResult, announce: bool = True) -> SuspectsView:
        """Show a search result (replacing an earlier one); ``announce`` switches to the tab."""
        self.drop()
        r = self.review
        view = SuspectsView(r.session, result.report, r.taxonomy, r.undo_stack,
                            images=r.project.images if r.project is not None else None, indices=result.indices)
        view.message.connect(lambda text: self.message.emit(text, 5000))
        view.set_auto_contrast(self.auto_contrast)
        self.view = view
        self._holder = QScrollArea()  # a window smaller than the view's minimum scrolls it (1024 x 640 screens)
        self._holder.setWidgetResizable(True)
        self._holder.setFrameShape(QFrame.Shape.NoFrame)
        self._holder.setWidget(view)
        self.addWidget(self._holder)
        self.setCurrentWidget(self._holder)
        counts = f"{len(view.model.suspects):,} suspects among {len(result.report):,} labelled images"
        if not announce:
            self.message.emit(f"Suspects tab: the last search of this project ({counts})", 6000)
            return view
        self.shown.emit()
        view.table.setFocus()
        if result.cache_error:
            counts += f" (not kept for the next session: {result.cache_error})"
        self.message.emit(counts, 8000)
        return view

    def set_auto_contrast(self, on: bool) -> None:
        self.auto_contrast = bool(on)
        if self.view is not None:
            self.view.set_auto_contrast(self.auto_contrast)

    def drop(self) -> None:
        if self.view is not None:
            self.view.detach()
            self.removeWidget(self._holder)
            self._holder.deleteLater()  # and the view inside it
            self.view = self._holder = None
        self.setCurrentIndex(0)

    def focus_view(self) -> None:
        if self.view is not None:
            self.view.table.setFocus()
