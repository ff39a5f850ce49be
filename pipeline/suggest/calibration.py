"""Calibrated confidence: "above X %" should mean X % of those suggestions are right.

The propagation's raw confidence ranks images well but is not a probability. The
:class:`Calibrator` maps it to one with isotonic regression fitted on *held-out
decisions*: :func:`calibrated_suggestions` refits the :class:`Propagator` with a share of
the decided groups (whole clusters, since a cluster's images are near-copies of each other)
left out, asks it about those images, and learns how often a raw confidence was right.

    sugg = calibrated_suggestions(propagator, session)     # after every edit, on a worker
    sugg.confidence                                          # now a calibrated probability
    reliability_table(sugg.confidence, correct)              # predicted vs observed, per bin

Held-out decisions are easier than the undecided rest (the reviewer decides the big, dense
clusters first), so a map from the raw confidence alone is over-confident where bulk
accepts happen. With ``evidence=True`` the :class:`EvidenceCalibrator` (a logistic
regression, then smoothed isotonic steps) reads more than the raw confidence: the distance
to the decided groups and the zero-shot prior (:mod:`pipeline.suggest.novelty`), and learns
from what became of earlier suggestions (:mod:`pipeline.suggest.history`), refused classes
taken out first (:func:`~pipeline.suggest.propagation.exclude_declined`):

    history = SuggestionHistory()                              # one per open review
    sugg = calibrated_suggestions(prop, session, evidence=True, prior=zero_shot_suggestions,
                                  history=history, declined=declined)
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Optional

import numpy as np

from pipeline.suggest.propagation import Propagator, Suggestions, exclude_declined

#: Fewer held-out images than this and the identity map is kept (too little evidence).
MIN_HELD_OUT = 30
#: Fewer decided groups (clusters) than this and nothing is calibrated yet.
MIN_GROUPS = 60


class Calibrator:
    """Monotone map from raw confidence to the observed share of right suggestions."""

    def __init__(self) -> None:
        self.x_: Optional[np.ndarray] = None
        self.y_: Optional[np.ndarray] = None
        self.n_: int = 0

    def fit(self, raw: np.ndarray, correct: np.ndarray, weight: Optional[np.ndarray] = None) -> "Calibrator":
        """Learn from raw confidences and whether each suggestion was right (optionally weighted)."""
        from sklearn.isotonic import IsotonicRegression

        raw = np.asarray(raw, dtype=np.float64)
        correct = np.asarray(correct, dtype=np.float64)
        weight = np.ones(len(raw)) if weight is None else np.asarray(weight, dtype=np.float64)
        self.n_ = len(raw)
        if self.n_ < MIN_HELD_OUT:
            self.x_ = self.y_ = None
            return self
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
        iso.fit(raw, correct, sample_weight=weight)
        self.x_ = np.asarray(iso.X_thresholds_, dtype=np.float64)
        # shrink towards caution where a step rests on few images: (hits + 1) / (n + 2) per block
        self.y_ = _smoothed_steps(raw, correct, weight, self.x_, np.asarray(iso.y_thresholds_, dtype=np.float64))
        return self

    @property
    def fitted(self) -> bool:
        return self.x_ is not None

    def transform(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probability for each raw confidence.

        Before a useful fit (too few held-out decisions) nothing is vouched for: every
        confidence maps to 0, so no bulk accept is offered until the evidence exists.
        """
        raw = np.asarray(raw, dtype=np.float64)
        if self.x_ is None:
            return np.zeros(raw.shape, np.float32)
        return np.interp(raw, self.x_, self.y_).astype(np.float32)

    def apply(self, suggestions: Suggestions) -> Suggestions:
        """The same suggestions with calibrated confidence (the raw one kept in ``raw_confidence``)."""
        return replace(suggestions, confidence=self.transform(suggestions.confidence),
                       raw_confidence=suggestions.confidence)


class ReviewFeedback:
    """What the reviewer said about shown suggestions: the best calibration evidence there is.

    Held-out decisions are the images the reviewer chose to decide (big, clean clusters),
    easier than the undecided rest; the suggestions a reviewer accepted or refused on a
    bulk-accept plan are a sample of exactly the images the next plan will show.
    ``keep_last``: how many reviewed plans are kept (older ones describe an older model).
    """

    def __init__(self, keep_last: int = 3) -> None:
        self.keep_last = keep_last
        self._raw: list[np.ndarray] = []
        self._right: list[np.ndarray] = []

    def __len__(self) -> int:
        return int(sum(len(r) for r in self._raw))

    def record(self, suggestions: Suggestions, accepted, refused) -> None:
        """Record a reviewed plan: ``accepted`` suggestions were right, ``refused`` ones wrong."""
        raw = suggestions.confidence if suggestions.raw_confidence is None else suggestions.raw_confidence
        acc = np.asarray(list(accepted), dtype=np.int64)
        ref = np.asarray(list(refused), dtype=np.int64)
        self._raw.append(np.concatenate([raw[acc], raw[ref]]).astype(np.float64))
        self._right.append(np.concatenate([np.ones(len(acc)), np.zeros(len(ref))]))
        # the model improves with every decision: only the latest plans describe it
        del self._raw[:-self.keep_last], self._right[:-self.keep_last]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._raw:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(self._raw), np.concatenate(self._right)


def _smoothed_steps(raw, correct, weight, xs, ys) -> np.ndarray:
    """Per isotonic block, replace the mean by a Laplace-smoothed one (monotone again after)."""
    if len(xs) == 0:
        return ys
    block = np.clip(np.searchsorted(xs, raw, side="right") - 1, 0, len(xs) - 1)
    hits = np.bincount(block, weights=correct * weight, minlength=len(xs))
    n = np.bincount(block, weights=weight, minlength=len(xs))
    smooth = np.where(n > 0, (hits + 1.0) / (n + 2.0), ys)
    return np.maximum.accumulate(smooth)


def held_out_groups(groups: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask over decided images: ``True`` for those in a random ``fraction`` of the groups."""
    uniq = np.unique(groups)
    rng = np.random.default_rng(seed)
    n_out = int(round(fraction * len(uniq)))
    if n_out == 0 or n_out >= len(uniq):
        return np.zeros(len(groups), dtype=bool)
    out = rng.choice(uniq, n_out, replace=False)
    return np.isin(groups, out)


def held_out_split(classes: np.ndarray, groups: np.ndarray, eligible: np.ndarray, *, fraction: float, seed: int,
                   n_taxonomy: Optional[int]) -> tuple[np.ndarray, np.ndarray, float]:
    """``(held out, held out as a whole class, unseen share)`` masks over the decisions.

    A random ``fraction`` of the eligible groups is held out; with ``n_taxonomy`` a
    ``fraction`` of the decided classes is held out whole too (they stand for the classes
    nobody has named yet, weighted by ``unseen share``: the taxonomy's unnamed part).
    """
    rng = np.random.default_rng(seed)
    names = np.unique(classes)
    unseen_share = 0.0 if not n_taxonomy else max(0.0, 1.0 - len(names) / float(n_taxonomy))
    out_cls = np.zeros(len(classes), dtype=bool)
    if unseen_share >= 0.02 and len(names) >= 4:
        held = rng.choice(names, max(1, int(round(fraction * len(names)))), replace=False)
        out_cls = np.isin(classes, held) & eligible
    out_grp = np.zeros(len(classes), dtype=bool)
    out_grp[eligible] = held_out_groups(groups[eligible], fraction, seed)
    out_grp &= ~out_cls
    return out_cls | out_grp, out_cls, unseen_share


def _weights(out: np.ndarray, out_cls: np.ndarray, unseen_share: float) -> np.ndarray:
    """Held-out classes carry ``unseen_share`` of the total weight, the held-out groups the rest."""
    weight = np.ones(int(out.sum()), np.float64)
    if out_cls.any():
        in_cls = out_cls[out]
        weight[in_cls] = unseen_share / in_cls.sum()
        weight[~in_cls] = (1.0 - unseen_share) / max((~in_cls).sum(), 1)
        weight *= len(weight)
    return weight


def fit_calibrator(
    propagator: Propagator, indices: np.ndarray, classes: list[str], groups: np.ndarray,
    *, fraction: float = 0.25, seed: int = 0, n_taxonomy: Optional[int] = None,
    eligible: Optional[np.ndarray] = None, feedback: Optional[ReviewFeedback] = None,
    min_groups: int = MIN_GROUPS, prior=None, evidence: bool = False, history=None,
):
    """A calibrator from one held-out refit: fit on the kept decisions, score the rest.

    A random ``fraction`` of the decided groups is held out. With ``n_taxonomy`` (how many
    classes the taxonomy has) a ``fraction`` of the decided *classes* is held out whole too:
    their images stand for the undecided images of classes nobody has named yet (they can
    only be suggested wrongly), weighted to the share of the taxonomy still unnamed. Fewer
    than :data:`MIN_GROUPS` decided groups, or :data:`MIN_HELD_OUT` held-out images, give an
    unfitted calibrator (every confidence 0).

    ``eligible`` (mask over the decisions) limits who may be held out. Images accepted
    *because* their suggestion was confident must not be: they are the easy ones, and
    scoring on them would make the calibration over-confident. They always stay in the fit.
    ``feedback`` (reviewed plans) is pooled in, each reviewed image weighing as much as
    all held-out images together divided by their count (i.e. 1); once it holds
    :data:`MIN_HELD_OUT` images it alone suffices.
    ``evidence``: return an :class:`EvidenceCalibrator` (raw confidence, distance to the
    decided groups and, with ``prior``, the zero-shot suggestions; no feedback) instead of
    the isotonic :class:`Calibrator`.
    """
    indices = np.asarray(indices, dtype=np.int64)
    cent_groups = np.asarray(groups)
    cls = np.asarray(classes, dtype=object)
    eligible = np.ones(len(indices), dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    groups = np.where(eligible, groups, -1)
    if evidence:
        return _fit_evidence(propagator, indices, cls, cent_groups, groups, eligible, fraction=fraction, seed=seed,
                             n_taxonomy=n_taxonomy, min_groups=min_groups, prior=prior, history=history)
    fb_raw, fb_right = feedback.arrays() if feedback is not None else (np.zeros(0), np.zeros(0))
    if len(np.unique(groups[eligible])) < min_groups:
        return Calibrator().fit(fb_raw, fb_right)
    out, out_cls, unseen_share = held_out_split(cls, groups, eligible, fraction=fraction, seed=seed,
                                                n_taxonomy=n_taxonomy)
    if out.sum() < MIN_HELD_OUT or (~out).sum() == 0 or not (out & ~out_cls).any():
        return Calibrator().fit(fb_raw, fb_right)
    s = propagator.fit(indices[~out], list(cls[~out]))
    held = indices[out]
    right = np.asarray(s.classes, dtype=object)[s.top[held]] == cls[out]
    weight = _weights(out, out_cls, unseen_share)
    raw = np.concatenate([s.confidence[held], fb_raw])
    right = np.concatenate([right, fb_right.astype(bool)])
    return Calibrator().fit(raw, right, np.concatenate([weight, np.ones(len(fb_raw))]))


def _fit_evidence(propagator, indices, cls, cent_groups, groups, eligible, *, fraction, seed, n_taxonomy,
                  min_groups, prior, history) -> "EvidenceCalibrator":
    """:func:`fit_calibrator`'s evidence branch: held-out decisions plus the history's records."""
    from pipeline.suggest.novelty import evidence as evidence_of, group_centroids

    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    enough_history = history is not None and len(history) >= history.alone
    if len(np.unique(groups[eligible])) >= min_groups and not enough_history:
        out, out_cls, unseen_share = held_out_split(cls, groups, eligible, fraction=fraction, seed=seed,
                                                    n_taxonomy=n_taxonomy)
        if out.sum() >= MIN_HELD_OUT and (~out).sum() > 0 and (out & ~out_cls).any():
            s = propagator.fit(indices[~out], list(cls[~out]))
            held = indices[out]
            feats = propagator.features_[:, :-1]
            cent = group_centroids(feats, indices[~out], cls[~out], cent_groups[~out])
            right = np.asarray(s.classes, dtype=object)[s.top[held]] == cls[out]
            parts.append((evidence_of(feats, held, s, cent, prior), right, _weights(out, out_cls, unseen_share)))
    if history is not None and len(history):
        from pipeline.suggest.novelty import COLUMNS

        # this refit's evidence width: the zero-shot columns exist only with a prior (which the
        # window learns in the background, so records from before it came are narrower)
        n_cols = len(COLUMNS) if prior is not None and prior.classes else len(COLUMNS) - 2
        if history.rows.shape[1] == n_cols:
            parts.append((history.rows, history.right, np.full(len(history), history.weight)))
    if not parts:
        return EvidenceCalibrator()
    ev, right, weight = (np.concatenate(p) for p in zip(*parts))
    return EvidenceCalibrator().fit(ev, right, weight)


class EvidenceCalibrator:
    """Logistic regression from :mod:`pipeline.suggest.novelty`'s evidence to P(right).

    Unlike the 1-D isotonic map it can say "same raw confidence, but far from every
    decision, or where the pictograms point to a class nobody has named: less likely".
    Unfitted (too little evidence): every probability 0. Fitted: ``model_``.
    """

    def __init__(self, c: float = 1.0) -> None:
        self.c = c
        self.model_ = None
        self.steps_: Optional[Calibrator] = None
        self.constant_: Optional[float] = None
        self.n_ = 0

    @property
    def fitted(self) -> bool:
        return self.model_ is not None or self.constant_ is not None

    def fit(self, ev: np.ndarray, correct: np.ndarray, weight: Optional[np.ndarray] = None) -> "EvidenceCalibrator":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        correct = np.asarray(correct, dtype=bool)
        weight = np.ones(len(correct)) if weight is None else np.asarray(weight, dtype=np.float64)
        self.n_ = len(correct)
        self.model_ = self.constant_ = None
        if self.n_ < MIN_HELD_OUT:
            return self
        if correct.all() or not correct.any():
            self.constant_ = float((np.sum(weight * correct) + 1.0) / (weight.sum() + 2.0))
            return self
        self.model_ = make_pipeline(StandardScaler(), LogisticRegression(C=self.c, max_iter=500))
        self.model_.fit(ev, correct, logisticregression__sample_weight=weight)
        # the logistic curve extrapolates to 1.0 where the records are few: map its score
        # through the smoothed isotonic steps of the same records, which never exceed them
        self.steps_ = Calibrator().fit(self.model_.predict_proba(ev)[:, 1], correct, weight)
        return self

    def predict(self, ev: np.ndarray) -> np.ndarray:
        if self.model_ is not None:
            return self.steps_.transform(self.model_.predict_proba(ev)[:, 1])
        return np.full(len(ev), self.constant_ or 0.0, np.float32)


def calibrated_suggestions(
    propagator: Propagator, session, *, fraction: float = 0.25, seed: int = 0,
    n_taxonomy: Optional[int] = None, feedback: Optional[ReviewFeedback] = None,
    min_groups: int = MIN_GROUPS, prior=None, evidence: bool = False,
    history=None, declined: Optional[dict] = None, open_set: bool = False, **kw
) -> Suggestions:
    """Propagation from every decision in ``session``, confidence calibrated on held-out decisions.

    Two refits, spread in one graph product (:meth:`Propagator.also_fit`); the evidence adds one
    distance product per refit. Only images decided by naming
    their cluster are held out (groups = clusters); image labels (bulk accepts, moves) are
    always learnt from, never scored.
    ``n_taxonomy``: the taxonomy's class count; ``feedback``: the reviewed plans so far
    (see :func:`fit_calibrator`). ``evidence``: calibrate with :class:`EvidenceCalibrator`
    (distance to the decisions, and with ``prior``, the zero-shot suggestions, weigh in);
    ``history`` (a :class:`~pipeline.suggest.history.SuggestionHistory` kept across refits)
    and ``declined`` (image -> classes refused for it): score the previous refit's
    suggestions against what was decided or refused since, and calibrate on that too.
    ``open_set`` (with ``evidence`` and ``prior``): the prior also suggests the classes nobody
    has named yet (:func:`~pipeline.suggest.open_set.with_unnamed_classes`).
    """
    from pipeline.suggest.decided import decided_labels

    t0 = time.perf_counter()
    idx, cls = decided_labels(session)
    if len(idx) == 0:
        return propagator.fit(idx, cls, **kw)
    labelled = np.fromiter(session.image_labels, dtype=np.int64, count=len(session.image_labels))
    groups = np.asarray(session.assignments)[idx]
    eligible = ~np.isin(idx, labelled)
    if evidence and history is not None:
        history.update(idx, cls, declined)
    propagator.also_fit(idx, cls)  # spread with the held-out fit below, in one product
    calibrator = fit_calibrator(propagator, idx, cls, groups, fraction=fraction, seed=seed,
                                n_taxonomy=n_taxonomy, eligible=eligible, feedback=feedback,
                                min_groups=min_groups, prior=prior, evidence=evidence, history=history)
    full = propagator.fit(idx, cls, **kw)
    if evidence:
        from pipeline.suggest.novelty import evidence as evidence_of, group_centroids

        if open_set:
            from pipeline.suggest.open_set import with_unnamed_classes

            full = with_unnamed_classes(full, prior)
        full = exclude_declined(full, declined)  # a refused class is never suggested again
        out = replace(full, confidence=np.zeros(len(full.confidence), np.float32), raw_confidence=full.confidence)
        if calibrator.fitted or history is not None:
            feats = propagator.features_[:, :-1]
            ev = evidence_of(feats, np.arange(len(feats)), full, group_centroids(feats, idx, cls, groups), prior)
            if calibrator.fitted:
                out.confidence = calibrator.predict(ev)
            if history is not None:
                history.remember(ev, np.asarray(full.classes, dtype=object)[full.top], idx, declined)
    else:
        out = calibrator.apply(full)
    out.fit_seconds = time.perf_counter() - t0  # everything: both fits, evidence, calibration
    return out


def reliability_table(confidence: np.ndarray, correct: np.ndarray, edges=(0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 1.0001)):
    """Rows ``(low, high, images, mean predicted, observed share right)`` per confidence bin."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (confidence >= lo) & (confidence < hi)
        if m.any():
            rows.append((lo, min(hi, 1.0), int(m.sum()), float(confidence[m].mean()), float(correct[m].mean())))
    return rows
