"""k selection: the range a taxonomy's class count gives, and choosing inside it."""
import numpy as np
import pytest

from pipeline.clustering.api import cluster_features
from pipeline.clustering.kselect import taxonomy_k_range


def test_taxonomy_range_brackets_the_class_count():
    assert taxonomy_k_range(43) == (37, 49)
    lo, hi = taxonomy_k_range(10, slack=0.0)
    assert lo == hi == 10
    assert taxonomy_k_range(2) == (2, 2)
    assert taxonomy_k_range(10) == (9, 11)
    for n in (5, 12, 43, 58, 100):
        lo, hi = taxonomy_k_range(n)
        assert lo <= n <= hi and hi <= 1.15 * n + 1e-6 and (lo >= 0.85 * n - 1e-6 or lo == 2)


def test_taxonomy_range_refuses_nonsense_in_words():
    with pytest.raises(ValueError, match="gives no k to choose"):
        taxonomy_k_range(1)
    with pytest.raises(ValueError, match="slack must be a fraction"):
        taxonomy_k_range(10, slack=1.5)


def test_choice_inside_the_taxonomy_range_stays_within_it():
    """Blobs with 12 groups: the silhouette picks a k inside the taxonomy's range."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 4, (12, 6))
    x = np.concatenate([c + rng.normal(0, 0.5, (30, 6)) for c in centres]).astype(np.float32)
    result = cluster_features(x, "kmeans", k_range=taxonomy_k_range(12))
    assert 10 <= result.n_clusters <= 14
    assert result.k_selection.best_k == 12
