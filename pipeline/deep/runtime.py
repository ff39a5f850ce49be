"""Keras runtime helpers shared by the deep models: seeding, device, training callback.

Everything here is backend-neutral; TensorFlow-only features (``tf.distribute``,
device listing) live in :mod:`pipeline.deep.tf_support` and are imported only when
Keras runs on the TensorFlow backend.
"""
from __future__ import annotations

import contextlib
import os
import platform
from typing import Any, Iterator, Optional

import numpy as np

from pipeline.core.progress import CancelToken, ProgressCallback, check_cancel, report


def keras_backend() -> str:
    """Name of the active Keras backend (``tensorflow``, ``jax``, ``torch``)."""
    import keras

    return keras.backend.backend()


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and the Keras backend so a run repeats exactly."""
    import keras

    keras.utils.set_random_seed(int(seed))


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def accelerators() -> list[str]:
    """Human-readable names of the GPUs the Keras backend can use (may be empty)."""
    backend = keras_backend()
    if backend == "tensorflow":
        from pipeline.deep import tf_support

        return tf_support.gpu_names()
    if backend == "jax":
        import jax

        return [f"{d.platform.upper()}: {getattr(d, 'device_kind', str(d))}" for d in jax.devices() if d.platform != "cpu"]
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return [f"GPU: {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())]
    return []


def describe_device() -> str:
    """Where training runs, e.g. ``"GPU: NVIDIA H100 (tensorflow)"`` or ``"CPU: <model>, 2 threads"``."""
    gpus = accelerators()
    if gpus:
        return f"{', '.join(gpus)} ({keras_backend()})"
    threads = os.environ.get("TF_NUM_INTRAOP_THREADS") or str(os.cpu_count() or 1)
    return f"CPU: {_cpu_model()}, {threads} threads ({keras_backend()})"


@contextlib.contextmanager
def strategy_scope(distribute: Optional[str]) -> Iterator[Any]:
    """Context in which models are built and compiled.

    ``distribute``: ``None``/``"none"`` (default device), ``"auto"`` (mirror across
    all local GPUs when there are several), ``"mirrored"`` or ``"multiworker"``.
    Only the TensorFlow backend distributes; other backends ignore ``"auto"`` and
    reject an explicit strategy.
    """
    if distribute in (None, "", "none"):
        yield None
        return
    if keras_backend() != "tensorflow":
        if distribute == "auto":
            yield None
            return
        raise ValueError(f"distribute={distribute!r} needs the tensorflow backend")
    from pipeline.deep import tf_support

    strategy = tf_support.make_strategy(distribute)
    if strategy is None:
        yield None
        return
    with strategy.scope():
        yield strategy


def make_progress_callback(
    progress: Optional[ProgressCallback],
    cancel: Optional[CancelToken],
    stage: str,
    total_epochs: int,
    history: list[float],
):
    """A Keras callback reporting ``{"epoch", "loss"}`` after each epoch and honouring ``cancel``.

    ``history`` receives each epoch's mean loss so callers can keep the training curve.
    """
    import keras

    class _ProgressCallback(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            check_cancel(cancel)

        def on_epoch_end(self, epoch, logs=None):
            loss = float((logs or {}).get("loss", np.nan))
            history.append(loss)
            report(
                progress,
                stage,
                len(history),
                total_epochs,
                f"epoch {len(history)}/{total_epochs} loss {loss:.4f}",
                epoch=len(history),
                loss=loss,
            )
            check_cancel(cancel)

    return _ProgressCallback()


def predict_batches(
    model,
    data: np.ndarray,
    *,
    batch_size: int = 256,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    stage: str = "embed",
) -> np.ndarray:
    """Run ``model`` over ``data`` in batches with progress and cancel; float32 output."""
    n = len(data)
    out = []
    for start in range(0, n, batch_size):
        check_cancel(cancel)
        batch = data[start : start + batch_size]
        m = len(batch)
        if m < batch_size and n > batch_size:  # pad: one input shape, no retracing
            batch = np.concatenate([batch, np.repeat(batch[-1:], batch_size - m, axis=0)])
        out.append(np.asarray(model.predict_on_batch(batch), dtype=np.float32)[:m])
        report(progress, stage, min(n, start + batch_size), n)
    if not out:
        return np.zeros((0,) + tuple(model.output.shape[1:]), dtype=np.float32)
    return np.concatenate(out, axis=0)


def train_epochs(
    model,
    epoch_data,
    epochs: int,
    *,
    batch_size: int,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    stage: str = "train",
) -> list[float]:
    """Train ``model`` (compiled) for ``epochs``; ``epoch_data(epoch) -> (x, y)``.

    The caller builds each epoch's (already shuffled, augmented) arrays, so runs are
    deterministic given its seeded generator. Returns the loss per epoch; progress gets
    ``metrics={"epoch", "loss"}`` after every epoch.
    """
    history: list[float] = []
    callback = make_progress_callback(progress, cancel, stage, epochs, history)
    for epoch in range(epochs):
        check_cancel(cancel)
        x, y = epoch_data(epoch)
        model.fit(x, y, batch_size=batch_size, epochs=epoch + 1, initial_epoch=epoch,
                  shuffle=False, verbose=0, callbacks=[callback])
    return history


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of a ``uint8 (N, H, W, 3)`` batch to ``size`` x ``size`` (no-op if equal)."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected images of shape (N, H, W, 3), got {images.shape}")
    if images.shape[1] == size and images.shape[2] == size:
        return images.astype(np.uint8, copy=False)
    from PIL import Image

    out = np.empty((len(images), size, size, 3), dtype=np.uint8)
    for i, img in enumerate(images):
        out[i] = np.asarray(Image.fromarray(img.astype(np.uint8)).resize((size, size), Image.BILINEAR))
    return out
