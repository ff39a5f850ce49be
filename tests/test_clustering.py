"""Clustering methods, summaries, tree cuts, k selection and reduction on real data (sklearn digits)."""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score

from pipeline.clustering.methods import cut_tree
from pipeline.clustering.registry import available_methods, method_needs_k
from pipeline.clustering.api import cluster_features
from pipeline.clustering.summary import summarize_clusters
from pipeline.reduction import Reducer, l2_normalize, reduce_features


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return reduce_features(x.astype(np.float32), pca=30, l2=True), y


EXPECTED_NMI = {  # measured on digits (PCA 30 + L2); floors well below what each method reaches
    ("kmeans", ()): 0.6,
    ("minibatch_kmeans", ()): 0.6,
    ("agglomerative", (("linkage", "ward"),)): 0.75,
    ("agglomerative", (("linkage", "average"), ("n_neighbors", None))): 0.6,
    ("agglomerative", (("linkage", "complete"), ("n_neighbors", 10))): 0.15,
    ("agglomerative", (("linkage", "single"), ("n_neighbors", 10))): 0.0,
    ("agglomerative", (("linkage", "centroid"),)): 0.0,
    ("gmm", ()): 0.6,
    ("spectral", ()): 0.75,
}


@pytest.mark.parametrize("method,params", list(EXPECTED_NMI))
def test_methods_with_k(digits, method, params):
    x, y = digits
    result = cluster_features(x, method, 10, **dict(params))
    assert result.n_clusters == 10
    assert result.labels.shape == (len(x),)
    assert set(np.unique(result.labels)) == set(range(10))
    assert normalized_mutual_info_score(y, result.labels) >= EXPECTED_NMI[(method, params)]
    _check_summary(x, result)


@pytest.mark.parametrize("method", ["dbscan", "hdbscan", "meanshift", "affinity"])
def test_methods_without_k(digits, method):
    x, y = digits
    assert not method_needs_k(method)
    n = 300
    result = cluster_features(x[:n], method)
    assert result.n_clusters >= 2
    assert normalized_mutual_info_score(y[:n], result.labels) > 0.3
    _check_summary(x[:n], result)


def _check_summary(x, result):
    k = result.n_clusters
    assert result.centers.shape == (k, x.shape[1])
    assert result.sizes.sum() == (result.labels >= 0).sum()
    assert result.linkage.shape == (max(k - 1, 0), 4)
    for j, cid in enumerate(result.ids):
        members = np.where(result.labels == cid)[0]
        assert result.medoids[j] in members
        assert np.allclose(result.centers[j], x[members].mean(0), atol=1e-5)


def test_every_registered_method_is_tested():
    assert set(available_methods()) == {m for m, _ in EXPECTED_NMI} | {"dbscan", "hdbscan", "meanshift", "affinity"} | _extra_methods()


def _extra_methods():
    """Methods registered by other modules (deep clustering heads) are tested there."""
    return set(available_methods()) - {"kmeans", "minibatch_kmeans", "agglomerative", "gmm", "spectral",
                                       "dbscan", "hdbscan", "meanshift", "affinity"}


def test_summary_keeps_arbitrary_ids_and_noise():
    x = np.array([[0, 0], [0, 1], [10, 10], [10, 11], [50, 50]], np.float32)
    result = summarize_clusters(x, np.array([7, 7, 3, 3, -1]))
    assert list(result.ids) == [3, 7]
    assert list(result.sizes) == [2, 2]
    assert np.allclose(result.centers, [[10, 10.5], [0, 0.5]])


def test_cut_tree_gives_exactly_k_clusters():
    # merges: (0,1)->4, (2,3)->5, (4,5)->6
    children = np.array([[0, 1], [2, 3], [4, 5]])
    assert list(cut_tree(children, 4, 4)) == [0, 1, 2, 3]
    assert list(cut_tree(children, 4, 2)) == [0, 0, 1, 1]
    assert list(cut_tree(children, 4, 1)) == [0, 0, 0, 0]


def test_k_selection_scores_every_k_and_picks_best(digits):
    x, y = digits
    result = cluster_features(x, "agglomerative", k_range=(6, 14))
    sel = result.k_selection
    assert sel.ks == list(range(6, 15))
    assert set(sel.scores) == {"silhouette", "davies_bouldin", "calinski_harabasz"}
    assert all(len(v) == 9 for v in sel.scores.values())
    sil, se = np.array(sel.scores["silhouette"]), np.array(sel.errors["silhouette"])
    top = int(np.argmax(sil))
    # one-standard-error rule: the smallest k scoring within one SE of the best
    assert sel.best_k == min(k for k, v in zip(sel.ks, sil) if v >= sil[top] - se[top])
    assert np.all(se > 0)
    assert result.n_clusters == sel.best_k
    db = cluster_features(x, "kmeans", k_range=(8, 11), criterion="davies_bouldin")
    assert db.k_selection.best_k == db.k_selection.ks[int(np.argmin(db.k_selection.scores["davies_bouldin"]))]


def test_pick_best_rules():
    from pipeline.clustering.kselect import pick_best

    ks = [2, 3, 4, 5]
    assert pick_best(ks, [0.1, 0.5, 0.52, 0.2], "silhouette") == 2
    assert pick_best(ks, [0.1, 0.5, 0.52, 0.2], "silhouette", [0.01, 0.01, 0.03, 0.01]) == 1
    assert pick_best(ks, [3.0, 1.0, 2.0, float("nan")], "davies_bouldin") == 1
    assert pick_best(ks, [float("nan")] * 4, "calinski_harabasz") == 0


def test_bad_requests_are_clear(digits):
    x, _ = digits
    with pytest.raises(ValueError, match="unknown clustering method"):
        cluster_features(x, "nope", 3)
    with pytest.raises(ValueError, match="needs k"):
        cluster_features(x, "kmeans")
    with pytest.raises(ValueError, match="not valid"):
        cluster_features(x[:5], "kmeans", 10)
    with pytest.raises(ValueError, match="criterion"):
        cluster_features(x, "kmeans", k_range=(3, 4), criterion="nope")


def test_reducer_variance_target_and_l2():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(500, 5))
    x = np.concatenate([base, base @ rng.normal(size=(5, 40)) + 0.01 * rng.normal(size=(500, 40))], 1)
    red = Reducer(pca=0.99).fit(x)
    assert red.n_components_ <= 6
    out = red.transform(x)
    assert np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    assert reduce_features(x, pca=3, l2=False).shape == (500, 3)
    assert reduce_features(x, pca=None, l2=False).shape == x.shape
    assert np.allclose(l2_normalize(np.zeros((2, 3))), 0)
