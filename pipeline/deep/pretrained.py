"""ImageNet-pretrained Keras backbones as frozen feature extractors ("pretrained").

Params: ``backbone`` (resnet50, resnet152, densenet201, efficientnetv2b0),
``weights`` (``"imagenet"``: the file in the Keras cache; a path to a ``.h5`` file;
``None``: random initialisation, only useful for shape checks), ``input_size``
(images are upscaled to it, default 96), ``batch_size``.

Weights are never downloaded here: when the file is missing :class:`MissingWeightsError`
says which file to fetch, from where, and where to put it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
from sklearn.utils.validation import check_is_fitted

from pipeline.features.base import FeatureExtractor
from pipeline.features.registry import register
from pipeline.core.progress import CancelToken, ProgressCallback
from pipeline.deep.runtime import describe_device, predict_batches, resize_images


class MissingWeightsError(FileNotFoundError):
    """Pretrained weights are not on this machine; the message says how to get them."""


@dataclass(frozen=True)
class Backbone:
    key: str
    constructor: str  # attribute of keras.applications
    module: str  # keras.applications submodule with preprocess_input
    file_name: str
    url: str


_KA = "https://storage.googleapis.com/tensorflow/keras-applications"
BACKBONES: dict[str, Backbone] = {
    "resnet50": Backbone("resnet50", "ResNet50", "resnet", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                         f"{_KA}/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    "resnet152": Backbone("resnet152", "ResNet152", "resnet",
                          "resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5",
                          f"{_KA}/resnet/resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    "densenet201": Backbone("densenet201", "DenseNet201", "densenet",
                            "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5",
                            f"{_KA}/densenet/densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    "efficientnetv2b0": Backbone("efficientnetv2b0", "EfficientNetV2B0", "efficientnet_v2",
                                 "efficientnetv2-b0_notop.h5", f"{_KA}/efficientnet_v2/efficientnetv2-b0_notop.h5"),
}


def keras_models_dir() -> Path:
    """``$KERAS_HOME/models`` or ``~/.keras/models``: where Keras caches downloaded weights."""
    home = os.environ.get("KERAS_HOME")
    base = Path(home) if home else Path(os.path.expanduser("~")) / ".keras"
    return base / "models"


def missing_weights_message(backbone: str, tried: Optional[str] = None) -> str:
    b = BACKBONES[backbone]
    target = keras_models_dir() / b.file_name
    where = f"'{tried}' does not exist" if tried else f"'{target}' does not exist"
    return (
        f"Pretrained weights for {backbone} are missing: {where}. "
        f"Download {b.file_name} from {b.url} and save it as {target} "
        f"(or pass weights='/path/to/{b.file_name}'). On a machine with internet access, "
        f"`keras.applications.{b.constructor}(include_top=False, weights='imagenet')` "
        f"downloads it into {target.parent}."
    )


def resolve_weights(backbone: str, weights: Any) -> Optional[str]:
    """Local path of the weights file for ``weights`` (``"imagenet"``, a path or ``None``)."""
    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; use one of {sorted(BACKBONES)}")
    if weights is None:
        return None
    if weights == "imagenet":
        path = keras_models_dir() / BACKBONES[backbone].file_name
        if not path.is_file():
            raise MissingWeightsError(missing_weights_message(backbone))
        return str(path)
    path = Path(os.path.expanduser(str(weights)))
    if not path.is_file():
        raise MissingWeightsError(missing_weights_message(backbone, tried=str(path)))
    return str(path)


def weights_status(backbone: str) -> tuple[bool, str]:
    """``(available, message)`` for the GUI: whether ImageNet weights are cached, and how to get them."""
    try:
        return True, f"{backbone}: weights found at {resolve_weights(backbone, 'imagenet')}"
    except MissingWeightsError as exc:
        return False, str(exc)


@register("pretrained")
class PretrainedExtractor(FeatureExtractor):
    """Global-average-pooled features of a frozen ImageNet backbone."""

    def __init__(self, *, backbone: str = "resnet50", weights: Optional[str] = "imagenet", input_size: int = 96,
                 batch_size: int = 64) -> None:
        self.backbone = backbone
        self.weights = weights
        self.input_size = input_size
        self.batch_size = batch_size

    def _build_model(self):
        import importlib

        import keras

        backbone = str(self.backbone).lower()
        path = resolve_weights(backbone, self.weights)  # raises before any Keras work
        b = BACKBONES[backbone]
        size = int(self.input_size)
        ctor = getattr(keras.applications, b.constructor)
        base = ctor(include_top=False, weights=None, input_shape=(size, size, 3), pooling="avg")
        if path is not None:
            base.load_weights(path)
        preprocess = importlib.import_module(f"keras.applications.{b.module}").preprocess_input
        inp = keras.Input((size, size, 3))
        out = base(preprocess(keras.ops.cast(inp, "float32")), training=False)
        return keras.Model(inp, out, name=f"pretrained_{backbone}")

    def fit(self, images, y=None, *, progress=None, cancel=None) -> "PretrainedExtractor":
        """Build the frozen backbone (nothing is trained); sets ``model_`` and ``device_``."""
        self.model_ = self._build_model()
        self.device_ = describe_device()
        return self

    def transform(self, images: np.ndarray, *, progress: Optional[ProgressCallback] = None,
                  cancel: Optional[CancelToken] = None) -> np.ndarray:
        check_is_fitted(self, "model_")
        x = resize_images(images, int(self.input_size))
        return predict_batches(self.model_, x, batch_size=int(self.batch_size), progress=progress, cancel=cancel,
                               stage=f"embed:pretrained:{self.backbone}")
