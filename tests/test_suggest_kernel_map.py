"""Random Fourier features behind the propagator's ridge learner."""
import numpy as np

from pipeline.suggest import Propagator
from pipeline.suggest.kernel_map import LiftedRows, RandomFourierMap
from pipeline.suggest.propagation import balanced_rows


def test_lifted_inner_products_approximate_the_rbf_kernel():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8)).astype(np.float32)
    lift = RandomFourierMap(n_components=8000, seed=1).fit(x)
    z = lift.transform(x)[:, : lift.n_components]
    d2 = ((x[:50, None] - x[None, :50]) ** 2).sum(-1)
    kernel = np.exp(-lift.gamma_ * d2)
    assert np.abs(z[:50] @ z[:50].T - kernel).max() < 0.08
    assert lift.width == 8000 + 8 + 1
    assert np.all(lift.transform(x)[:, -1] == 1.0)


def test_uncached_rows_equal_cached_rows():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 5)).astype(np.float32)
    lift = RandomFourierMap(n_components=64).fit(x)
    cached = LiftedRows(x, lift)
    chunked = LiftedRows(x, lift, max_bytes=0, chunk=70)
    assert cached.cached and not chunked.cached
    coef = rng.normal(size=(lift.width, 3)).astype(np.float32)
    np.testing.assert_allclose(cached.times(coef), chunked.times(coef), rtol=1e-4, atol=1e-4)
    idx = np.array([5, 0, 299])
    np.testing.assert_allclose(cached.rows(idx), chunked.rows(idx), rtol=1e-5, atol=1e-6)


def test_balanced_rows_keep_rare_classes_whole_within_the_limit():
    y = np.array([0] * 900 + [1] * 90 + [2] * 10)
    rows = balanced_rows(y, 3, 300)
    assert len(rows) <= 300
    counts = np.bincount(y[rows], minlength=3)
    assert counts[2] == 10 and counts[1] == 90 and counts[0] == 200
    assert np.array_equal(rows, balanced_rows(y, 3, 300))
    assert np.array_equal(balanced_rows(y, 3, 5000), np.arange(len(y)))


def test_the_lifted_ridge_learner_separates_what_a_linear_one_cannot():
    # XOR blobs: class a on one diagonal, b on the other
    rng = np.random.default_rng(3)
    centres = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], np.float32) * 3
    which = rng.integers(0, 4, 800)
    x = centres[which] + rng.normal(scale=0.5, size=(800, 2)).astype(np.float32)
    truth = np.where(which < 2, "a", "b")
    known = rng.choice(800, 120, replace=False)
    rest = np.setdiff1d(np.arange(800), known)

    def accuracy(**kw):
        s = Propagator(mix=0.0, **kw).prepare(x).fit(known, list(truth[known]))
        return (np.asarray(s.classes)[s.top[rest]] == truth[rest]).mean()

    assert accuracy() > 0.95
    assert accuracy(kernel_features=0) < 0.75


def test_a_handful_of_decisions_uses_the_plain_features():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 4)).astype(np.float32)
    known = np.arange(30)
    labels = list(np.where(x[known, 0] > 0, "a", "b"))
    few = Propagator(mix=0.0).prepare(x).fit(known, labels)
    plain = Propagator(mix=0.0, kernel_features=0).prepare(x).fit(known, labels)
    np.testing.assert_allclose(few.proba, plain.proba, atol=1e-6)
