"""BackgroundLinkage: a big tree's ward linkage off the UI thread, the latest request only."""
import numpy as np
from scipy.cluster.hierarchy import linkage

from gui.jobs.linkage_thread import BackgroundLinkage
from pipeline.clustering.summary import compute_cluster_stats


def _stats(seed: int, clusters: int = 240):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(clusters * 3, 8)).astype(np.float32)
    members = {c: np.arange(3 * c, 3 * c + 3) for c in range(clusters)}
    return compute_cluster_stats(features, members, with_linkage=False)


def test_the_linkage_arrives_on_the_ui_thread_equal_to_scipys(qtbot):
    worker = BackgroundLinkage()
    st = _stats(0)
    assert st.linkage is None
    with qtbot.waitSignal(worker.ready, timeout=30_000) as got:
        worker.request(st)
        assert worker.pending(st)
    assert got.args[0] is st and not worker.pending(st)
    np.testing.assert_allclose(st.linkage, linkage(np.asarray(st.centers, np.float64), method="ward"))


def test_a_newer_request_drops_the_older_result(qtbot):
    worker = BackgroundLinkage()
    delivered = []
    worker.ready.connect(delivered.append)
    old, new = _stats(1), _stats(2)
    worker.request(old)
    with qtbot.waitSignal(worker.ready, timeout=30_000):
        worker.request(new)
    qtbot.wait(200)  # the older thread's result, if it came later, is dropped too
    assert delivered == [new] and new.linkage is not None and old.linkage is None
