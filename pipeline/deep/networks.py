"""Keras 3 network builders (backend-neutral: ``keras.layers`` and ``keras.ops`` only).

Every image model takes ``uint8``-valued ``(H, W, 3)`` inputs and rescales them itself,
so callers can keep data sets as compact ``uint8`` arrays.
"""
from __future__ import annotations

import keras
from keras import layers, ops


def _conv_bn(x, filters: int, name: str, momentum: float = 0.99):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def compact_cnn(input_size: int = 32, width: int = 32, name: str = "compact_cnn",
                bn_momentum: float = 0.99) -> keras.Model:
    """Small VGG-style encoder for 32-64 px inputs; output dimension ``4 * width``.

    Three stages (``width``, ``2*width``, ``4*width`` filters) with max-pooling, then
    global average pooling. About 30 MFLOP per 32 px image at ``width=32``.
    ``bn_momentum``: batch-norm moving-average momentum; short trainings (a few hundred
    steps) need a lower one (0.9) or the inference statistics stay near their initial values.
    """
    inp = keras.Input((input_size, input_size, 3), name="image")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inp)
    x = _conv_bn(x, width, "s1a", bn_momentum)
    x = _conv_bn(x, width, "s1b", bn_momentum)
    x = layers.MaxPooling2D()(x)
    x = _conv_bn(x, 2 * width, "s2a", bn_momentum)
    x = _conv_bn(x, 2 * width, "s2b", bn_momentum)
    x = layers.MaxPooling2D()(x)
    x = _conv_bn(x, 4 * width, "s3a", bn_momentum)
    x = _conv_bn(x, 4 * width, "s3b", bn_momentum)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, x, name=name)


def mlp(input_dim: int, hidden: tuple[int, ...], output_dim: int, *, output_activation=None,
        batchnorm: bool = True, name: str = "mlp") -> keras.Model:
    """Dense stack ``input_dim -> hidden... -> output_dim``."""
    inp = keras.Input((input_dim,), name=f"{name}_in")
    x = inp
    for i, units in enumerate(hidden):
        x = layers.Dense(units, use_bias=not batchnorm, name=f"{name}_d{i}")(x)
        if batchnorm:
            x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = layers.ReLU(name=f"{name}_relu{i}")(x)
    out = layers.Dense(output_dim, activation=output_activation, name=f"{name}_out")(x)
    return keras.Model(inp, out, name=name)


# --------------------------------------------------------------------------- autoencoders

AE_KINDS = ("dense", "multilayer", "conv", "l1")


def autoencoder(kind: str, input_size: int = 32, code_dim: int = 64, l1: float = 1e-4
                ) -> tuple[keras.Model, keras.Model]:
    """``(autoencoder, encoder)`` of the earlier study's four designs.

    ``dense``: input-64-input. ``multilayer``: 512-128-64-128-512. ``conv``: three
    strided convolutions, a 64-unit code, transposed convolutions back. ``l1``: the
    dense design with an L1 activity penalty on the code (sparse code). The
    autoencoder outputs pixels in [0, 1], flattened for the dense designs.
    """
    if kind not in AE_KINDS:
        raise ValueError(f"unknown autoencoder {kind!r}; use one of {AE_KINDS}")
    n_pix = input_size * input_size * 3
    inp = keras.Input((input_size, input_size, 3), name="image")
    x = layers.Rescaling(1.0 / 255.0)(inp)
    if kind == "conv":
        if input_size % 8:
            raise ValueError("the convolutional autoencoder needs an input size divisible by 8")
        h = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
        h = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(h)
        h = layers.Conv2D(128, 3, strides=2, padding="same", activation="relu")(h)
        h = layers.Flatten()(h)
        code = layers.Dense(code_dim, name="code")(h)
        s = input_size // 8
        d = layers.Dense(s * s * 128, activation="relu")(code)
        d = layers.Reshape((s, s, 128))(d)
        d = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(d)
        d = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(d)
        out = layers.Conv2DTranspose(3, 3, strides=2, padding="same", activation="sigmoid")(d)
    else:
        h = layers.Flatten()(x)
        hidden = (512, 128) if kind == "multilayer" else ()
        for units in hidden:
            h = layers.Dense(units, activation="relu")(h)
        reg = keras.regularizers.L1(l1) if kind == "l1" else None
        code = layers.Dense(code_dim, activation="relu", activity_regularizer=reg, name="code")(h)
        d = code
        for units in reversed(hidden):
            d = layers.Dense(units, activation="relu")(d)
        out = layers.Dense(n_pix, activation="sigmoid", name="reconstruction")(d)
    return keras.Model(inp, out, name=f"ae_{kind}"), keras.Model(inp, code, name=f"ae_{kind}_encoder")


# --------------------------------------------------------------------------- contrastive

class TwoViewModel(keras.Model):
    """Runs ``encoder`` + ``head`` on two views in one batch (shared batch-norm statistics).

    Input: ``[view_a, view_b]``; output: ``concat([head(a), head(b)], axis=-1)``, which the
    two-view losses below split again.
    """

    def __init__(self, encoder: keras.Model, head: keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.head = head

    def call(self, inputs, training=None):
        a, b = inputs
        n = ops.shape(a)[0]
        z = self.head(self.encoder(ops.concatenate([a, b], axis=0), training=training), training=training)
        return ops.concatenate([z[:n], z[n:]], axis=-1)


def nt_xent_loss(temperature: float = 0.2):
    """SimCLR's normalized-temperature cross entropy over the ``2B`` views of a batch."""

    def loss(y_true, y_pred):
        za, zb = ops.split(y_pred, 2, axis=-1)
        z = ops.concatenate([za, zb], axis=0)
        z = z / ops.maximum(ops.norm(z, axis=-1, keepdims=True), 1e-8)
        sim = ops.matmul(z, ops.transpose(z)) / temperature
        n2 = ops.shape(sim)[0]
        sim = sim - ops.eye(n2, dtype=sim.dtype) * 1e9
        pos = ops.sum(za / ops.maximum(ops.norm(za, axis=-1, keepdims=True), 1e-8)
                      * zb / ops.maximum(ops.norm(zb, axis=-1, keepdims=True), 1e-8), axis=-1) / temperature
        lse = ops.logsumexp(sim, axis=-1)
        half = n2 // 2
        return 0.5 * ((lse[:half] - pos) + (lse[half:] - pos))

    return loss


def mutual_information_loss(n_heads_dims: tuple[int, ...], entropy_weight: float = 1.0):
    """IIC loss summed over heads: ``-I(z_a; z_b)`` from each head's joint distribution.

    ``y_pred`` is ``concat([p_a, p_b])`` where each ``p`` concatenates the softmax of
    every head (sizes ``n_heads_dims``). ``entropy_weight`` < 1 weakens the push
    towards equal-size clusters (IIC's lambda).
    """

    def loss(y_true, y_pred):
        pa, pb = ops.split(y_pred, 2, axis=-1)
        total = 0.0
        start = 0
        for dim in n_heads_dims:
            a, b = pa[:, start : start + dim], pb[:, start : start + dim]
            start += dim
            joint = ops.matmul(ops.transpose(a), b) / ops.cast(ops.shape(a)[0], a.dtype)
            joint = (joint + ops.transpose(joint)) / 2.0
            joint = ops.maximum(joint, 1e-8)
            pi = ops.sum(joint, axis=1, keepdims=True)
            pj = ops.sum(joint, axis=0, keepdims=True)
            total = total - ops.sum(joint * (ops.log(joint) - entropy_weight * ops.log(pi)
                                             - entropy_weight * ops.log(pj)))
        # Keras averages per-sample losses: give every sample the batch value.
        return ops.zeros_like(y_pred[:, 0]) + total

    return loss


def scan_loss(n_heads: int, k: int, entropy_weight: float = 5.0):
    """SCAN: ``-log <p(anchor), p(neighbour)>`` plus ``entropy_weight * (-H(mean p))`` per head."""

    def loss(y_true, y_pred):
        pa, pn = ops.split(y_pred, 2, axis=-1)
        total = 0.0
        for h in range(n_heads):
            a, b = pa[:, h * k : (h + 1) * k], pn[:, h * k : (h + 1) * k]
            consistency = -ops.log(ops.maximum(ops.sum(a * b, axis=-1), 1e-7))
            marginal = ops.maximum(ops.mean(a, axis=0), 1e-7)
            neg_entropy = ops.sum(marginal * ops.log(marginal))
            total = total + consistency + entropy_weight * neg_entropy
        return total

    return loss


class ClusteringLayer(layers.Layer):
    """DEC soft assignment: Student-t kernel between embeddings and ``k`` learned centroids."""

    def __init__(self, k: int, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.k = k
        self.alpha = alpha

    def build(self, input_shape):
        self.centroids = self.add_weight(shape=(self.k, input_shape[-1]), initializer="glorot_uniform",
                                         name="centroids")

    def call(self, z):
        d2 = ops.sum(ops.square(ops.expand_dims(z, 1) - ops.expand_dims(self.centroids, 0)), axis=-1)
        q = ops.power(1.0 + d2 / self.alpha, -(self.alpha + 1.0) / 2.0)
        return q / ops.sum(q, axis=-1, keepdims=True)

    def get_config(self):
        return {**super().get_config(), "k": self.k, "alpha": self.alpha}
