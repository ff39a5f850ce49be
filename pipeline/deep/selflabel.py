"""A small CNN taught by the images' own first clustering, iterated ("selflabel_cnn").

DeepCluster / SCAN-style self-labelling on a laptop CPU: the images are clustered once
with hand-made features (multi-crop HOG, whitened PCA, L2, K-means with ``k``); in each of
``rounds`` rounds the ``keep`` fraction of every cluster nearest its centre become
pseudo-labels, a compact CNN (:func:`pipeline.deep.networks.compact_cnn`, ``width``
filters) with a fresh softmax head learns them for ``epochs`` epochs on augmented views
(:mod:`pipeline.deep.augment`, no mirror), and its embeddings are clustered again for the
next round's labels. Features are the final encoder's output (``4 * width`` dims).

Cost: ``rounds * epochs * keep * N`` training images; ``bench/results/unseen_selflabel.md`` has
the measured times and scores (on a loaded 2-core CPU it stayed below its HOG start, so no
preset uses it yet).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from pipeline.core.progress import check_cancel, report
from pipeline.deep.augment import AugmentConfig, augment
from pipeline.deep.trained import TrainedExtractor
from pipeline.features.registry import register

#: Start features: the multi-crop HOG of the unseen-data preset.
START_FEATURES = {"name": "hog_multicrop", "params": {"pool": "mean", "crops": [1.0, 0.9, 0.8, 0.7, 0.6]}}
_AUGMENT = {"crop_scale": 0.6, "rotation": 10.0, "perspective": 0.05, "grayscale_prob": 0.0}


def confident_pseudo_labels(x: np.ndarray, k: int, keep: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """K-means on ``x`` (PCA-whitened, L2); per cluster the ``keep`` fraction nearest its centre.

    Returns ``(indices, labels)`` of the kept samples.
    """
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    z = np.asarray(x, np.float64)
    z = PCA(min(100, z.shape[1], len(z) - 1), whiten=True, random_state=seed).fit_transform(z)
    z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-8)
    km = KMeans(k, n_init=3, random_state=seed).fit(z)
    dist = np.linalg.norm(z - km.cluster_centers_[km.labels_], axis=1)
    keep_idx = []
    for c in range(k):
        members = np.flatnonzero(km.labels_ == c)
        if len(members) == 0:
            continue
        n_keep = max(1, int(round(keep * len(members))))
        keep_idx.append(members[np.argsort(dist[members])[:n_keep]])
    idx = np.sort(np.concatenate(keep_idx))
    return idx, km.labels_[idx]


@register("selflabel_cnn")
class SelfLabelCNN(TrainedExtractor):
    """CNN trained on confident pseudo-labels of its own clusterings (see the module docstring)."""

    def __init__(self, *, k: Optional[int] = None, rounds: int = 2, epochs: int = 8, keep: float = 0.5,
                 width: int = 16, lr: float = 2e-3, batch_size: int = 128, augment=None, seed: int = 0,
                 input_size: int = 32, cache_dir=None, distribute: str = "auto") -> None:
        self._set_common(seed, epochs, batch_size, input_size, cache_dir, distribute)
        self.k = k
        self.rounds = rounds
        self.keep = keep
        self.width = width
        self.lr = lr
        self.augment = augment

    def _build(self, input_size: int):
        from pipeline.deep.networks import compact_cnn

        encoder = compact_cnn(input_size, int(self.width), name="selflabel_encoder", bn_momentum=0.9)
        return encoder, encoder

    def _train(self, model, images, rng, progress, cancel) -> list[float]:
        import keras

        from pipeline.deep.runtime import predict_batches, train_epochs
        from pipeline.features.registry import make_extractor

        if not 0 < float(self.keep) <= 1:
            raise ValueError(f"selflabel_cnn: keep must be a fraction in (0, 1], got {self.keep}")
        n = len(images)
        k = int(self.k) if self.k else int(np.clip(np.sqrt(n / 2), 2, 100))
        k = max(2, min(k, n // 2))
        seed = int(self.seed)
        cfg = AugmentConfig.from_params({**_AUGMENT, **(self.augment or {})})
        report(progress, "selflabel: first clustering", 0, 1)
        feats = make_extractor(START_FEATURES["name"], **START_FEATURES["params"]).fit_transform(images)
        history: list[float] = []
        for r in range(int(self.rounds)):
            check_cancel(cancel)
            idx, labels = confident_pseudo_labels(feats, k, float(self.keep), seed + r)
            report(progress, "selflabel", r, int(self.rounds), f"round {r + 1}: {len(idx)} pseudo-labels in {k} clusters")
            head = keras.layers.Dense(k, activation="softmax", name=f"pseudo_head{r}")
            inp = keras.Input(model.input_shape[1:])
            classifier = keras.Model(inp, head(model(inp)))
            classifier.compile(optimizer=keras.optimizers.Adam(float(self.lr)), loss="sparse_categorical_crossentropy")
            batch = int(self.batch_size)

            def epoch_data(epoch, idx=idx, labels=labels):
                order = rng.permutation(len(idx))
                return augment(images[idx[order]], rng, cfg), labels[order]

            history += train_epochs(classifier, epoch_data, int(self.epochs), batch_size=batch, progress=progress,
                                    cancel=cancel, stage=f"train:{self.name}")
            feats = predict_batches(model, images, batch_size=512, cancel=cancel)
        return history
