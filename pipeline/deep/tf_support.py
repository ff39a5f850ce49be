"""TensorFlow-only helpers: ``tf.distribute`` strategies and GPU names.

Imported only when the Keras backend is tensorflow (see :mod:`pipeline.deep.runtime`);
no model code lives here.
"""
from __future__ import annotations

from typing import Optional

import tensorflow as tf


def gpu_names() -> list[str]:
    """``"GPU: <name>"`` for every GPU TensorFlow can see."""
    names = []
    for dev in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(dev)
            names.append(f"GPU: {details.get('device_name', dev.name)}")
        except Exception:  # details are best-effort
            names.append(f"GPU: {dev.name}")
    return names


def make_strategy(kind: str) -> Optional[tf.distribute.Strategy]:
    """The strategy for ``kind``: ``auto`` mirrors over 2+ local GPUs, else ``None``.

    ``mirrored``: one machine, all local GPUs. ``multiworker``: several machines,
    configured by the ``TF_CONFIG`` environment variable as TensorFlow documents.
    """
    if kind == "auto":
        return tf.distribute.MirroredStrategy() if len(tf.config.list_physical_devices("GPU")) > 1 else None
    if kind == "mirrored":
        return tf.distribute.MirroredStrategy()
    if kind == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown distribute strategy {kind!r}; use none, auto, mirrored or multiworker")
