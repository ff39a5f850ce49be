"""SimCLR-style contrastive representation learning on the user's own images ("simclr").

A compact CNN (:func:`pipeline.deep.networks.compact_cnn`) is trained so two random
augmentations of the same image (crop, rotation, perspective, colour jitter, blur;
no horizontal flip unless ``augment={"hflip": True}``) map close together and away
from the other images of the batch (NT-Xent loss, Chen et al. 2020). Features are the
encoder output (``4 * width`` dims), before the projection head.

Params: ``epochs``, ``batch_size``, ``width``, ``proj_dim``, ``temperature``, ``lr``,
``weight_decay``, ``augment`` (dict of :class:`AugmentConfig` fields).
"""
from __future__ import annotations

import numpy as np

from pipeline.features.registry import register
from pipeline.deep.augment import AugmentConfig, augment
from pipeline.deep.trained import TrainedExtractor


@register("simclr")
class SimCLRExtractor(TrainedExtractor):
    """Contrastive (SimCLR) encoder trained on the images passed to ``fit``."""

    def __init__(self, *, epochs: int = 30, batch_size: int = 256, width: int = 32, proj_dim: int = 64,
                 temperature: float = 0.2, lr: float = 2e-3, weight_decay: float = 1e-4, augment=None,
                 seed: int = 0, input_size: int = 32, cache_dir=None, distribute: str = "auto") -> None:
        self._set_common(seed, epochs, batch_size, input_size, cache_dir, distribute)
        self.width = width
        self.proj_dim = proj_dim
        self.temperature = temperature
        self.lr = lr
        self.weight_decay = weight_decay
        self.augment = augment

    def _build(self, input_size: int):
        import keras

        from pipeline.deep.networks import TwoViewModel, compact_cnn, mlp, nt_xent_loss

        width = int(self.width)
        encoder = compact_cnn(input_size, width, name="simclr_encoder")
        head = mlp(4 * width, (4 * width,), int(self.proj_dim), name="projection")
        model = TwoViewModel(encoder, head, name="simclr")
        model.compile(optimizer=keras.optimizers.AdamW(float(self.lr), weight_decay=float(self.weight_decay)),
                      loss=nt_xent_loss(float(self.temperature)))
        dummy = np.zeros((2, input_size, input_size, 3), dtype=np.uint8)
        model([dummy, dummy])  # build the weights so cached ones can be loaded
        return model, encoder

    def _train(self, model, images, rng, progress, cancel):
        from pipeline.deep.runtime import train_epochs

        cfg = AugmentConfig.from_params(self.augment)
        batch = int(self.batch_size)
        n = len(images) - len(images) % batch if len(images) >= batch else len(images)

        def epoch_data(epoch):
            order = rng.permutation(len(images))[:n]  # whole batches: every batch has negatives
            x = images[order]
            return [augment(x, rng, cfg), augment(x, rng, cfg)], np.zeros((n, 1), np.float32)

        return train_epochs(model, epoch_data, int(self.epochs), batch_size=batch,
                            progress=progress, cancel=cancel, stage=f"train:{self.name}")
