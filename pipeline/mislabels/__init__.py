"""Find images whose given label is probably wrong, from their features alone.

:class:`MislabelFinder` combines k-nearest-neighbour votes, cluster majorities and
confident learning on a cross-validated classifier into one ranked
:class:`SuspectReport`; it also lists near-duplicates with different labels and
outliers. ``cluster-review suspects`` is the command-line front end (:mod:`pipeline.cli.suspects`).
"""
from pipeline.mislabels.finder import DEFAULT_WEIGHTS, MislabelFinder, encode_labels
from pipeline.mislabels.report import CSV_COLUMNS, SuspectReport
from pipeline.mislabels.suspects import find_suspects

__all__ = [
    "CSV_COLUMNS", "DEFAULT_WEIGHTS", "MislabelFinder", "SuspectReport", "encode_labels",
    "find_suspects",
]
