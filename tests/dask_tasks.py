"""Task functions for tests/test_engine_dask.py, in a module that imports nothing heavy:
Dask pickles module-level functions by reference, so each worker imports this module
(importing the test module would load scikit-learn in every worker before its first task)."""
from __future__ import annotations

import os
import time


def square_after(task):
    """A task that takes ``delay`` seconds and tells which process ran it."""
    value, delay = task
    time.sleep(delay)
    return value * value, os.getpid()


def fail_on_three(value):
    if value == 3:
        raise ZeroDivisionError("three is not allowed")
    return value


def row_total(rows):
    """The sum of a scattered block's values."""
    return float(rows.sum())
