"""SCAN (Van Gansbeke et al. 2020) on learned embeddings, as clustering method "scan".

Step 1, clustering: each sample and a random one of its ``n_neighbors`` nearest
neighbours (cosine, in the given features) should get the same cluster: loss
``-log <p(x), p(neighbour)>`` plus ``entropy_weight`` times the negative entropy of the
mean assignment. The entropy term only discourages empty clusters; the default 1.0
(the paper uses 5.0) lets GTSRB's 10x class-size differences show: on 4 blobs of
300/150/60/30 points, weight 2.0 split the big blob evenly, 1.0 kept a 5x size spread.
``n_heads`` heads train at once; the one with the lowest loss is kept. If its effective
number of clusters is below ``k / 2`` (collapse), training restarts with twice the weight.
Step 2, self-labeling: samples predicted with probability > ``confidence`` become
pseudo-labels, and the head is trained on them with noisy inputs (no class re-weighting,
so big classes stay big).
A seeded run needs few steps: on the whole GTSRB split (39,209 frames, 153 batches an epoch)
``deep-prior-multicrop`` scored ACC 0.731 with 30 epochs and 0.804 with ``max_steps=600`` (4 epochs;
training on erodes the icon classes: bench/results/gtsrb_whole_frames_speed_stop2[45].md), while
the 3,921 track-disjoint frames (15 batches an epoch, so the cap does not bind) keep their 30.
Seeding (``prior_columns`` > 0): the features' last ``prior_columns`` columns are class scores
of a prior (the :mod:`pipeline.features.pictogram_prior` icon classifier); they are split off,
and each head is first trained for ``seed_epochs`` on the arg-max class of the
``seed_fraction`` of images with the widest score margin, so SCAN starts from the taxonomy's
classes. On 3,921 whole GTSRB frames this lifted ACC from 0.676 to 0.708 (README).
"""
from __future__ import annotations

import numpy as np

from pipeline.clustering.registry import register_method
from pipeline.core.progress import check_cancel, report
from pipeline.deep.head_utils import check_inputs, consecutive, standardize


#: A head whose effective number of clusters (exp of the entropy of the cluster sizes) is
#: below this fraction of k has collapsed: retrain
#: with a doubled entropy weight (seen on 520 demo signs with weight 1.0: one cluster
#: took 409 images), up to MAX_ENTROPY_WEIGHT.
MIN_USED_FRACTION = 0.5
MAX_ENTROPY_WEIGHT = 8.0


def effective_clusters(labels: np.ndarray) -> float:
    """``exp(entropy of the cluster-size distribution)``: k for equal sizes, ~1 for one giant cluster."""
    share = np.bincount(labels) / len(labels)
    share = share[share > 0]
    return float(np.exp(-(share * np.log(share)).sum()))


def nearest_neighbors(x: np.ndarray, n_neighbors: int) -> np.ndarray:
    """Indices ``(N, n_neighbors)`` of each row's nearest other rows by cosine similarity."""
    from sklearn.neighbors import NearestNeighbors

    xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)
    nn = NearestNeighbors(n_neighbors=min(n_neighbors + 1, len(x))).fit(xn)
    idx = nn.kneighbors(xn, return_distance=False)
    return idx[:, 1:]


def capped_epochs(epochs: int, steps_per_epoch: int, max_steps) -> int:
    """``epochs``, or fewer (at least 1) so that they take at most about ``max_steps`` batches."""
    if max_steps is None:
        return epochs
    if int(max_steps) < 1:
        raise ValueError(f"scan: max_steps must be 1 or more (or None), got {max_steps}")
    return max(1, min(epochs, -(-int(max_steps) // steps_per_epoch)))


def _heads(d: int, k: int, n_heads: int, hidden: int):
    import keras
    from keras import layers

    inp = keras.Input((d,))
    h = layers.Dense(hidden, use_bias=False)(inp)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU()(h)
    outs = [layers.Dense(k, activation="softmax", name=f"head{i}")(h) for i in range(n_heads)]
    return keras.Model(inp, layers.Concatenate()(outs) if n_heads > 1 else outs[0]), inp, outs


def split_prior(features: np.ndarray, prior_columns: int, k: int) -> tuple[np.ndarray, np.ndarray | None]:
    """``(features without the prior block, the block)``, rows rescaled so the first has unit length;
    the block is ``None`` when it is constant (prior off)."""
    c = int(prior_columns)
    if c <= 0:
        return features, None
    if c >= features.shape[1]:
        raise ValueError(f"scan: prior_columns={c} must leave feature columns (features have {features.shape[1]})")
    x, scores = features[:, :-c], features[:, -c:]
    norm = np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    x, scores = x / norm, scores / norm  # undo a row-wise L2 over both blocks (the base block had unit rows)
    if float(np.ptp(scores, axis=0).max()) <= 1e-8:
        return x, None  # the prior is off (no icons): plain SCAN at any k
    if c > int(k):
        raise ValueError(f"scan: a prior of {c} classes cannot seed k={k} clusters; set k to at least {c}")
    return x, scores


def seed_labels(scores: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """``(image indices, class)``: the ``fraction`` of images whose top score leads the next one most."""
    if not 0 < float(fraction) <= 1:
        raise ValueError(f"scan: seed_fraction must be in (0, 1], got {fraction}")
    top2 = np.sort(scores, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    keep = np.flatnonzero(margin >= np.quantile(margin, 1 - float(fraction)))
    return keep, scores[keep].argmax(axis=1)


def _seed_heads(inp, outs, x, seeds, epochs: int, batch: int, lr: float) -> None:
    import keras

    idx, target = seeds
    for out in outs:
        head = keras.Model(inp, out)
        head.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy")
        head.fit(x[idx], target, batch_size=batch, epochs=int(epochs), verbose=0)


def _scan_losses(p: np.ndarray, pn: np.ndarray, k: int, n_heads: int, w: float) -> np.ndarray:
    losses = []
    for h in range(n_heads):
        a, b = p[:, h * k : (h + 1) * k], pn[:, h * k : (h + 1) * k]
        m = np.maximum(a.mean(axis=0), 1e-7)
        losses.append(float(np.mean(-np.log(np.maximum((a * b).sum(1), 1e-7))) + w * np.sum(m * np.log(m))))
    return np.array(losses)


@register_method("scan", needs_k=True)
def scan_cluster(features, k, *, seed=0, images=None, progress=None, cancel=None, **params):
    """SCAN labels for ``features`` (ideally SimCLR embeddings): the arg-max of :func:`scan_probabilities`."""
    return consecutive(scan_probabilities(features, k, seed=seed, progress=progress, cancel=cancel, **params).argmax(axis=1))


def scan_probabilities(features, k, *, seed=0, progress=None, cancel=None, n_neighbors=20, epochs=40,
                       batch_size=256, entropy_weight=1.0, n_heads=3, hidden=512, lr=1e-3, self_label_epochs=10,
                       confidence=0.99, noise=0.1, prior_columns=0, seed_fraction=0.5, seed_epochs=5, max_steps=None):
    """``(N, k)`` cluster probabilities of the kept head; curves under stages ``scan``, ``scan:self-label``.

    Seeded (``prior_columns``), column ``j`` starts as the prior's class ``j`` (training may move a head
    to another class: :mod:`pipeline.suggest.self_trained` multiplies both). ``max_steps``: at most this
    many batches of step 1 (fewer epochs on big sets; ``None``: ``epochs`` always).
    """
    import keras

    from pipeline.deep.networks import TwoViewModel, scan_loss
    from pipeline.deep.runtime import seed_everything, train_epochs

    x, prior = split_prior(check_inputs(features, k), prior_columns, k)
    x = standardize(x)
    seeds = seed_labels(prior, seed_fraction) if prior is not None else None
    k, n_heads = int(k), int(n_heads)
    seed_everything(int(seed))
    rng = np.random.default_rng(int(seed))
    n, d = x.shape
    knn = nearest_neighbors(x, int(n_neighbors))
    batch = int(batch_size)
    usable = n - n % batch if n >= batch else n
    epochs = capped_epochs(int(epochs), max(1, usable // batch), max_steps)

    def jitter(v):
        return v + rng.normal(0.0, float(noise), v.shape).astype(np.float32) if noise else v

    def pair_data(epoch):
        anchors = rng.permutation(n)[:usable]
        neigh = knn[anchors, rng.integers(0, knn.shape[1], len(anchors))]
        return [jitter(x[anchors]), jitter(x[neigh])], np.zeros((len(anchors), 1), np.float32)

    weight = float(entropy_weight)
    while True:
        heads, inp, outs = _heads(d, k, n_heads, int(hidden))
        if seeds is not None:
            report(progress, "scan", 0, int(epochs), f"seeding the heads with {len(seeds[0])} prior labels")
            _seed_heads(inp, outs, x, seeds, int(seed_epochs), batch, float(lr))
        model = TwoViewModel(heads, keras.layers.Identity(), name="scan")
        model.compile(optimizer=keras.optimizers.Adam(float(lr)), loss=scan_loss(n_heads, k, weight))
        train_epochs(model, pair_data, int(epochs), batch_size=batch, progress=progress, cancel=cancel, stage="scan")
        check_cancel(cancel)
        p = np.asarray(heads.predict(x, batch_size=1024, verbose=0))
        best = int(np.argmin(_scan_losses(p, p[knn[:, 0]], k, n_heads, weight)))
        used = effective_clusters(p[:, best * k : (best + 1) * k].argmax(axis=1))
        if used >= MIN_USED_FRACTION * k or weight * 2 > MAX_ENTROPY_WEIGHT:
            break
        weight *= 2
        report(progress, "scan", 0, int(epochs), f"collapsed to {used:.1f} effective clusters; retraining with entropy weight {weight}")
    head = keras.Model(inp, outs[best])
    probs = p[:, best * k : (best + 1) * k]

    if int(self_label_epochs) > 0:
        head.compile(optimizer=keras.optimizers.Adam(float(lr)), loss="sparse_categorical_crossentropy")
        history: list[float] = []
        for epoch in range(int(self_label_epochs)):
            check_cancel(cancel)
            confident = np.flatnonzero(probs.max(axis=1) > float(confidence))
            if len(confident) < k:
                break
            order = rng.permutation(confident)
            targets = probs[order].argmax(axis=1)
            h = head.fit(jitter(x[order]), targets, batch_size=batch, epochs=1, shuffle=False, verbose=0)
            loss = float(h.history["loss"][-1])
            history.append(loss)
            report(progress, "scan:self-label", epoch + 1, int(self_label_epochs),
                   f"epoch {epoch + 1}: {len(confident)} confident, loss {loss:.4f}",
                   epoch=epoch + 1, loss=loss, confident=int(len(confident)))
            probs = np.asarray(head.predict(x, batch_size=1024, verbose=0))
    return probs
