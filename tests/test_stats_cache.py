"""The project's cluster statistics cache: read back as computed, refused when the clusters changed."""
import numpy as np

from pipeline.clustering.summary import compute_cluster_stats
from pipeline.project.stats_cache import load_stats, save_stats, stats_key


def test_saved_stats_come_back_only_for_the_same_clusters(tmp_path):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 5, 400)
    feats = (rng.normal(0, 1, (5, 6))[labels] + rng.normal(0, 0.2, (400, 6))).astype(np.float32)
    stats = compute_cluster_stats(feats, {int(c): np.flatnonzero(labels == c) for c in range(5)})
    key = stats_key(feats, labels)
    save_stats(tmp_path, stats, key)
    back = load_stats(tmp_path, key)
    assert back is not None and back.ids == stats.ids and back.row_of == stats.row_of
    np.testing.assert_array_equal(back.centers, stats.centers)
    np.testing.assert_array_equal(back.distance, stats.distance)
    np.testing.assert_array_equal(back.linkage, stats.linkage)
    assert all(np.array_equal(back.members[c], stats.members[c]) for c in stats.ids)
    assert back.medoids == stats.medoids and back.silhouette == stats.silhouette
    moved = labels.copy()
    moved[0] = (moved[0] + 1) % 5
    assert load_stats(tmp_path, stats_key(feats, moved)) is None  # one image moved: stale
    (tmp_path / "cluster_stats.npz").write_bytes(b"not a zip")
    assert load_stats(tmp_path, key) is None  # damaged: recomputed by the caller
