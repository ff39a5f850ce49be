"""What became of earlier suggestions: prospective evidence for the calibration.

Held-out decisions are the clusters the reviewer chose to decide first (big, dense, easy);
the images still undecided are harder, so a calibration fitted only on held-out decisions
is over-confident exactly where bulk accepts happen. :class:`SuggestionHistory` keeps the
evidence of the last refit's suggestion for every image; at the next refit every image
decided since (a cluster named, a suggestion accepted) says whether that suggestion was
right, and every suggestion refused since (``declined``) says it was wrong. Those records,
the latest :attr:`SuggestionHistory.keep` of them, are a sample of the very images the
suggestions are shown for.

    history = SuggestionHistory()                  # one per open review, kept across refits
    sugg = calibrated_suggestions(prop, session, evidence=True, history=history, declined=declined)
"""
from __future__ import annotations

from typing import Optional

import numpy as np


class SuggestionHistory:
    """A rolling sample of ``(evidence row, was the suggestion right)`` from past refits.

    ``keep``: records kept (older ones describe an older model). ``weight``: how much one
    record counts against one held-out decision in the calibration fit; ``alone``: from
    this many records on, the history calibrates alone (held-out decisions only bootstrap).
    """

    def __init__(self, keep: int = 3000, weight: float = 3.0, alone: int = 300) -> None:
        self.keep = keep
        self.weight = weight
        self.alone = alone
        self._ev: Optional[np.ndarray] = None  # evidence of the last refit, every image
        self._top: Optional[np.ndarray] = None  # its suggested class per image (object array)
        self._decided: Optional[np.ndarray] = None  # decided mask at the last refit
        self._declined: set = set()  # (image, class) pairs refused before the last refit
        self._shown: set = set()  # images shown in a plan since the last refit
        self.rows = np.zeros((0, 0))
        self.right = np.zeros(0, dtype=bool)

    def __len__(self) -> int:
        return int(len(self.right))

    def shown(self, indices) -> None:
        """Images a plan showed the reviewer; those not accepted by the next refit count as wrong.

        A plan cut short ("accept up to here") leaves its tail undecided without refusing
        it one by one; counting that tail as right-or-unknown would make the calibration
        over-confident exactly at the plans' thresholds, so it counts as not accepted.
        """
        self._shown.update(int(i) for i in np.asarray(indices, dtype=np.int64).tolist())

    def update(self, decided_idx: np.ndarray, decided_cls, declined: Optional[dict]) -> None:
        """Score the last refit's suggestions against what was decided or refused since."""
        if self._ev is None:
            return
        n = len(self._decided)
        now = np.zeros(n, dtype=bool)
        now[np.asarray(decided_idx, dtype=np.int64)] = True
        cls_now = np.full(n, None, dtype=object)
        cls_now[np.asarray(decided_idx, dtype=np.int64)] = np.asarray(decided_cls, dtype=object)
        new = np.flatnonzero(now & ~self._decided & (self._top != None))  # noqa: E711
        rows = [self._ev[new]]
        right = [self._top[new] == cls_now[new]]
        pairs = {(int(i), c) for i, cs in (declined or {}).items() for c in cs} - self._declined
        refused = {i for i, c in pairs if i < n and self._top[i] == c and not now[i]}
        refused |= {i for i in self._shown if i < n and not now[i] and not self._decided[i] and self._top[i] is not None}
        self._shown = set()
        refused = np.asarray(sorted(refused), dtype=np.int64)
        if len(refused):
            rows.append(self._ev[refused])
            right.append(np.zeros(len(refused), dtype=bool))
        rows, right = np.concatenate(rows), np.concatenate(right)
        if len(rows) == 0:
            return
        if self.rows.size == 0 or self.rows.shape[1] != rows.shape[1]:
            self.rows, self.right = rows, right
        else:
            self.rows, self.right = np.concatenate([self.rows, rows]), np.concatenate([self.right, right])
        self.rows, self.right = self.rows[-self.keep:], self.right[-self.keep:]

    def remember(self, evidence_all: np.ndarray, top_names: np.ndarray, decided_idx: np.ndarray,
                 declined: Optional[dict]) -> None:
        """Keep this refit's evidence and suggestions for the next :meth:`update`."""
        self._ev = np.asarray(evidence_all, dtype=np.float64)
        self._top = np.asarray(top_names, dtype=object)
        self._decided = np.zeros(len(self._ev), dtype=bool)
        self._decided[np.asarray(decided_idx, dtype=np.int64)] = True
        self._declined = {(int(i), c) for i, cs in (declined or {}).items() for c in cs}
