"""The background refit of class suggestions: a frozen copy of the decisions and the job function.

The UI thread keeps editing the live :class:`~pipeline.review.session.ReviewSession` while
the refit runs, so the job reads a :class:`SessionSnapshot` (copies of the assignments,
names, image labels and rejections: what :mod:`pipeline.suggest` reads) taken when it was
started, with the classes refused per image (``declined``) and the images of every
bulk-accept plan applied since the last snapshot (``shown``). The job builds the k-NN graph
once per project (``propagator`` ``None``), then ``calibrated_suggestions`` with the evidence
calibration (distance to the decisions, the zero-shot prior, the review's
:class:`~pipeline.suggest.history.SuggestionHistory`, which only the model thread touches);
it returns ``(propagator, suggestions, calibrated)``. Until
there are enough decisions to calibrate on (``pipeline.suggest.calibration.MIN_GROUPS``
named clusters) every calibrated confidence is 0; the raw confidence is used instead and
``calibrated`` is False, so the window can say the percentages are not calibrated yet. With
enough groups a calibration that maps everything to 0 is kept: it says no suggestion is
trustworthy yet.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Optional

import numpy as np


@dataclass
class SessionSnapshot:
    """The decisions of a session at one moment, with the ``ReviewSession`` reads pipeline.suggest uses."""

    assignments: np.ndarray
    cluster_names: dict
    image_labels: dict
    rejected: set
    declined: dict = field(default_factory=dict)  # image -> classes the reviewer refused for it
    shown: list = field(default_factory=list)  # images of the bulk-accept plans applied since the last snapshot

    @classmethod
    def of(cls, session, declined: Optional[dict] = None, shown=()) -> "SessionSnapshot":
        return cls(session.assignments.copy(), dict(session.cluster_names), dict(session.image_labels),
                   set(session.rejected), {int(i): set(c) for i, c in (declined or {}).items()},
                   [int(i) for i in shown])

    def __len__(self) -> int:
        return len(self.assignments)

    def members(self, cluster_id: int) -> np.ndarray:
        return np.flatnonzero(self.assignments == int(cluster_id))

    def cluster_ids(self) -> list[int]:
        return sorted(set(self.assignments.tolist()))


def calibration_groups(snapshot: SessionSnapshot) -> int:
    """Named clusters that calibration can hold out (those with members not labelled one by one)."""
    labelled = set(snapshot.image_labels) | snapshot.rejected
    return sum(1 for c in snapshot.cluster_names
               if any(int(i) not in labelled for i in snapshot.members(c).tolist()))


def suggestion_job(features, propagator, snapshot: SessionSnapshot, n_taxonomy: Optional[int],
                   threads: Optional[list] = None, history=None, zero_shot=None):
    """``fn(progress, cancel)`` for the model thread; appends its thread id to ``threads``.

    ``history``: the review's ``SuggestionHistory`` (told ``snapshot.shown``, then scored and
    kept by the refit); ``zero_shot``: the pictograms' ``Suggestions`` (the prior), or ``None``.
    """
    def job(progress, cancel):
        from pipeline.suggest import Propagator, calibrated_suggestions
        from pipeline.suggest.calibration import MIN_GROUPS

        if threads is not None:
            threads.append(threading.get_ident())
        if history is not None and snapshot.shown:  # first: a refit cancelled below still told the history
            history.shown(snapshot.shown)
        prop = propagator or Propagator().prepare(np.asarray(features), progress=progress, cancel=cancel)
        sugg = calibrated_suggestions(prop, snapshot, n_taxonomy=n_taxonomy or None, evidence=True, prior=zero_shot,
                                      history=history, declined=snapshot.declined, progress=progress, cancel=cancel)
        raw = sugg.raw_confidence
        if raw is not None and not sugg.confidence.any() and raw.any() and calibration_groups(snapshot) < MIN_GROUPS:
            return prop, replace(sugg, confidence=raw), False
        return prop, sugg, raw is not None

    return job


#: Zero-shot is skipped above this many images: refitting the reducer re-extracts every image's features.
ZERO_SHOT_MAX_IMAGES = 20_000
#: Renderings per class icon (the pipeline's default is 60; fewer keep the job to seconds).
ZERO_SHOT_RENDERS = 40


class ZeroShotSkipped(Exception):
    """Zero-shot suggestions do not apply to this project; the message says why, in words."""


#: Where the zero-shot suggestions came from when the run trained its self-trained prior.
SHARPENED_SOURCE = "pictograms the clustering learnt, sharpened on these images"


def zero_shot_job(config: dict, images, features, taxonomy, folder: str, threads: Optional[list] = None,
                  project_dir=None):
    """``fn(progress, cancel)``: zero-shot suggestions from the taxonomy's pictograms, before any decision.

    The project keeps the reduced features, not the fitted reducer that the icon renderings
    must pass through, so the job refits it on the project's working-size images (the
    pipeline's extractors and seed) and checks that it reproduces the stored features;
    returns ``(suggestions, where the icons came from)``. Features that already hold the
    icon classifier's scores (a ``pictogram_prior`` preset) are read instead, at any size
    (:func:`~pipeline.features.pictogram_prior.from_feature_scores`), or, when the run trained one
    (``project_dir``'s :mod:`pipeline.project.prior_cache`), its self-trained prior. Raises :class:`ZeroShotSkipped`
    when the project has no stored images, is too large, or the refit does not match.
    """
    def job(progress, cancel):
        from pipeline.config import PipelineConfig
        from pipeline.reduction import Reducer
        from pipeline.run import extract_features
        from pipeline.features.pictogram_prior import from_feature_scores
        from pipeline.suggest.zero_shot import ZeroShot, taxonomy_icons

        if threads is not None:
            threads.append(threading.get_ident())
        cfg = PipelineConfig.from_dict(dict(config))
        in_features = from_feature_scores(np.asarray(features, dtype=np.float32), cfg, folder)
        if in_features is not None:
            if project_dir is not None:
                from pipeline.project.prior_cache import load_prior, prior_key

                sharpened = load_prior(project_dir, prior_key(np.asarray(features)))
                if sharpened is not None and sharpened.classes == in_features.classes:
                    return sharpened, SHARPENED_SOURCE
            return in_features, "pictograms the clustering learnt"
        if images is None:
            raise ZeroShotSkipped("the project keeps no images to learn the pictograms' look from")
        if len(images) > ZERO_SHOT_MAX_IMAGES:
            raise ZeroShotSkipped(f"more than {ZERO_SHOT_MAX_IMAGES:,} images")
        icons, source = taxonomy_icons(folder, taxonomy)
        if not icons:
            raise ZeroShotSkipped("no class of the taxonomy has a pictogram")
        raw = extract_features(cfg, np.asarray(images), progress=progress, cancel=cancel, cache_dir=False)
        reducer = Reducer(pca=cfg.pca, whiten=cfg.whiten, l2=cfg.l2_normalize, seed=cfg.seed).fit(raw)
        stored = np.asarray(features, dtype=np.float32)
        again = reducer.transform(raw)
        if again.shape != stored.shape or not np.allclose(again, stored, atol=1e-3):
            raise ZeroShotSkipped("the stored features come from a model this window cannot rebuild")
        zs = ZeroShot(cfg, reducer, n_per_class=ZERO_SHOT_RENDERS, seed=cfg.seed).fit(icons)
        return zs.suggest(stored), source

    return job
