"""The earlier study's autoencoders as feature extractors: ae_dense, ae_multilayer, ae_conv, ae_l1.

Each trains on the user's images (mean squared reconstruction error, Adam) and embeds
them as the 64-unit code. Params: ``epochs``, ``batch_size``, ``lr``, ``code_dim``,
``l1`` (ae_l1 only), plus the common ones of :class:`TrainedExtractor`.
"""
from __future__ import annotations

import numpy as np

from pipeline.features.registry import register
from pipeline.deep.trained import TrainedExtractor


class _Autoencoder(TrainedExtractor):
    kind = ""

    def __init__(self, *, epochs: int = 20, batch_size: int = 128, lr: float = 1e-3, code_dim: int = 64,
                 seed: int = 0, input_size: int = 32, cache_dir=None, distribute: str = "auto") -> None:
        self._set_common(seed, epochs, batch_size, input_size, cache_dir, distribute)
        self.lr = lr
        self.code_dim = code_dim

    def _build(self, input_size: int):
        import keras

        from pipeline.deep.networks import autoencoder

        extra = {"l1": float(self.l1)} if self.kind == "l1" else {}
        model, encoder = autoencoder(self.kind, input_size, int(self.code_dim), **extra)
        model.compile(optimizer=keras.optimizers.Adam(float(self.lr)), loss="mse")
        return model, encoder

    def _train(self, model, images, rng, progress, cancel):
        from pipeline.deep.runtime import train_epochs

        flat = self.kind != "conv"

        def epoch_data(epoch):
            order = rng.permutation(len(images))
            x = images[order]
            y = x.astype(np.float32) / 255.0
            return x, (y.reshape(len(y), -1) if flat else y)

        return train_epochs(model, epoch_data, int(self.epochs), batch_size=int(self.batch_size),
                            progress=progress, cancel=cancel, stage=f"train:{self.name}")


@register("ae_dense")
class DenseAutoencoder(_Autoencoder):
    """Input-64-input dense autoencoder."""

    kind = "dense"


@register("ae_multilayer")
class MultilayerAutoencoder(_Autoencoder):
    """512-128-64-128-512 dense autoencoder."""

    kind = "multilayer"


@register("ae_conv")
class ConvAutoencoder(_Autoencoder):
    """Three strided convolutions, a 64-unit code, and transposed convolutions back."""

    kind = "conv"


@register("ae_l1")
class SparseAutoencoder(_Autoencoder):
    """Dense autoencoder with an L1 activity penalty on the code."""

    kind = "l1"

    def __init__(self, *, epochs: int = 20, batch_size: int = 128, lr: float = 1e-3, code_dim: int = 64,
                 l1: float = 1e-5, seed: int = 0, input_size: int = 32, cache_dir=None,
                 distribute: str = "auto") -> None:
        super().__init__(epochs=epochs, batch_size=batch_size, lr=lr, code_dim=code_dim, seed=seed,
                         input_size=input_size, cache_dir=cache_dir, distribute=distribute)
        self.l1 = l1
