"""Two-stage clustering (micro-clusters, then size-weighted ward over their centres) on sklearn digits."""
import numpy as np
import pytest
from sklearn.cluster import AgglomerativeClustering
from sklearn.datasets import load_digits, make_blobs
from sklearn.metrics import adjusted_rand_score

from pipeline.clustering.api import cluster_features
from pipeline.clustering.large import cluster_large
from pipeline.clustering.methods import cut_tree, knn_connectivity
from pipeline.clustering.two_stage import micro_centres, two_stage_labels
from pipeline.clustering.weighted_ward import weighted_ward_children
from pipeline.config import PipelineConfig
from pipeline.evaluate import evaluate_clustering
from pipeline.reduction import reduce_features


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return reduce_features(x.astype(np.float32), pca=30, l2=True), y


def test_weighted_ward_with_unit_weights_is_ward():
    x, _ = make_blobs(120, centers=6, cluster_std=2.0, random_state=3)
    children = weighted_ward_children(x, np.ones(len(x)))
    ours = cut_tree(children, len(x), 6)
    theirs = AgglomerativeClustering(6, linkage="ward").fit_predict(x)
    assert adjusted_rand_score(theirs, ours) == 1.0


def test_weighted_ward_on_a_graph_is_constrained_ward():
    x, _ = make_blobs(300, centers=5, cluster_std=1.5, random_state=1)
    graph = knn_connectivity(x.astype(np.float32), 10)
    ours = cut_tree(weighted_ward_children(x, np.ones(len(x)), graph), len(x), 5)
    theirs = AgglomerativeClustering(5, linkage="ward", connectivity=graph).fit_predict(x)
    assert adjusted_rand_score(theirs, ours) > 0.95


def test_duplicated_points_count_through_their_weight():
    x = np.array([[0.0], [1.0], [10.0]])
    # two points at 1.0 would pull the middle point towards 0..1 first; ten copies of 10 pull harder
    children = weighted_ward_children(x, np.array([1.0, 1.0, 10.0]))
    assert tuple(children[0]) == (0, 1)
    children = weighted_ward_children(np.array([[0.0], [4.0], [5.0]]), np.array([50.0, 1.0, 1.0]))
    assert tuple(children[0]) == (1, 2)


def test_two_stage_scores_close_to_ward_on_digits(digits):
    x, y = digits
    ward = cluster_features(x, "agglomerative", 10, linkage="ward", n_neighbors=10)
    two = cluster_features(x, "micro_ward", 10, n_micro=300)
    acc_ward = evaluate_clustering(y, ward.labels)["acc"]
    acc_two = evaluate_clustering(y, two.labels)["acc"]
    assert two.n_clusters == 10
    assert acc_two >= acc_ward - 0.05, (acc_two, acc_ward)


def test_micro_clusterer_hook_is_used_and_centres_are_weighted(digits):
    x, _ = digits
    calls = []

    def hook(features, n_micro, seed, progress, cancel):
        calls.append((len(features), n_micro, seed))
        return np.arange(len(features)) % n_micro

    labels, extra = two_stage_labels(x, 4, n_micro=50, seed=7, micro_clusterer=hook)
    assert calls == [(len(x), 50, 7)]
    assert extra["n_micro"] == 50 and len(np.unique(labels)) == 4
    centres, sizes = micro_centres(x, np.arange(len(x)) % 50, 50)
    assert sizes.sum() == len(x)
    assert np.allclose(centres[3], x[np.arange(len(x)) % 50 == 3].mean(0))


def test_cluster_large_chooses_k_over_two_stage_cuts(digits, monkeypatch):
    import pipeline.clustering.large as large

    x, y = digits
    monkeypatch.setattr(large, "TWO_STAGE_THRESHOLD", 1000)
    config = PipelineConfig(method="agglomerative", k=None, k_range=[8, 12],
                            method_params={"linkage": "ward", "n_neighbors": 10, "n_micro": 300})
    result, notes = cluster_large(x, config)
    assert result.k_selection is not None and result.k_selection.ks == list(range(8, 13))
    assert result.n_clusters == result.k_selection.best_k
    assert "two-stage" in notes[0]
    assert evaluate_clustering(y, result.labels)["nmi"] > 0.7
