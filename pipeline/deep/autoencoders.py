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
    defaults = {"epochs": 20, "batch_size": 128, "lr": 1e-3, "code_dim": 64}

    def _build(self, input_size: int):
        import keras

        from pipeline.deep.networks import autoencoder

        extra = {"l1": float(self.p["l1"])} if self.kind == "l1" else {}
        model, encoder = autoencoder(self.kind, input_size, int(self.p["code_dim"]), **extra)
        model.compile(optimizer=keras.optimizers.Adam(float(self.p["lr"])), loss="mse")
        return model, encoder

    def _train(self, model, images, rng, progress, cancel):
        from pipeline.deep.runtime import train_epochs

        flat = self.kind != "conv"

        def epoch_data(epoch):
            order = rng.permutation(len(images))
            x = images[order]
            y = x.astype(np.float32) / 255.0
            return x, (y.reshape(len(y), -1) if flat else y)

        return train_epochs(model, epoch_data, int(self.p["epochs"]), batch_size=int(self.p["batch_size"]),
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
    defaults = {**_Autoencoder.defaults, "l1": 1e-5}
