"""Find images whose given label is probably wrong, from their features alone.

:class:`MislabelFinder` combines k-nearest-neighbour votes, cluster majorities and
confident learning on a cross-validated classifier into one ranked
:class:`SuspectReport`; it also lists near-duplicates with different labels and
outliers. ``cluster-review suspects`` is the command-line front end (:mod:`.cli`).
"""
from .cli import add_suspects_arguments, find_suspects, suspects_main
from .finder import DEFAULT_WEIGHTS, MislabelFinder, encode_labels
from .report import CSV_COLUMNS, SuspectReport

__all__ = [
    "CSV_COLUMNS", "DEFAULT_WEIGHTS", "MislabelFinder", "SuspectReport", "add_suspects_arguments",
    "encode_labels", "find_suspects", "suspects_main",
]
