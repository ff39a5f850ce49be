"""DEC, Deep Embedded Clustering (Xie et al. 2016), as clustering method "dec".

On the given features: (1) pretrain a dense autoencoder (MSE); (2) K-means on its code
initialises ``k`` centroids; (3) fine-tune encoder and centroids by minimising
KL(P || Q), where Q is the Student-t soft assignment and P the sharpened target
``p_ij ∝ q_ij² / f_j`` (``f_j`` soft cluster frequency), recomputed every epoch;
stop when fewer than ``tol`` of the labels change.
"""
from __future__ import annotations

import numpy as np

from pipeline.clustering.registry import register_method
from pipeline.core.progress import check_cancel, report
from pipeline.deep.head_utils import check_inputs, consecutive, standardize


def target_distribution(q: np.ndarray) -> np.ndarray:
    """DEC's sharpened targets: ``q² / f`` renormalised per sample."""
    weight = q**2 / q.sum(axis=0)
    return (weight.T / weight.sum(axis=1)).T.astype(np.float32)


@register_method("dec", needs_k=True)
def dec_cluster(features, k, *, seed=0, images=None, progress=None, cancel=None, latent_dim=32,
                hidden=(256, 128), pretrain_epochs=30, epochs=40, batch_size=256, lr=1e-3, tol=0.001,
                alpha=1.0):
    """DEC labels for ``features``; training curves go to ``progress`` (stages ``dec:pretrain``, ``dec``)."""
    import keras
    from sklearn.cluster import KMeans

    from pipeline.deep.networks import ClusteringLayer, mlp
    from pipeline.deep.runtime import seed_everything, train_epochs

    x = standardize(check_inputs(features, k))
    seed_everything(int(seed))
    rng = np.random.default_rng(int(seed))
    n, d = x.shape
    hidden = tuple(int(h) for h in hidden)
    encoder = mlp(d, hidden, int(latent_dim), batchnorm=False, name="dec_encoder")
    decoder = mlp(int(latent_dim), tuple(reversed(hidden)), d, batchnorm=False, name="dec_decoder")
    inp = keras.Input((d,))
    ae = keras.Model(inp, decoder(encoder(inp)))
    ae.compile(optimizer=keras.optimizers.Adam(float(lr)), loss="mse")

    def recon_data(epoch):
        order = rng.permutation(n)
        return x[order], x[order]

    train_epochs(ae, recon_data, int(pretrain_epochs), batch_size=int(batch_size), progress=progress,
                 cancel=cancel, stage="dec:pretrain")
    check_cancel(cancel)
    z = np.asarray(encoder.predict(x, batch_size=1024, verbose=0))
    km = KMeans(int(k), n_init=10, random_state=int(seed)).fit(z)
    layer = ClusteringLayer(int(k), float(alpha), name="clustering")
    model = keras.Model(inp, layer(encoder(inp)))
    layer.centroids.assign(km.cluster_centers_.astype(np.float32))
    model.compile(optimizer=keras.optimizers.Adam(float(lr)), loss=keras.losses.KLDivergence())

    labels = km.labels_
    history: list[float] = []
    for epoch in range(int(epochs)):
        check_cancel(cancel)
        q = np.asarray(model.predict(x, batch_size=1024, verbose=0))
        new = q.argmax(axis=1)
        changed = float(np.mean(new != labels)) if epoch else 1.0
        labels = new
        if epoch and changed < tol:
            break
        p = target_distribution(q)
        order = rng.permutation(n)
        h = model.fit(x[order], p[order], batch_size=int(batch_size), epochs=1, shuffle=False, verbose=0)
        loss = float(h.history["loss"][-1])
        history.append(loss)
        report(progress, "dec", epoch + 1, int(epochs), f"epoch {epoch + 1} KL {loss:.4f}",
               epoch=epoch + 1, loss=loss, changed=changed)
    return consecutive(labels)
