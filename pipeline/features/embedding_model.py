"""Bring your own embedding model: a local ONNX or ``.keras`` file as a feature extractor.

Users with a modern image encoder (CLIP, SigLIP or DINOv2 exported to ONNX, or any Keras
model saved as ``.keras``) point ``path`` at the file; every image is resized to the
model's input size (or ``input_size``), scaled (``scale``: ``"unit"`` 0..1, ``"symmetric"``
-1..1, ``"imagenet"`` mean/std normalised, ``"raw"`` 0..255), laid out as the model wants
(``layout``: ``"auto"`` reads it from the input shape, or ``"nhwc"`` / ``"nchw"``) and run in
batches of ``batch_size``. Outputs of more than two dimensions are averaged over their
spatial axes. Nothing is downloaded; onnxruntime is the optional extra ``[onnx]``. The
model loads in :meth:`fit`, on whichever thread runs the pipeline (the window's worker).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
from sklearn.utils.validation import check_is_fitted

from pipeline.core.progress import check_cancel, report
from pipeline.features.base import FeatureExtractor
from pipeline.features.registry import register

SCALES = ("unit", "symmetric", "imagenet", "raw")
LAYOUTS = ("auto", "nhwc", "nchw")
_IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


class ModelFileError(ValueError):
    """The model file is missing, unreadable or does not take RGB images."""


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    if images.shape[1] == size and images.shape[2] == size:
        return images
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR)) for im in images])


def _scale(x: np.ndarray, scale: str) -> np.ndarray:
    x = x.astype(np.float32)
    if scale == "raw":
        return x
    x = x / 255.0
    if scale == "symmetric":
        return x * 2.0 - 1.0
    if scale == "imagenet":
        return (x - _IMAGENET_MEAN) / _IMAGENET_STD
    return x


class _OnnxModel:
    def __init__(self, path: Path):
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelFileError("ONNX models need onnxruntime: pip install 'cluster-review[onnx]'") from None
        try:
            self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelFileError(f"cannot load the ONNX model {path}: {str(exc).splitlines()[0]}") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ModelFileError(f"{path.name} takes {len(inputs)} inputs; an image encoder with one image input is needed")
        self.input_name = inputs[0].name
        self.shape = [d if isinstance(d, int) else None for d in inputs[0].shape]

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self.session.run(None, {self.input_name: batch})[0])


class _KerasModel:
    def __init__(self, path: Path):
        import keras

        try:
            self.model = keras.saving.load_model(str(path), compile=False)
        except Exception as exc:  # keras raises many kinds for a bad file
            raise ModelFileError(f"cannot load the Keras model {path}: {str(exc).splitlines()[0]}") from None
        shape = self.model.inputs[0].shape if getattr(self.model, "inputs", None) else None
        if shape is None or len(self.model.inputs) != 1:
            raise ModelFileError(f"{path.name}: an image encoder with one image input is needed")
        self.shape = [None if d is None else int(d) for d in shape]

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict_on_batch(batch))


def open_model(path: str):
    """The loaded model behind ``path`` (``.onnx`` or ``.keras``) with its input ``shape``."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ModelFileError(f"model file not found: {file}")
    suffix = file.suffix.lower()
    if suffix == ".onnx":
        return _OnnxModel(file)
    if suffix == ".keras":
        return _KerasModel(file)
    raise ModelFileError(f"{file.name}: use an .onnx or .keras model file")


def _layout_and_size(shape: list, layout: str, input_size: Optional[int], name: str) -> tuple[str, int]:
    """Where the channels go and the square side to resize to, checked against the model's input."""
    if len(shape) != 4:
        raise ModelFileError(f"{name} takes inputs of {len(shape)} dimensions; an image model takes "
                             "(batch, height, width, 3) or (batch, 3, height, width)")
    if layout == "auto":
        # channels are the small axis (1-4): at position 1 for NCHW, 3 for NHWC
        layout = "nchw" if shape[1] is not None and shape[1] <= 4 and (shape[3] is None or shape[3] > 4) else "nhwc"
    channels, h, w = (shape[1], shape[2], shape[3]) if layout == "nchw" else (shape[3], shape[1], shape[2])
    if channels not in (None, 3):
        raise ModelFileError(f"{name} expects {channels} input channels; RGB images have 3 "
                             f"(model input shape {shape})")
    if h is not None and w is not None and h != w:
        raise ModelFileError(f"{name} expects {h} x {w} inputs; only square inputs are supported")
    side = h or w
    if input_size and side and int(input_size) != side:
        raise ModelFileError(f"{name} expects {side} x {side} images, but input_size is {input_size}")
    side = int(input_size or side or 224)
    return layout, side


@register("model_file")
class ModelFileFeatures(FeatureExtractor):
    """Embeddings from a local ONNX / Keras model file (see the module docstring)."""

    def __init__(self, path: str = "", input_size: Optional[int] = None, scale: str = "unit", layout: str = "auto",
                 batch_size: int = 64):
        self.path = path
        self.input_size = input_size
        self.scale = scale
        self.layout = layout
        self.batch_size = batch_size

    def fit(self, images, y=None, *, progress=None, cancel=None) -> "ModelFileFeatures":
        if not self.path:
            raise ModelFileError("model_file needs path: the .onnx or .keras file of an image encoder")
        if self.scale not in SCALES:
            raise ModelFileError(f"scale must be one of {', '.join(SCALES)}, got {self.scale!r}")
        if self.layout not in LAYOUTS:
            raise ModelFileError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        self.model_ = open_model(self.path)
        self.layout_, self.side_ = _layout_and_size(self.model_.shape, self.layout, self.input_size, Path(self.path).name)
        return self

    def transform(self, images, *, progress=None, cancel=None) -> np.ndarray:
        check_is_fitted(self, "model_")
        out = []
        n = len(images)
        for start in range(0, n, int(self.batch_size)):
            check_cancel(cancel)
            x = _scale(_resize(images[start : start + int(self.batch_size)], self.side_), self.scale)
            if self.layout_ == "nchw":
                x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
            try:
                y = self.model_(x)
            except Exception as exc:  # the runtime's own error types
                raise ModelFileError(f"{Path(self.path).name} failed on a batch of shape {x.shape}: "
                                     f"{str(exc).splitlines()[0]}") from None
            if y.ndim > 2:  # a feature map: average the spatial axes
                y = y.mean(axis=tuple(range(2, y.ndim)) if self.layout_ == "nchw" else tuple(range(1, y.ndim - 1)))
            out.append(y.reshape(len(x), -1).astype(np.float32))
            report(progress, "features: model_file", min(start + int(self.batch_size), n), n)
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)
