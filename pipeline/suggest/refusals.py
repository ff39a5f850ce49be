"""Classes the reviewer refused by moving images out of a named cluster.

Moving images out of a cluster named *X* says "these are not *X*": the same refusal as
clicking them out of a bulk-accept plan. :func:`moved_out` reads it off one applied
:class:`~pipeline.review.edits.Edit`; :class:`MoveRefusals` keeps a ``declined`` map
(image -> refused classes, what ``calibrated_suggestions``, the plans and the queue read)
in step with a session's edits, undo included: as a session listener it records the
refusals of a move when it is applied and takes them back when it is reverted.

    refusals = MoveRefusals(declined)
    session.add_listener(lambda edit: refusals.on_edit(session, edit))
"""
from __future__ import annotations

from collections import Counter
from typing import Optional

import numpy as np


def _final_class(session, i: int, cluster: int) -> Optional[str]:
    label = session.image_labels.get(i)
    return label if label is not None else session.cluster_names.get(cluster)


def moved_out(session, edit, applied: bool = True) -> dict[int, str]:
    """``{image: refused class}`` for a ``"move"`` edit taking images out of a named cluster.

    ``session`` is read in the state after the edit was applied (``applied=True``) or
    reverted (``False``). An image moved into a cluster of the same name, or carrying that
    class as its own label, refused nothing; merges, splits and renames refuse nothing.
    """
    if edit.kind != "move" or not len(edit.assign_indices):
        return {}
    out: dict[int, str] = {}
    for i, src, dst in zip(edit.assign_indices.tolist(), edit.assign_before.tolist(), edit.assign_after.tolist()):
        if src in edit.names:  # the move emptied the source: it lost its name (restored on revert)
            name = edit.names[src][0]
        else:
            name = session.cluster_names.get(src)
        if name is None:
            continue
        if applied:
            after = _final_class(session, i, dst)
        else:  # the session is back before the move: what the move made of the image
            after = session.image_labels.get(i)
            if after is None:
                after = edit.names[dst][1] if dst in edit.names else session.cluster_names.get(dst)
        if after != name:
            out[int(i)] = name
    return out


def was_applied(session, edit) -> bool:
    """True when ``session`` holds ``edit``'s after state (a listener is called after apply and revert)."""
    if not len(edit.assign_indices):
        return True
    return bool(np.array_equal(np.asarray(session.assignments)[edit.assign_indices], edit.assign_after))


class MoveRefusals:
    """Keeps ``declined`` (image -> set of classes) in step with moves out of named clusters.

    Only refusals this object added are taken back on undo: a class refused earlier in a
    plan stays refused when the move that refused it again is undone.
    """

    def __init__(self, declined: Optional[dict] = None) -> None:
        self.declined: dict[int, set] = {} if declined is None else declined
        self._added: Counter = Counter()  # (image, class) -> moves that refused it (and added it)

    def on_edit(self, session, edit) -> dict[int, str]:
        """Session listener: record (or on revert, withdraw) the edit's refusals; returns them."""
        applied = was_applied(session, edit)
        found = moved_out(session, edit, applied)
        for i, name in found.items():
            if applied:
                self.refuse(i, name)
            else:
                self.withdraw(i, name)
        return found

    def refuse(self, image: int, name: str) -> None:
        have = self.declined.setdefault(int(image), set())
        if name in have and not self._added[(int(image), name)]:
            return  # refused already, by something else: not ours to take back
        have.add(name)
        self._added[(int(image), name)] += 1

    def withdraw(self, image: int, name: str) -> None:
        key = (int(image), name)
        if not self._added[key]:
            return
        self._added[key] -= 1
        if not self._added[key]:
            del self._added[key]
            have = self.declined.get(int(image))
            if have is not None:
                have.discard(name)
                if not have:
                    del self.declined[int(image)]
