"""IIC, Invariant Information Clustering (Ji et al. 2019), as clustering method "iic".

A compact CNN with two softmax heads (``k`` clusters and ``overcluster`` x ``k``
over-clustering clusters) is trained from the images so that the assignments of two
augmented views of each image have maximal mutual information. ``entropy_weight`` is
IIC's lambda: values below 1 weaken the pull towards equal cluster sizes, but on GTSRB
(3,000 images, 8 epochs) lambda 0.9 collapsed to 2 clusters, so the default stays 1. Needs ``images``; the ``features`` argument only fixes N.
The trained network is saved in ``cache_dir`` (``None``: the session cache; ``False``:
nowhere) and reused for the same images and parameters.
"""
from __future__ import annotations

import numpy as np

from pipeline.clustering.registry import register_method
from pipeline.core.progress import check_cancel, report
from pipeline.deep.augment import AugmentConfig, augment
from pipeline.deep.head_utils import consecutive


@register_method("iic", needs_k=True)
def iic_cluster(features, k, *, seed=0, images=None, progress=None, cancel=None, epochs=20, batch_size=256,
                width=16, overcluster=3, entropy_weight=1.0, lr=1e-3, input_size=32, cache_dir=None):
    """IIC labels for ``images`` (main head); curve under stage ``iic``."""
    import keras

    from pipeline.deep.networks import TwoViewModel, compact_cnn, mutual_information_loss
    from pipeline.deep.model_cache import ModelCache, fingerprint
    from pipeline.deep.runtime import predict_batches, resize_images, seed_everything, train_epochs

    if images is None:
        raise ValueError("iic trains on images: pass images= (the working-size uint8 batch)")
    x = resize_images(images, int(input_size))
    if features is not None and len(features) != len(x):
        raise ValueError("features and images must have the same length")
    k = int(k)
    dims = (k, max(k, int(overcluster) * k))
    seed_everything(int(seed))
    rng = np.random.default_rng(int(seed))
    width = int(width)
    encoder = compact_cnn(int(input_size), width, name="iic_encoder")
    feat = keras.Input((4 * width,))
    heads = keras.Model(feat, keras.layers.Concatenate()(
        [keras.layers.Dense(dim, activation="softmax", name=f"head_{dim}")(feat) for dim in dims]))
    model = TwoViewModel(encoder, heads, name="iic")
    model.compile(optimizer=keras.optimizers.Adam(float(lr)),
                  loss=mutual_information_loss(dims, float(entropy_weight)))
    weak, strong = AugmentConfig.weak(), AugmentConfig()
    batch = int(batch_size)
    n = len(x)
    usable = n - n % batch if n >= batch else n

    def view_data(epoch):
        order = rng.permutation(n)[:usable]
        return [augment(x[order], rng, weak), augment(x[order], rng, strong)], np.zeros((usable, 1), np.float32)

    params = {"k": k, "seed": int(seed), "epochs": int(epochs), "batch_size": batch, "width": width,
              "overcluster": int(overcluster), "entropy_weight": float(entropy_weight), "lr": float(lr)}
    cache = ModelCache(cache_dir, "iic", params, fingerprint(x))
    dummy = np.zeros((2,) + x.shape[1:], np.uint8)
    model([dummy, dummy])  # build before loading cached weights
    info = cache.load(model)
    if info is None:
        history = train_epochs(model, view_data, int(epochs), batch_size=batch, progress=progress, cancel=cancel,
                               stage="iic")
        cache.save(model, {"history": history, "params": params})
    else:
        for i, loss in enumerate(info.get("history", [])):
            report(progress, "iic", i + 1, len(info["history"]), "loaded from cache", epoch=i + 1, loss=loss)
    check_cancel(cancel)
    main = keras.Model(encoder.input, heads(encoder.output))
    probs = predict_batches(main, x, batch_size=512, cancel=cancel, stage="iic:assign")[:, :k]
    return consecutive(probs.argmax(axis=1))
