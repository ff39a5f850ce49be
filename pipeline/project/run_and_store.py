"""Run the pipeline and store its result, in the model thread or in a child process.

:func:`run_and_store` runs ``run_pipeline`` and writes what the review window needs
(features, working-size images, metadata, a fresh review session) into the
:class:`~pipeline.project.store.ProjectStore`. :func:`run_and_store_in_process` does the same in a separate
process (``spawn``): several pipeline stages hold the GIL for 100-200 ms at a time
(decoding, PCA, JSON writing), which would freeze the window's event loop for that
long if they ran in one of its threads. The window's model thread waits for the
child, forwards its progress and turns a Cancel into a cancel flag (then a
terminate, if the child does not stop). The result travels through the store's
files, which the window memory-maps.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from pipeline.config import PipelineConfig
from pipeline.core.errors import describe_error
from pipeline.core.progress import Cancelled, CancelToken, Progress, report, throttled
from pipeline.project.lock import held_by_other
from pipeline.project.prior_cache import prior_key, prior_path, save_prior, train_prior
from pipeline.project.store import ProjectData, ProjectStore

#: Seconds a cancelled child gets to stop by itself before it is terminated.
CANCEL_GRACE_S = 5.0
#: The child runs this much "nicer" than the window (POSIX), so the UI keeps the CPU it needs.
CHILD_NICENESS = 5


def kselection_to_dict(sel) -> Optional[dict]:
    if sel is None:
        return None
    return {
        "criterion": sel.criterion,
        "ks": [int(k) for k in sel.ks],
        "scores": {k: [float(v) for v in vals] for k, vals in sel.scores.items()},
        "best_k": int(sel.best_k),
    }


def run_and_store(config: PipelineConfig, folder: str, source: Any, store_root: str,
                  progress: Optional[Callable[[Progress], None]] = None,
                  cancel: Optional[CancelToken] = None):
    """Run the pipeline on ``source`` and save project + session for ``folder``.

    The new review is a new database in the project's ``sessions/``: the previous one
    stays in the history (never overwritten). Refuses to run while another window or
    process (other than the one that started this) holds the project's lock.
    Returns ``(ProjectData, ReviewSession)``.
    """
    from pipeline.review import ReviewError, ReviewSession
    from pipeline.review.session_db import SessionDB
    from pipeline.run import run_pipeline

    store = ProjectStore(store_root)
    holder = held_by_other(store.project_dir(folder))
    if holder is not None:
        raise ReviewError(f"the project is open in another window or program ({holder.describe()}); "
                          "close it there before running the pipeline again")
    result = run_pipeline(config, source, progress=progress, cancel=cancel, cache_dir=store.pipeline_cache_dir())
    prior = _self_trained_prior(result, config, folder, progress, cancel)
    report(progress, "saving", 0, 1, "writing the feature and thumbnail cache")
    image_set = result.image_set
    data = ProjectData(
        str(folder), list(image_set.items), np.asarray(result.features, dtype=np.float32),
        image_set.images, config.to_dict(), kselection_to_dict(result.clusters.k_selection),
        [{"path": s.path, "reason": s.reason} for s in image_set.skipped], dict(result.timings),
    )
    store.save_project(data)
    if prior is not None:
        save_prior(store.project_dir(folder), prior, prior_key(data.features))
    else:
        prior_path(store.project_dir(folder)).unlink(missing_ok=True)  # an earlier run's is stale anyway
    session = ReviewSession.from_result(str(folder), config.to_dict(), image_set.paths, image_set.labels,
                                        result.clusters.labels)
    previous = store.session_path(folder)
    kept = f"; the previous review stays in the history as {previous.name}" if previous.is_file() else ""
    SessionDB.create(store.new_session_path(folder, "run"), session, action="run",
                     text=f"pipeline run ({config.name}){kept}").close()
    session.journal_head = 0
    report(progress, "saving", 1, 1)
    return data, session


def _self_trained_prior(result, config: PipelineConfig, folder: str, progress, cancel):
    """The run's self-trained zero-shot prior (:mod:`pipeline.project.prior_cache`), or ``None``.

    A cancel stops the run as any stage does; any other failure only costs the sharpening (the
    window then shows the icons' own suggestions), so it is reported and the run is kept."""
    try:
        return train_prior(result.features, config, str(folder), progress=progress, cancel=cancel)
    except Cancelled:
        raise
    except Exception as exc:  # a Keras or backend problem must not lose the run
        report(progress, "self-trained prior", 1, 1, f"skipped: {describe_error(exc)[0]}")
        return None


#: Top-level packages of the window's toolkit, which a headless child must never load.
TOOLKIT_PACKAGES = ("PySide6", "shiboken6", "pyqtgraph", "superqt")


def loaded_toolkit_modules() -> list[str]:
    """Names in ``sys.modules`` that belong to :data:`TOOLKIT_PACKAGES`."""
    return sorted(m for m in list(sys.modules) if m.split(".")[0] in TOOLKIT_PACKAGES)


def _child_main(config_dict: dict, folder: str, source: Any, store_root: str, events, cancel_event) -> None:
    """Entry point of the child process: run, store, report through ``events``."""
    if hasattr(os, "nice"):  # on a busy machine the window's own threads should win the CPU
        try:
            os.nice(CHILD_NICENESS)
        except OSError:
            pass
    def _progress(p: Progress) -> None:
        events.put(("progress", (p.stage, p.done, p.total, p.message)))

    events.put(("started", {"pid": os.getpid(), "toolkit_modules": loaded_toolkit_modules()}))

    try:
        config = PipelineConfig.from_dict(config_dict)
        run_and_store(config, folder, source, store_root, throttled(_progress), CancelToken(cancel_event))
    except Cancelled:
        events.put(("cancelled", None))
    except BaseException as exc:  # reported to the window, which shows it
        events.put(("failed", describe_error(exc)))
    else:
        events.put(("done", None))


def run_and_store_in_process(config: PipelineConfig, folder: str, source: Any, store_root: str,
                             progress: Optional[Callable[[Progress], None]] = None,
                             cancel: Optional[CancelToken] = None,
                             on_started: Optional[Callable[[dict], None]] = None) -> None:
    """:func:`run_and_store` in a child process; raises its error or :class:`Cancelled`.

    ``on_started`` receives the child's ``{"pid", "toolkit_modules"}`` once it runs.
    """
    ctx = mp.get_context("spawn")
    events = ctx.Queue()
    cancel_event = ctx.Event()
    child = ctx.Process(target=_child_main, name="cluster-review-pipeline",
                        args=(config.to_dict(), str(folder), source, str(store_root), events, cancel_event),
                        daemon=True)
    report(progress, "starting", 0, 1, "starting the pipeline process")
    child.start()
    cancelled_at: Optional[float] = None
    outcome: Optional[tuple] = None
    try:
        while outcome is None:
            if cancel is not None and cancel.cancelled and cancelled_at is None:
                cancel_event.set()
                cancelled_at = time.monotonic()
            if cancelled_at is not None and time.monotonic() - cancelled_at > CANCEL_GRACE_S:
                child.terminate()
                outcome = ("cancelled", None)
                break
            try:
                kind, payload = events.get(timeout=0.1)
            except queue.Empty:
                if not child.is_alive():
                    try:  # the last message may arrive just after the exit
                        kind, payload = events.get(timeout=1.0)
                    except queue.Empty:
                        raise RuntimeError(f"the pipeline process stopped unexpectedly (exit code {child.exitcode})")
                else:
                    continue
            if kind == "progress":
                if progress is not None:
                    progress(Progress(*payload))
            elif kind == "started":
                report(progress, "starting", 1, 1, f"pipeline process {payload['pid']} running")
                if on_started is not None:
                    on_started(payload)
            else:
                outcome = (kind, payload)
    finally:
        child.join(10)
        if child.is_alive():
            child.terminate()
            child.join(5)
        events.close()
        events.join_thread()
    kind, payload = outcome
    if kind == "cancelled":
        raise Cancelled("cancelled by user")
    if kind == "failed":
        message, tb = payload
        raise PipelineProcessError(message, tb)


class PipelineProcessError(RuntimeError):
    """The pipeline failed in the child process; ``details`` holds its traceback."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


def load_stored(store_root: str, folder: str):
    """``(ProjectData, ReviewSession)`` as :func:`run_and_store` saved them."""
    from pipeline.project.sessions import load_project_session

    store = ProjectStore(store_root)
    return store.load_project(folder), load_project_session(store, folder)[0]


def folder_path(folder) -> str:
    return str(Path(folder).resolve())
