"""Class suggestions for the shown session, kept fresh in the background (no widgets).

:class:`SuggestionController` owns the :mod:`pipeline.suggest` state of the installed
review: the propagator (its k-NN graph, built once per project), the latest calibrated
:class:`~pipeline.suggest.Suggestions` and the images inside named clusters that disagree
with their name. When a project opens, zero-shot suggestions from the taxonomy's
pictograms are learnt in the background (:func:`gui.jobs.suggest_job.zero_shot_job`);
they are shown until the first decision. After every edit (debounced, so a burst of
edits costs one refit) it
snapshots the decisions on the UI thread and refits on the model thread as a background
job (:mod:`gui.jobs.suggest_job`); a result whose generation is no longer the latest is
dropped. :attr:`ready` fires when new suggestions are in place. The refit uses the evidence
calibration: the zero-shot suggestions as prior, the classes refused per image
(:attr:`SuggestionController.declined`: images clicked out of a bulk accept, and images moved
out of a named cluster, kept in step with undo by ``pipeline.suggest.refusals.MoveRefusals``)
and one ``SuggestionHistory`` per installed review, told which plans were applied.

Its commands go through :class:`~gui.controllers.review.ReviewController` (one undo step
each, with a status message): accept the suggestion of clusters, apply a bulk-accept plan
minus the clicked images, the review queue's top item (Next) and the Grow prefix.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from gui.controllers.review import ReviewController
from gui.jobs.suggest_job import SessionSnapshot, suggestion_job, zero_shot_job

#: Edits closer together than this share one refit.
DEBOUNCE_MS = 250
#: After an install's last turn the first refit waits this long: it would compete for the interpreter with
#: the grid's and table's first paints (40-70 ms of UI time each, ``bench/gui_responsiveness.py --trace``).
INSTALL_REFIT_DELAY_MS = 1000
#: A named cluster's image is flagged when its suggestion is another class at this confidence or more.
#: Low on purpose: the image's own (wrong) decision is in the fit and halves the confidence of the
#: class its neighbours say (the two learners disagree), so a misfit moved into a named cluster
#: on the demo set scores about 0.29; a badge costs a look, not an edit.
DISAGREE_CONFIDENCE = 0.25


class SuggestionController(QObject):
    """Suggestions of the installed session and the commands that use them."""

    ready = Signal()  # new suggestions are in place (or were dropped at teardown)
    message = Signal(str, int)

    def __init__(self, review: ReviewController, parent: Optional[QObject] = None,
                 project_dir_of: Optional[Callable[[str], Path]] = None) -> None:
        super().__init__(parent)
        self.review = review
        self.project_dir_of = project_dir_of  # folder -> its project folder (the run's self-trained prior is there)
        self.suggestions = None  # pipeline.suggest.Suggestions, once computed
        self.disagreeing = np.zeros(0, np.int64)  # images in named clusters whose suggestion differs
        self.generation = 0  # bumped at every edit and install; older results are dropped
        self.computed_for = -1  # the generation self.suggestions belongs to
        self.calibrated = False  # False: too few decisions to calibrate, confidences are the model's raw ones
        self.worker_threads: list[int] = []  # thread ids the refits ran on (tests check: not the UI thread)
        self.declined: dict[int, set] = {}  # image -> classes the reviewer refused for it (kept for the queue)
        self.zero_shot = None  # Suggestions from the pictograms (before any decision), once learnt
        self.zero_shot_source = ""  # where the icons came from ("drawn pictograms", "Meta/ icons", ...)
        self.zero_shot_note = ""  # why the pictograms gave no suggestions ("" while none was tried or they did)
        self._propagator = None
        self._project = None
        self._job = None
        self._zs_job = None
        self._refit_retry = False  # a refit gave way to a foreground job: schedule again after it
        self._zs_retry = False  # the pictogram learning gave way to a foreground job: start again after it
        self._votes: dict[int, tuple] = {}
        self._history = None  # pipeline.suggest.SuggestionHistory of the installed review (model thread only)
        self._shown: list[int] = []  # images of the bulk-accept plans applied since the last snapshot
        self._refusals = None  # pipeline.suggest.refusals.MoveRefusals over self.declined
        self._listened = None  # the session self._on_session_edit listens to
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start)
        review.installed.connect(self._install)
        review.install_done.connect(self._install_done)
        review.uninstalled.connect(self._teardown)
        review.refreshed.connect(lambda *_: self.schedule())
        review.taxonomy_changed.connect(self.schedule)
        review.runner.job_started.connect(self._foreground_started)
        review.runner.job_over.connect(self._resume_background)

    # ================================================================== state
    def _install(self) -> None:
        from pipeline.suggest.history import SuggestionHistory
        from pipeline.suggest.refusals import MoveRefusals

        self._teardown()
        self._project = self.review.project
        s = self.review.session
        self._history, self._shown = SuggestionHistory(), []
        self._refusals = MoveRefusals(self.declined)
        if s is not None:
            s.add_listener(self._on_session_edit)
            self._listened = s
        if s.cluster_names or s.image_labels:
            self._zs_retry = True  # decisions lead: learn the pictograms after the first refit
        else:  # after the install's own turns (the job competes with them for the interpreter)
            self.review.later(lambda: self.review.session is s and self._start_zero_shot())
        if not self.review.installing:
            self.schedule()  # else on install_done: a refit over a big review starves the install's turns

    def _install_done(self) -> None:
        if self.review.session is not None and self._project is self.review.project:
            self.generation += 1
            self._timer.start(INSTALL_REFIT_DELAY_MS)  # busy() until it is in; an edit meanwhile debounces as usual

    def _on_session_edit(self, edit) -> None:
        """Images moved out of a named cluster were refused its name (taken back on undo)."""
        if self._refusals is not None and self._listened is not None:
            self._refusals.on_edit(self._listened, edit)

    def _teardown(self) -> None:
        self.generation += 1
        if self._listened is not None:
            self._listened.remove_listener(self._on_session_edit)
        self._listened, self._refusals, self._history, self._shown = None, None, None, []
        self._timer.stop()
        self.suggestions, self._propagator, self._project = None, None, None
        self.zero_shot, self.zero_shot_source, self._zs_retry, self.zero_shot_note = None, "", False, ""
        self._refit_retry = False
        if self._zs_job is not None:
            self._zs_job.cancel()
            self._zs_job = None
        self.disagreeing, self._votes, self.declined = np.zeros(0, np.int64), {}, {}
        self.computed_for = -1

    def schedule(self) -> None:
        """Something changed: refit after the debounce interval (a running refit is superseded)."""
        if self.review.session is None:
            return
        self.generation += 1
        self._timer.start(DEBOUNCE_MS)

    def busy(self) -> bool:
        """A refit is pending or running, or the shown suggestions are older than the last edit."""
        return self._timer.isActive() or self._job is not None or self.computed_for != self.generation

    def _start(self) -> None:
        r = self.review
        if r.session is None or r.project is None:
            return
        if self._job is not None:  # one at a time; its result is stale, the next one starts when it ends
            return
        gen, project = self.generation, r.project
        snapshot = SessionSnapshot.of(r.session, self.declined, self._shown)
        self._shown = []
        fn = suggestion_job(project.features, self._propagator, snapshot, len(r.taxonomy), self.worker_threads,
                            history=self._history, zero_shot=self.zero_shot)
        job = r.runner.worker.create("suggest", fn)
        job.background = True  # never blocks a foreground job, never shows a progress bar
        self._job = job
        job.finished.connect(lambda out: self._done(gen, project, out))
        job.failed.connect(lambda message, _tb: self._over(f"Suggestions could not be computed: {message}"))
        job.cancelled.connect(lambda: self._over(""))
        r.runner.worker.start(job)

    def _over(self, text: str) -> None:
        self._job = None
        if text:
            self.message.emit(text, 6000)

    def _done(self, gen: int, project, out) -> None:
        self._job = None
        if project is not self.review.project or self.review.session is None:
            return  # another project was installed meanwhile
        self._propagator, suggestions, calibrated = out
        if not suggestions.classes and self.zero_shot is not None:
            suggestions, calibrated = self.zero_shot, False  # no decision yet: the pictograms speak
        if gen != self.generation:  # edits came in while it ran: compute again for the latest state
            self._start()
            return
        self.suggestions, self.computed_for, self._votes, self.calibrated = suggestions, gen, {}, calibrated
        from pipeline.suggest.propagation import disagreements

        self.disagreeing = disagreements(self.review.session, suggestions, DISAGREE_CONFIDENCE)
        self.ready.emit()
        self._resume_background()

    # ================================================================== zero-shot
    def _start_zero_shot(self) -> None:
        r = self.review
        project = r.project
        project_dir = self.project_dir_of(r.session.folder) if self.project_dir_of is not None else None
        fn = zero_shot_job(r.session.config, project.images, project.features, r.taxonomy, r.session.folder,
                           self.worker_threads, project_dir=project_dir)
        job = r.runner.worker.create("zero-shot", fn)
        job.background = True
        self._zs_job = job
        job.finished.connect(lambda out: self._zero_shot_done(project, out))
        job.failed.connect(lambda message, _tb: self._zero_shot_over(project, message))
        job.cancelled.connect(lambda: self._zero_shot_over(project, ""))
        r.runner.worker.start(job)

    def _foreground_started(self, *_) -> None:
        """A foreground job goes first: a running refit and the pictogram learning give way and start again after it."""
        if self._zs_job is not None:
            self._zs_retry = True
            self._zs_job.cancel()
        if self._job is not None:  # the first refit builds the k-NN graph (tens of seconds at 40,000 images)
            self._refit_retry = True
            self._job.cancel()

    def _resume_background(self) -> None:
        """Once no foreground job runs: restart the refit and the pictogram learning that gave way to one."""
        r = self.review
        if r.session is None or r.runner.busy():
            return
        if self._refit_retry and self._job is None:
            self._refit_retry = False
            self.schedule()
        if self._zs_retry and self._zs_job is None:
            self._zs_retry = False
            self._start_zero_shot()

    def zero_shot_running(self) -> bool:
        return self._zs_job is not None

    def _zero_shot_over(self, project, message: str) -> None:
        if project is not self.review.project:
            return
        self._zs_job = None
        self.zero_shot_note = message  # why there are none (shown in the center view, not the status line)

    def _zero_shot_done(self, project, out) -> None:
        if project is not self.review.project or self.review.session is None:
            return
        self._zs_job = None
        self.zero_shot, self.zero_shot_source = out
        s = self.review.session
        if (self.suggestions is None or not self.suggestions.classes) and not (s.cluster_names or s.image_labels):
            self.message.emit(f"Suggestions from the {self.zero_shot_source} are shown until your first decision",
                              5000)
            self.suggestions, self._votes, self.calibrated = self.zero_shot, {}, False
            self.disagreeing = np.zeros(0, np.int64)
            self.ready.emit()

    # ================================================================== reading
    def percent(self, confidence: float) -> str:
        """A confidence as the window writes it: "93%" calibrated, "≈93%" before calibration."""
        return f"{'' if self.calibrated else '≈'}{100 * confidence:.0f}%"

    def has_suggestions(self) -> bool:
        return self.suggestions is not None and bool(self.suggestions.classes)

    def cluster_suggestion(self, cid: int) -> tuple[Optional[str], float]:
        """The class suggested for cluster ``cid`` (its undecided images' vote) and its confidence."""
        s, session = self.suggestions, self.review.session
        if s is None or not s.classes or session is None or not session.has_cluster(cid):
            return None, 0.0
        if cid not in self._votes:
            from pipeline.suggest.decided import unmarked_members

            members = session.members(cid) if cid in session.cluster_names else unmarked_members(session, cid)
            self._votes[cid] = s.cluster_vote(members) if len(members) else (None, 0.0)
        return self._votes[cid]

    def image_suggestion(self, i: int) -> tuple[Optional[str], float]:
        s = self.suggestions
        if s is None or not s.classes or not 0 <= i < len(s.top):
            return None, 0.0
        return s.classes[int(s.top[i])], float(s.confidence[i])

    def disagreeing_in(self, cid: int) -> set[int]:
        """Images of cluster ``cid`` whose suggestion differs from its name."""
        session = self.review.session
        if session is None or not len(self.disagreeing) or cid not in session.cluster_names:
            return set()
        return set(self.disagreeing[session.assignments[self.disagreeing] == cid].tolist())

    # ================================================================== commands
    def accept_clusters(self, cids: Sequence[int]) -> bool:
        """Name each of ``cids`` with its suggestion (one undo step)."""
        r = self.review
        if r.session is None:
            return False
        picks = [(c, self.cluster_suggestion(c)[0]) for c in cids]
        picks = [(c, k) for c, k in picks if k is not None and r.session.cluster_names.get(c) != k]
        if not picks:
            self.message.emit("No suggestion to accept here yet (name a cluster first: suggestions learn from it)"
                              if not self.has_suggestions() else "Nothing to accept: the suggestion is its name already",
                              5000)
            return False
        if len(picks) == 1:
            c, k = picks[0]
            return r.attempt(lambda: r.session.name(c, k), select=[c],
                             text=f"Accept suggestion: {r.label(c)} is {r.taxonomy.name_of(k)}")
        return r.push_batch([lambda c=c, k=k: r.session.name(c, k) for c, k in picks],
                            f"Accept the suggestions of {len(picks)} clusters", select=[c for c, _ in picks])

    def plan(self, threshold: float, clusters: Optional[Iterable[int]] = None):
        """The bulk-accept plan at ``threshold`` (``pipeline.suggest.AcceptPlan``)."""
        from pipeline.suggest import AcceptPlan, bulk_accept_plan

        if self.review.session is None or not self.has_suggestions():
            return AcceptPlan(float(threshold))
        return bulk_accept_plan(self.review.session, self.suggestions, threshold,
                                clusters=None if clusters is None else list(clusters), declined=self.declined)

    def plan_sizes(self, thresholds: Iterable[float], clusters: Optional[Iterable[int]] = None) -> dict[float, int]:
        return {float(t): len(self.plan(t, clusters)) for t in thresholds}

    def apply_plan(self, plan, exclude: Iterable[int] = (), cut: Iterable[int] = ()) -> bool:
        """Apply ``plan`` minus ``exclude`` as one undo step; the excluded images are remembered as declined,
        except those in ``cut`` (left out by an "accept up to here" cut, not refused)."""
        r = self.review
        exclude = set(int(i) for i in exclude)
        refused = exclude - set(int(i) for i in cut)
        if r.session is None or len(plan) - len(exclude & set(plan.indices.tolist())) <= 0:
            self.message.emit("Nothing to accept", 3000)
            return False
        for g in plan.groups:
            for i in refused & set(g.indices.tolist()):
                self.declined.setdefault(i, set()).add(g.class_id)
        n_classes = len([g for g in plan.groups if set(g.indices.tolist()) - exclude])
        n = len(plan) - len(exclude & set(plan.indices.tolist()))
        text = (f"Accepted {n:,} suggestion{'s' if n != 1 else ''} above {plan.threshold:.0%} in "
                f"{n_classes} class{'es' if n_classes != 1 else ''}"
                + (f", {len(exclude):,} left out" if exclude else ""))
        if not r.attempt(lambda: plan.edit(r.session, exclude=exclude, text=text), text=text):
            return False
        self._shown.extend(plan.indices.tolist())  # the history counts the left-out ones as refused
        return True

    def sibling_groups(self, threshold: float, clusters: Optional[Iterable[int]] = None):
        """The dendrogram's branches whose clusters all get one class at ``threshold`` or more
        (``pipeline.suggest.SiblingGroup`` list; the cluster table's votes)."""
        from pipeline.clustering.stats_update import ensure_linkage
        from pipeline.suggest import sibling_groups

        r = self.review
        if r.session is None or r.stats is None or not self.has_suggestions():
            return []
        ensure_linkage(r.stats)  # the tree turn fills it in as well; a big tree may not have had it yet
        return sibling_groups(r.session, r.stats.linkage, r.stats.ids, self.cluster_suggestion, threshold,
                              clusters=None if clusters is None else list(clusters))

    def apply_siblings(self, groups, exclude: Iterable[int] = (), merge: bool = False) -> bool:
        """Name the unnamed clusters of ``groups`` but ``exclude`` with their group's class (``merge``:
        each group becomes one cluster), one undo step; the clusters left out refuse their group's class."""
        from pipeline.suggest import refuse_left_out, siblings_edit

        r = self.review
        drop = {int(c) for c in exclude}
        names = [c for g in groups for c in g.unnamed if c not in drop]
        if r.session is None or not names:
            self.message.emit("Nothing to name", 3000)
            return False
        n_classes = len({g.class_id for g in groups if set(g.unnamed) - drop})
        text = (f"{'Merged and named' if merge else 'Named'} {len(names):,} sibling cluster{'s' if len(names) != 1 else ''} "
                f"with their suggestions in {n_classes} class{'es' if n_classes != 1 else ''}"
                + (f", {len(drop):,} left out" if drop else ""))
        keep = [r.session.merge_target(c for c in g.clusters if c not in drop)
                for g in groups if set(g.unnamed) - drop] if merge else names
        if not r.attempt(lambda: siblings_edit(r.session, groups, exclude=drop, merge=merge), select=keep, text=text):
            return False
        refuse_left_out(r.session, groups, drop, self.declined)
        return True

    def queue_top(self):
        """The review queue's best item (``pipeline.suggest.QueueItem``), or ``None``."""
        from pipeline.suggest import Suggestions, review_queue

        r = self.review
        if r.session is None or r.project is None:
            return None
        s = self.suggestions if self.suggestions is not None else Suggestions.empty(len(r.session))
        items = review_queue(r.session, s, features=np.asarray(r.project.features), declined=self.declined)
        return items[0] if items else None

    def grow_candidates(self, cid: int, n: int = 120) -> np.ndarray:
        """Undecided images nearest to named cluster ``cid``, nearest first."""
        from pipeline.suggest import grow_candidates

        r = self.review
        if r.session is None or r.project is None or not r.session.has_cluster(cid):
            return np.zeros(0, np.int64)
        return grow_candidates(r.session, np.asarray(r.project.features), cid, n)

    def grow_accept(self, cid: int, candidates: np.ndarray, first_wrong: Optional[int]) -> bool:
        """Move every candidate before position ``first_wrong`` into ``cid`` (one undo step)."""
        from pipeline.suggest.grow import accept_prefix

        r = self.review
        take = accept_prefix(np.asarray(candidates, dtype=np.int64), first_wrong)
        if r.session is None or len(take) == 0:
            self.message.emit("Nothing to grow: the first image already does not belong", 4000)
            return False
        text = f"Grow {r.label(cid)}: {len(take):,} image{'s' if len(take) != 1 else ''} moved in"
        return r.attempt(lambda: r.session.move(take.tolist(), cid), select=[cid], text=text)
