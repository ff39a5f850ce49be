"""Base class for feature extractors that train a Keras model on the user's images."""
from __future__ import annotations

import time
from typing import Any, Optional

import numpy as np
from sklearn.utils.validation import check_is_fitted

from pipeline.features.base import FeatureExtractor
from pipeline.core.progress import CancelToken, ProgressCallback, report
from pipeline.deep.model_cache import ModelCache, fingerprint
from pipeline.deep.runtime import (
    describe_device,
    predict_batches,
    resize_images,
    seed_everything,
    strategy_scope,
)

#: Parameters that change where or how fast a model trains, not what it learns.
_NON_MODEL_PARAMS = ("cache_dir", "distribute")


class TrainedExtractor(FeatureExtractor):
    """Trains on the images given to :meth:`fit`, then embeds any images.

    Subclasses declare their parameters as explicit ``__init__`` keywords (storing
    each under its own name, as scikit-learn estimators do; :meth:`_set_common` stores
    the common ones) and implement ``_build(input_size)`` returning
    ``(trainable_model, encoder)`` (trainable model compiled) and
    ``_train(model, images, rng, progress, cancel) -> list[float]``.

    Common parameters: ``seed``, ``epochs``, ``batch_size``, ``input_size`` (images are
    resized to it), ``cache_dir`` (``None``: the session cache; ``False``: none) and
    ``distribute`` (``none``/``auto``/``mirrored``/``multiworker``, tensorflow only).

    Set by ``fit``: ``encoder_``, ``history_`` (loss per epoch), ``train_seconds_``,
    ``from_cache_``, ``device_``.
    """

    def _set_common(self, seed, epochs, batch_size, input_size, cache_dir, distribute) -> None:
        self.seed = seed
        self.epochs = epochs
        self.batch_size = batch_size
        self.input_size = input_size
        self.cache_dir = cache_dir
        self.distribute = distribute

    # -- subclass hooks
    def _build(self, input_size: int):
        raise NotImplementedError

    def _train(self, model, images: np.ndarray, rng: np.random.Generator, progress, cancel) -> list[float]:
        raise NotImplementedError

    # -- FeatureExtractor
    def model_params(self) -> dict[str, Any]:
        """The parameters that decide what the model learns (the model-cache key)."""
        return {k: v for k, v in self.get_params().items() if k not in _NON_MODEL_PARAMS}

    def fit(self, images: np.ndarray, y=None, *, progress: Optional[ProgressCallback] = None,
            cancel: Optional[CancelToken] = None) -> "TrainedExtractor":
        x = resize_images(images, int(self.input_size))
        stage = f"train:{self.name}"
        seed_everything(int(self.seed))
        cache = ModelCache(self.cache_dir, self.name, self.model_params(), fingerprint(x))
        self.device_ = describe_device()
        with strategy_scope(self.distribute):
            model, encoder = self._build(int(self.input_size))
        info = cache.load(model)
        if info is not None:
            self.history_ = list(info.get("history", []))
            self.train_seconds_ = float(info.get("train_seconds", 0.0))
            self.from_cache_ = True
            for i, loss in enumerate(self.history_):
                report(progress, stage, i + 1, len(self.history_), "loaded from cache", epoch=i + 1, loss=loss)
        else:
            rng = np.random.default_rng(int(self.seed))
            t0 = time.perf_counter()
            self.history_ = self._train(model, x, rng, progress, cancel)
            self.train_seconds_ = time.perf_counter() - t0
            self.from_cache_ = False
            cache.save(model, {"history": self.history_, "train_seconds": self.train_seconds_,
                               "device": self.device_, "params": self.model_params()})
        self.encoder_ = encoder
        return self

    def transform(self, images: np.ndarray, *, progress: Optional[ProgressCallback] = None,
                  cancel: Optional[CancelToken] = None) -> np.ndarray:
        check_is_fitted(self, "encoder_")
        x = resize_images(images, int(self.input_size))
        return predict_batches(self.encoder_, x, batch_size=512, progress=progress, cancel=cancel,
                               stage=f"embed:{self.name}")
