"""Find images whose given label is probably wrong, from their features alone.

:class:`MislabelFinder` combines k-nearest-neighbour votes, cluster majorities and
confident learning on a cross-validated classifier into one ranked
:class:`SuspectReport`; it also lists near-duplicates with different labels and
outliers. ``cluster-review suspects`` is the command-line front end (:mod:`pipeline.cli.suspects`).

The names below are imported on first use (PEP 562): reading a saved report
(:mod:`pipeline.mislabels.report`) must not import scikit-learn, which the finder needs
(~2 s of imports on a helper thread while the window paints a newly opened project).
"""
from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "CSV_COLUMNS": "report", "SuspectReport": "report", "DEFAULT_WEIGHTS": "finder", "MislabelFinder": "finder",
    "encode_labels": "finder", "find_suspects": "suspects",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
