"""Opening a project: restore a folder's stored review, open a session file, or run the pipeline.

:class:`ProjectController` decides what opening a path means and runs the long parts on
the :class:`~gui.jobs.runner.JobRunner` (the pipeline itself in a child process started
by :func:`pipeline.project.run_and_store.run_and_store_in_process`). When a project is
ready it emits :attr:`loaded`; when it needs settings first it emits
:attr:`settings_needed` (the window asks with a dialog and calls :meth:`run_pipeline`),
but only after a quick, bounded look found images in the folder. A finished run is read
back and its cluster statistics computed on the model thread, so installing it costs the
UI thread only the widgets' own work.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject, Signal

from pipeline.review.label_stats import session_label_codes
from pipeline.clustering.summary import ClusterStats, compute_cluster_stats
from pipeline.config import DEFAULT_PRESET, PipelineConfig, get_preset
from pipeline.core.paths import display_path
from pipeline.core.progress import report
from pipeline.io.probe import probe_folder
from pipeline.project.run_and_store import load_stored, run_and_store, run_and_store_in_process
from pipeline.project.sessions import (SessionDamaged, load_project_session, recover_from_good_copy,
                                      reopen_archived)
from pipeline.project.stats_cache import load_stats, save_stats, stats_key
from pipeline.project.store import ProjectData
from pipeline.review import ReviewError, ReviewSession, Taxonomy, TaxonomyError

from gui.jobs.runner import JobRunner
from gui.jobs.suspects_job import can_find_suspects
from gui.jobs.worker import Job
from gui.models.cluster_text import counts_text
from gui.settings import SessionStore


@dataclass(frozen=True)
class Prepared:
    """What installing a finished run needs, computed on the model thread (a 39k-image session
    takes 100+ ms for these on the UI thread): cluster statistics, the status-bar counts and
    whether the labels allow a mislabel search."""

    stats: ClusterStats
    counts: str
    has_labels: bool


class ProjectController(QObject):
    """Open / restore / run / install a project into the window."""

    loaded = Signal(object, object, object, object)  # ProjectData, ReviewSession, session path, Prepared|None
    settings_needed = Signal(object)  # folder (Path): ask for a config, then run_pipeline
    error = Signal(str, str)
    message = Signal(str, int)
    damaged = Signal(object, str)  # folder, message: its review file is damaged, a good copy exists (recover())

    def __init__(self, store: SessionStore, runner: JobRunner, demo_config: Optional[PipelineConfig] = None,
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.store = store
        self.runner = runner
        self.demo_config = demo_config
        #: Run the pipeline in a child process (keeps GIL-heavy stages out of the UI's
        #: process); False runs it on the model thread itself.
        self.run_in_process = True
        #: The folder the running pipeline job works on (None when none runs).
        self.running_folder: Optional[Path] = None
        runner.job_over.connect(self._job_over)

    def open_path(self, path) -> None:
        """Open a folder or a session file, whichever ``path`` is."""
        p = Path(path)
        if p.is_dir():
            self.open_folder(p)
        elif p.suffix.lower() == ".json" and p.is_file():
            self.open_session(p)
        else:
            self.error.emit(f"Drop a folder of images or a session .json file (got {p.name})", "")

    def open_demo(self) -> None:
        from pipeline.io.demo import demo_folder

        folder = demo_folder(self.store.root / "demo")
        # the default preset at the demo's 13 classes: ACC 0.710 there, hog-kmeans 0.526 (bench/unseen.py, stop 26)
        self.open_folder(folder, config=self.demo_config or get_preset(DEFAULT_PRESET).with_k(13))

    def open_folder(self, folder, config: Optional[PipelineConfig] = None, force_run: bool = False) -> None:
        """Restore the folder's saved review, or ask for settings (unless ``config``) and run the pipeline."""
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            self.error.emit(f"Not a folder: {folder}", "")
            return
        folder = folder.resolve()
        if not force_run and self.store.has_project(folder):
            self.restore_in_background(folder)
        elif config is not None:
            self.run_pipeline(folder, config)
        elif self.check_has_images(folder):
            self.settings_needed.emit(folder)

    def check_has_images(self, folder: Path) -> bool:
        """A bounded look for images (milliseconds); says why when there are none."""
        try:
            probe = probe_folder(folder)
        except OSError as exc:
            self.error.emit(f"Cannot read the folder {folder}: {exc.strerror or exc}", "")
            return False
        if not probe.may_have_images:
            self.error.emit(f"No images in {folder.name}: it and its subfolders hold no image files "
                            f"(.png, .jpg, .ppm, …) and no label CSV. Choose the folder the images are in.", "")
            return False
        return True

    def restore_project(self, folder, session: Optional[ReviewSession] = None,
                        session_path: Optional[Path] = None) -> bool:
        """Load a folder's cached arrays and review session (no pipeline run) and install them now."""
        try:
            data, session, path = self._read_project(folder, session, session_path)
        except (SessionDamaged, OSError, ValueError) as exc:
            self._restore_failed(folder, exc)
            return False
        self.loaded.emit(data, session, path, None)
        return True

    def restore_in_background(self, folder) -> Optional[Job]:
        """:meth:`restore_project` with the reading and the cluster statistics on the model thread
        (a 1M-image project takes seconds to read); the window installs it in turns."""
        def job(progress, cancel):
            report(progress, "opening", 0, 1, "reading the project")
            try:
                data, session, path = self._read_project(folder, None, None)
            except (SessionDamaged, OSError, ValueError) as exc:
                return exc
            report(progress, "opening", 0, 1, "cluster statistics")
            return data, session, path, prepare(data, session, self.store.project_dir(folder))

        def done(out) -> None:
            if isinstance(out, Exception):
                self._restore_failed(folder, out)
            else:
                self.loaded.emit(*out)

        return self.runner.start(f"Opening {Path(folder).name}", job, done, name="open")

    def _read_project(self, folder, session: Optional[ReviewSession], session_path: Optional[Path]):
        data = self.store.load_project(folder)
        path = Path(session_path) if session_path else self.store.session_path(folder)
        if session is None:
            session, path = load_project_session(self.store, folder)
        if len(session) != len(data.items):
            raise ReviewError(f"the session has {len(session)} images but the cache has {len(data.items)}")
        return data, session, path

    def _restore_failed(self, folder, exc: Exception) -> None:
        if isinstance(exc, SessionDamaged):
            if exc.backup is not None:  # shown in the window, then the good copy is offered
                self.error.emit(f"Cannot restore {folder}: {exc}", "")
                self.damaged.emit(Path(folder), str(exc))
            else:  # start over: the settings for a new run (the damaged file stays in the history)
                self.error.emit(f"Cannot restore {folder}: {exc} Run the pipeline again to start over "
                                "(the damaged file is kept in the project history).", "")
                self.settings_needed.emit(Path(folder))
        else:
            self.error.emit(f"Cannot restore {folder}: {exc}", "")

    def recover(self, folder) -> bool:
        """Continue from the last good copy of a damaged review (the damaged file stays in the history)."""
        try:
            path = recover_from_good_copy(self.store, folder)
        except (OSError, ReviewError) as exc:
            self.error.emit(f"Cannot recover the review of {folder}: {exc}", "")
            return False
        self.message.emit(f"Recovered the last good copy of the review as {path.name}", 8000)
        return self.restore_project(folder)

    def reopen_archived(self, folder, archived) -> bool:
        """Make an earlier review of ``folder`` current again (copied: the current one stays in the history)."""
        try:
            path = reopen_archived(self.store, folder, archived)
        except (OSError, ReviewError) as exc:
            self.error.emit(f"Cannot reopen {Path(archived).name}: {exc}", "")
            return False
        self.message.emit(f"Reopened the earlier review {Path(archived).name}", 8000)
        return self.restore_project(folder)

    def open_session(self, path) -> Optional[Job]:
        """Open a session file saved anywhere; its folder's cached features are reused."""
        path = Path(path)
        try:
            session = ReviewSession.load(path)
        except ReviewError as exc:
            self.error.emit(f"Cannot open the session: {exc}", "")
            return None
        if self.store.has_project(Path(session.folder)):
            self.restore_project(Path(session.folder), session=session, session_path=path)
            return None
        return self._recompute_for_session(session, path)  # other machine, cleared cache

    def _recompute_for_session(self, session: ReviewSession, path: Path) -> Optional[Job]:
        from pipeline.core.items import ImageItem

        try:
            config = PipelineConfig.from_dict(dict(session.config))
        except (ValueError, TypeError) as exc:
            self.error.emit(f"The session's pipeline config is not valid: {exc}", "")
            return None
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

        return self.runner.start("Computing features for the session", job,
                                 lambda data: self.loaded.emit(data, session, path, None))

    def relink_folder(self, old_folder, new_folder) -> bool:
        """Move the project of ``old_folder`` to the images' new place ``new_folder``, then open it there."""
        from pipeline.project.relink import relink_project

        new = Path(new_folder).expanduser().resolve()
        try:
            plan = relink_project(self.store, old_folder, new)
        except (ReviewError, OSError, ValueError) as exc:
            self.error.emit(f"Cannot relink: {exc}", "")
            return False
        self.message.emit(f"Relinked: {plan.describe()}", 10000)
        return self.restore_project(new)

    def run_pipeline(self, folder, config: PipelineConfig, source=None) -> Optional[Job]:
        """Run the pipeline on ``folder`` on the model thread (in a child process), then load the result.

        ``source`` (a list of ImageItem, an ImageSet or a CSV path) replaces the folder
        scan, e.g. to review a subset; the review is still stored under ``folder``.
        """
        folder = Path(folder).resolve()
        source = str(folder) if source is None else source
        run_in_process, store_root, store = self.run_in_process, str(self.store.root), self.store

        def job(progress, cancel):
            if run_in_process:
                run_and_store_in_process(config, str(folder), source, store_root, progress, cancel)
                report(progress, "loading result", 0, 1, "reading the stored result")
                data, session = load_stored(store_root, str(folder))
            else:
                data, session = run_and_store(config, str(folder), source, store_root, progress, cancel)
            report(progress, "loading result", 0, 1, "cluster statistics")
            return data, session, prepare(data, session, store.project_dir(folder))

        def done(out) -> None:
            data, session, prepared = out
            self.loaded.emit(data, session, self.store.session_path(folder), prepared)
            t = data.timings.get("total")
            msg = f"Clustered {len(data.items):,} images into {len(session.cluster_ids())} clusters"
            msg += f" in {t:.1f}s" if t is not None else ""
            msg += f"; {len(data.skipped)} unreadable files skipped" if data.skipped else ""
            self.message.emit(msg, 10000)
            if data.skipped:  # the list itself, one "file: reason" per line, under Details
                self.error.emit(f"{len(data.skipped):,} files in {folder.name} were left out (unreadable, not an "
                                "image type we read, or a repeated link): see Details",
                                "\n".join(f"{display_path(s['path'])}: {s['reason']}" for s in data.skipped))

        previous, self.running_folder = self.running_folder, folder  # the window reads it on job_started
        started = self.runner.start(f"Running {config.name} on {folder.name}", job, done, name="pipeline")
        if started is None:
            self.running_folder = previous
        return started

    def _job_over(self) -> None:
        if not self.runner.busy():
            self.running_folder = None

    def taxonomy_for(self, folder) -> Taxonomy:
        """The folder's remembered taxonomy CSV, else GTSRB's (with pictograms when the folder has Meta/)."""
        taxonomy = Taxonomy.gtsrb(folder)
        saved = self.store.taxonomy_path(folder)
        if saved:
            try:
                taxonomy = Taxonomy.load_csv(saved)
            except TaxonomyError as exc:
                self.error.emit(f"Cannot load the saved taxonomy: {exc}", "")
        return taxonomy


def prepare(data: ProjectData, session: ReviewSession, project_dir: Optional[Path] = None) -> Prepared:
    """What installing ``session`` needs, computed on the model thread (see :class:`Prepared`); the
    cluster statistics come from the project's cache when they match (``pipeline.project.stats_cache``)."""
    key = stats_key(data.features, session.assignments) if project_dir is not None else None
    stats = load_stats(project_dir, key) if key is not None else None
    if stats is None:
        stats = compute_cluster_stats(data.features, {c: session.members(c) for c in session.cluster_ids()})
        if key is not None:
            try:
                save_stats(project_dir, stats, key)
            except OSError:
                pass  # a read-only store: the next open computes them again
    session_label_codes(session)  # cached for the cluster table's purities (UI thread)
    return Prepared(stats, counts_text(session), can_find_suspects(session))


def recommended_config(n_classes: int) -> PipelineConfig:
    """What a folder opened for the first time starts from: the default preset, one cluster per class."""
    return get_preset(DEFAULT_PRESET).with_k(max(2, int(n_classes)))


def initial_config(session: Optional[ReviewSession]) -> Optional[PipelineConfig]:
    """The config a session was made with (to prefill the settings dialog), if valid."""
    if session is None or not session.config:
        return None
    try:
        return PipelineConfig.from_dict(dict(session.config))
    except (ValueError, TypeError):
        return None
