"""update_cluster_stats recomputes the edited clusters exactly as compute_cluster_stats does."""
import numpy as np

from pipeline.clustering.stats_update import clusters_to_update, update_cluster_stats
from pipeline.clustering.summary import compute_cluster_stats


def _memberships(labels):
    return {int(c): np.flatnonzero(labels == c) for c in np.unique(labels)}


def _check(before, after_labels, feats, changed):
    full = compute_cluster_stats(feats, _memberships(after_labels))
    m = _memberships(after_labels)
    quick = update_cluster_stats(before, feats, sorted(m), lambda c: m[c], changed)
    assert quick.ids == full.ids and quick.row_of == full.row_of
    np.testing.assert_allclose(quick.centers, full.centers, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(quick.distance, full.distance, rtol=1e-4, atol=1e-4)
    for c in full.ids:
        assert sorted(quick.members[c].tolist()) == sorted(full.members[c].tolist())
        assert quick.medoids[c] == full.medoids[c]
    for c in changed:
        if c in full.silhouette:
            assert abs(quick.silhouette[c] - full.silhouette[c]) < 1e-4
    assert quick.linkage.shape == full.linkage.shape
    np.testing.assert_allclose(quick.linkage[:, 2], full.linkage[:, 2], rtol=1e-4)
    return quick


def test_merge_move_and_new_cluster_match_a_full_recompute():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 6, 600)
    feats = (rng.normal(0, 1, (6, 8))[labels] + rng.normal(0, 0.3, (600, 8))).astype(np.float32)
    before = compute_cluster_stats(feats, _memberships(labels))
    merged = np.where(labels == 4, 1, labels)  # merge 4 into 1: 4 disappears
    after = _check(before, merged, feats, {1, 4})
    assert 4 not in after.members
    moved = merged.copy()
    moved[:25] = 9  # 25 images to a new cluster 9
    _check(after, moved, feats, set(merged[:25].tolist()) | {9})


def test_clusters_to_update_adds_the_gone_new_and_resized_ones_to_the_changed():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(40, 3)).astype(np.float32)
    stats = compute_cluster_stats(features, {0: range(0, 10), 1: range(10, 20), 2: range(20, 30), 3: range(30, 40)})
    sizes = {0: 10, 1: 12, 3: 10, 7: 8}  # 1 grew (its edit not recorded), 2 is gone, 7 is new
    assert clusters_to_update(stats, sorted(sizes), sizes.__getitem__, [3]) == {1, 2, 3, 7}
    assert clusters_to_update(stats, [0, 1, 2, 3], {0: 10, 1: 10, 2: 10, 3: 10}.__getitem__, []) == set()
