"""Bring your own embedding model: tiny ONNX and Keras models built here, nothing downloaded."""
import numpy as np
import pytest

from pipeline.features.embedding_model import ModelFileError
from pipeline.features.registry import make_extractor


def _images(n=5, size=20, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def _onnx_model(path, *, channels=3, side=8, nchw=True):
    """A graph that average-pools the image to 2x2 per channel and flattens it (dims 4*channels)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    shape = ["N", channels, side, side] if nchw else ["N", side, side, channels]
    nodes = []
    src = "image"
    if not nchw:
        nodes.append(helper.make_node("Transpose", ["image"], ["chw"], perm=[0, 3, 1, 2]))
        src = "chw"
    k = side // 2
    nodes += [helper.make_node("AveragePool", [src], ["pooled"], kernel_shape=[k, k], strides=[k, k]),
              helper.make_node("Flatten", ["pooled"], ["embedding"], axis=1)]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("image", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 4 * channels])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_onnx_model_gives_its_embeddings_in_batches(tmp_path):
    pytest.importorskip("onnxruntime")
    path = _onnx_model(tmp_path / "tiny.onnx")
    images = _images(7)
    ext = make_extractor("model_file", path=str(path), batch_size=3)
    feats = ext.fit_transform(images)
    assert feats.shape == (7, 12) and feats.dtype == np.float32
    assert ext.layout_ == "nchw" and ext.side_ == 8
    # the graph is a 2x2 average pool: the mean of the embedding is the mean of the resized image
    from PIL import Image

    small = np.stack([np.asarray(Image.fromarray(im).resize((8, 8), Image.BILINEAR)) for im in images])
    assert np.allclose(feats.mean(1), small.astype(np.float32).mean((1, 2, 3)) / 255.0, atol=1e-4)


def test_onnx_channels_last_is_detected(tmp_path):
    pytest.importorskip("onnxruntime")
    path = _onnx_model(tmp_path / "nhwc.onnx", nchw=False)
    ext = make_extractor("model_file", path=str(path)).fit(_images(2))
    assert ext.layout_ == "nhwc"
    assert ext.transform(_images(2)).shape == (2, 12)


def test_wrong_input_shape_is_refused_in_words(tmp_path):
    pytest.importorskip("onnxruntime")
    gray = _onnx_model(tmp_path / "gray.onnx", channels=1)
    with pytest.raises(ModelFileError, match="expects 1 input channels; RGB images have 3"):
        make_extractor("model_file", path=str(gray)).fit(_images(2))
    rgb = _onnx_model(tmp_path / "rgb.onnx")
    with pytest.raises(ModelFileError, match="expects 8 x 8 images, but input_size is 16"):
        make_extractor("model_file", path=str(rgb), input_size=16).fit(_images(2))


def test_missing_or_odd_files_are_refused_in_words(tmp_path):
    with pytest.raises(ModelFileError, match="model file not found"):
        make_extractor("model_file", path=str(tmp_path / "absent.onnx")).fit(_images(1))
    other = tmp_path / "weights.bin"
    other.write_bytes(b"\0" * 10)
    with pytest.raises(ModelFileError, match="use an .onnx or .keras model file"):
        make_extractor("model_file", path=str(other)).fit(_images(1))
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    pytest.importorskip("onnxruntime")
    with pytest.raises(ModelFileError, match="cannot load the ONNX model"):
        make_extractor("model_file", path=str(broken)).fit(_images(1))
    with pytest.raises(ModelFileError, match="needs path"):
        make_extractor("model_file").fit(_images(1))
    with pytest.raises(ModelFileError, match="scale must be one of"):
        make_extractor("model_file", path="x.onnx", scale="zscore").fit(_images(1))


def test_keras_model_file(tmp_path):
    import keras

    inp = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(inp)
    model = keras.Model(inp, x)  # a feature map: averaged over its spatial axes
    path = tmp_path / "enc.keras"
    model.save(path)
    ext = make_extractor("model_file", path=str(path), scale="symmetric", batch_size=4)
    feats = ext.fit_transform(_images(6))
    assert feats.shape == (6, 4) and np.isfinite(feats).all()
    assert ext.side_ == 12

    gray_in = keras.Input((12, 12, 1))
    gray = keras.Model(gray_in, keras.layers.GlobalAveragePooling2D()(gray_in))
    gray.save(tmp_path / "gray.keras")
    with pytest.raises(ModelFileError, match="expects 1 input channels"):
        make_extractor("model_file", path=str(tmp_path / "gray.keras")).fit(_images(1))


def test_a_model_file_runs_through_the_pipeline(tmp_path):
    pytest.importorskip("onnxruntime")
    from pipeline.config import PipelineConfig
    from pipeline.core.items import ImageItem, ImageSet
    from pipeline.run import run_pipeline

    path = _onnx_model(tmp_path / "tiny.onnx")
    dark = _images(10, seed=1) // 4
    bright = 255 - _images(10, seed=2) // 4
    images = np.concatenate([dark, bright])
    items = [ImageItem(f"{i}.png", "dark" if i < 10 else "bright") for i in range(20)]
    config = PipelineConfig(features=[{"name": "model_file", "params": {"path": str(path)}}], crop_roi=False, l2_normalize=False,
                            k=2, pca=None)
    result = run_pipeline(config, ImageSet(items, images), cache_dir=False)
    assert result.metrics["acc"] == 1.0
