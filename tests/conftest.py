"""Shared test set-up: headless Qt, quiet TensorFlow, and the optional GTSRB folder."""
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

GTSRB_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gtsrb"


@pytest.fixture(scope="session")
def gtsrb_dir() -> Path:
    """The shared GTSRB training split; tests using it skip when it is absent."""
    if not (GTSRB_DIR / "Train.csv").is_file():
        pytest.skip("shared GTSRB data not present")
    return GTSRB_DIR


@pytest.fixture(autouse=True, scope="session")
def _qt_workarounds():
    """The binding work-arounds the window's entry point applies (gui.app.make_application)."""
    try:
        from gui._qt_compat import patch_signal_emit
    except ImportError:  # no Qt binding installed: the gui tests skip themselves
        return
    patch_signal_emit()


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory):
    """Keep every test's caches and review projects out of the user's real folders."""
    os.environ["CLUSTER_REVIEW_CACHE"] = str(tmp_path_factory.mktemp("user-cache"))
    os.environ["CLUSTER_REVIEW_HOME"] = str(tmp_path_factory.mktemp("user-data"))
    yield


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's digits as L2-normalised PCA-30 features and string labels (suggestion tests)."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA

    d = load_digits()
    x = PCA(30, random_state=0).fit_transform(d.data.astype(np.float32))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), np.array([str(v) for v in d.target], dtype=object)
