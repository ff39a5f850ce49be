"""Clustering methods, summaries, tree cuts, k selection and reduction on real data (sklearn digits)."""
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_blobs
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
    ("agglomerative", (("linkage", "complete"), ("n_neighbors", 10))): 0.15,  # measured 0.24; random labels 0.01
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


WITHOUT_K = ["dbscan", "hdbscan", "meanshift", "affinity"]


@pytest.mark.parametrize("method", WITHOUT_K)
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


# Single and centroid linkage chain on digits (one cluster of 1788 images and nine
# singletons: NMI 0.01, the same as random labels), so they are checked on
# well-separated blobs, where they recover the blobs exactly (NMI 1.0; random labels 0.03).
CHAINING_LINKAGES = [(("linkage", "single"), ("n_neighbors", 10)), (("linkage", "centroid"),), (("linkage", "single"),)]


@pytest.mark.parametrize("params", CHAINING_LINKAGES)
def test_chaining_linkages_recover_separated_blobs(params):
    x, y = make_blobs(n_samples=500, centers=10, n_features=8, cluster_std=1.0, random_state=0)
    x = x.astype(np.float32)
    result = cluster_features(x, "agglomerative", 10, **dict(params))
    assert set(np.unique(result.labels)) == set(range(10))
    assert normalized_mutual_info_score(y, result.labels) >= 0.9
    _check_summary(x, result)


#: Written out independently of the registry: every method a module registers, and the
#: test file that checks its quality. A newly registered method fails the test below
#: until it is added here together with a test.
TESTED_METHODS = {
    "kmeans": "test_clustering.py",
    "minibatch_kmeans": "test_clustering.py",
    "agglomerative": "test_clustering.py",
    "gmm": "test_clustering.py",
    "spectral": "test_clustering.py",
    "dbscan": "test_clustering.py",
    "hdbscan": "test_clustering.py",
    "meanshift": "test_clustering.py",
    "affinity": "test_clustering.py",
    "micro_ward": "test_two_stage.py",
    "dec": "test_deep_heads.py",
    "iic": "test_deep_heads.py",
    "scan": "test_deep_heads.py",
}
def test_every_registered_method_is_tested():
    assert sorted(available_methods()) == sorted(TESTED_METHODS)
    here = {m for m, _ in EXPECTED_NMI} | set(WITHOUT_K)
    assert here == {m for m, f in TESTED_METHODS.items() if f == "test_clustering.py"}
    folder = Path(__file__).parent
    for method, test_file in TESTED_METHODS.items():
        text = (folder / test_file).read_text(encoding="utf-8")
        assert f'"{method}"' in text, f"{test_file} never names {method!r}"


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
