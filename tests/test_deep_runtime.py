"""Device description and the optional tf.distribute scope."""
import pytest

from pipeline.deep.runtime import describe_device, keras_backend, resize_images, strategy_scope


def test_describe_device_names_cpu_or_gpu_and_backend():
    text = describe_device()
    assert text.startswith(("CPU: ", "GPU: ")) and keras_backend() in text


def test_strategy_scope_defaults_to_plain_device():
    with strategy_scope("none") as strategy:
        assert strategy is None
    with strategy_scope(None) as strategy:
        assert strategy is None


def test_strategy_scope_rejects_unknown_names():
    if keras_backend() != "tensorflow":
        pytest.skip("strategies exist only on the tensorflow backend")
    with pytest.raises(ValueError, match="unknown distribute strategy"):
        with strategy_scope("bogus"):
            pass


def test_resize_images_checks_shape():
    import numpy as np

    out = resize_images(np.zeros((2, 20, 24, 3), np.uint8), 32)
    assert out.shape == (2, 32, 32, 3)
    with pytest.raises(ValueError):
        resize_images(np.zeros((2, 20, 24)), 32)
