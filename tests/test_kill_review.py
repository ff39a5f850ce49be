"""SIGKILL a process editing a review database at random moments (30 trials; bench/kill_review.py runs 200):
every acknowledged edit survives and the file opens, passes its check and agrees with its journal."""
from __future__ import annotations

import importlib.util
import signal
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "kill_review.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("kill_review", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_at_random_moments_loses_no_acknowledged_edit(tmp_path):
    kill_review = load_bench()
    results = kill_review.run_trials(30, n_images=500, seed=1, folder=tmp_path)
    assert len(results) == 30
    assert all(r["acked"] >= 1 for r in results)
    assert results[-1]["rows"] >= 30  # the journal grew across the trials


def test_the_checker_notices_a_lost_edit(tmp_path):
    """The check is not vacuous: an acknowledged row that is not in the file fails it."""
    kill_review = load_bench()
    path = tmp_path / "k.db"
    kill_review.make_database(path, 100)
    assert kill_review.check(path, [])["head"] == 0
    with pytest.raises(AssertionError, match="missing"):
        kill_review.check(path, [1])
