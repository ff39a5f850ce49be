"""k-NN search: the faiss index (the [scale] extra) agrees with the exact search on a small set."""
import numpy as np
import pytest
from sklearn.datasets import make_blobs

from pipeline.clustering.knn import faiss_available, knn_graph, knn_search
from pipeline.mislabels.neighbours import nearest_neighbours


@pytest.fixture(scope="module")
def points():
    x, _ = make_blobs(3000, n_features=24, centers=12, random_state=0)
    return x.astype(np.float32)


def test_exact_search_leaves_each_point_out(points):
    dist, ind = knn_search(points, 5, approximate=False)
    assert dist.shape == ind.shape == (len(points), 5)
    assert not (ind == np.arange(len(points))[:, None]).any()
    assert np.all(np.diff(dist, axis=1) >= -1e-5)
    brute = np.sqrt(((points[:1] - points) ** 2).sum(1))
    brute[0] = np.inf
    assert ind[0, 0] == int(np.argmin(brute))


@pytest.mark.skipif(not faiss_available(), reason="faiss-cpu (the [scale] extra) not installed")
def test_faiss_index_agrees_with_exact_search(points):
    d_exact, i_exact = knn_search(points, 10, approximate=False)
    d_approx, i_approx = knn_search(points, 10, approximate=True)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(i_exact, i_approx)])
    assert recall > 0.95
    assert np.allclose(d_approx[:, 0], d_exact[:, 0], atol=1e-3)


def test_duplicates_stay_neighbours_and_graph_is_symmetric():
    x = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0], [5.0, 5.1]], np.float32)
    dist, ind = nearest_neighbours(x, 1)
    assert list(ind[:, 0]) == [1, 0, 3, 2] and dist[0, 0] == 0.0
    graph = knn_graph(x, 1, approximate=False)
    assert (graph != graph.T).nnz == 0 and graph.sum() == 4
