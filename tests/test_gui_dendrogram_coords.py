"""The dendrogram view's own layout equals scipy's dendrogram (links as a set, leaves in order)."""
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from scipy.cluster.hierarchy import dendrogram, linkage

from gui.views.dendrogram_view import dendrogram_coords


@pytest.mark.parametrize("n", [2, 3, 40, 300])
def test_same_links_and_leaves_as_scipy(n):
    z = linkage(np.random.default_rng(n).normal(size=(n, 5)), method="ward")
    icoord, dcoord, leaves = dendrogram_coords(z)
    ref = dendrogram(z, no_plot=True)
    assert leaves.tolist() == [int(v) for v in ref["ivl"]]
    ours = sorted(map(tuple, np.round(np.hstack([icoord, dcoord]), 9).tolist()))
    theirs = sorted(map(tuple, np.round(np.hstack([ref["icoord"], ref["dcoord"]]), 9).tolist()))
    assert ours == theirs
