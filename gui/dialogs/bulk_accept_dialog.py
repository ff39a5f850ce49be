"""Accept every suggestion above X %: the threshold, what each X takes, and a preview to correct.

The dialog shows how many images each threshold would accept (``plan_sizes``), then the
plan at the chosen threshold grouped by class: pictogram, name, count and a strip of the
images (most confident first, so the doubtful ones sit at the end of each strip).
Clicking a thumbnail leaves it out (a red cross; click again to take it back): the reviewer
refused that suggestion. Shift+click is "accept up to here": that image and the rest of its
strip are left out without being refused (Shift+click it again to take the cut back). Apply
labels the rest with their suggestions as one undo step
(:meth:`~gui.controllers.suggestions.SuggestionController.apply_plan`), which posts what
it did on the status line.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QHBoxLayout, QLabel, QListView, QWidget

from gui.controllers.suggestions import SuggestionController
from gui.dialogs.threshold_preview import ThresholdPreviewDialog
from gui.models.suspects_model import class_pixmap
from gui.models.thumbnail_model import REJECTED, ThumbnailModel
from gui.views.thumbnail_grid import thumbnail_grid
from gui.views.thumbnail_loader import ThumbnailLoader

#: Thresholds listed with the number of images each would accept.
SIZE_STEPS = (0.99, 0.95, 0.9, 0.8, 0.7, 0.5)
DEFAULT_THRESHOLD = 90
THUMB = 48


class BulkAcceptDialog(ThresholdPreviewDialog):
    """Preview and apply "accept every suggestion above X %" for ``clusters`` (None: all).

    ``only``: restrict the plan to these images (an accept page of the review queue).
    """

    def __init__(self, controller: SuggestionController, loader=None, clusters: Optional[Sequence[int]] = None,
                 only: Optional[Sequence[int]] = None, parent: Optional[QWidget] = None) -> None:
        r = controller.review
        clusters = None if clusters is None else [int(c) for c in clusters]
        scope = ("the review queue's page" if only is not None else
                 "the whole set" if clusters is None else
                 f"{len(clusters)} selected cluster{'s' if len(clusters) != 1 else ''}")
        super().__init__(r, "Accept suggestions", f"Undecided images of {scope} whose suggestion is at least:",
                         DEFAULT_THRESHOLD if only is None else 1, parent=parent)
        self.controller, self.review, self.clusters = controller, r, clusters
        self.only = None if only is None else set(int(i) for i in only)
        self.excluded: set[int] = set()  # clicked: refused
        self.cuts: dict[str, int] = {}  # class -> the image an "accept up to here" cut starts at
        self.cut_out: set[int] = set()  # the images the cuts leave out (made again when a cut changes)
        self.plan = None
        self.strips: list[tuple[str, QListView, ThumbnailModel]] = []
        self.loader = ThumbnailLoader(r.session.paths, r.project.images, parent=self)
        self.finished.connect(lambda *_: self.loader.shutdown())
        self._show_sizes()
        self.refresh()

    # ================================================================== content
    def _plan_at(self, threshold: float):
        plan = self.controller.plan(threshold, self.clusters)
        if self.only is not None:
            for g in plan.groups:
                keep = np.fromiter((int(i) in self.only for i in g.indices.tolist()), dtype=bool, count=len(g.indices))
                g.indices, g.confidence = g.indices[keep], g.confidence[keep]
            plan.groups = [g for g in plan.groups if len(g.indices)]
        return plan

    def _show_sizes(self) -> None:
        parts = [f"≥ {100 * t:.0f}%: {len(self._plan_at(t)):,}" for t in SIZE_STEPS]
        note = "" if self.controller.calibrated else \
            " (not calibrated yet: too few named clusters, so the percentages are the model's own guess)"
        self.sizes.setText("Images each threshold takes — " + " · ".join(parts) + note)

    def refresh(self) -> None:
        """Rebuild the preview for the current threshold (left-out images stay left out)."""
        self.plan = self._plan_at(self.threshold())
        self.clear_body()
        self.strips = []
        self.cuts, self.cut_out = {}, set()  # the strips changed: a cut is made again on what is shown now
        tax = self.review.taxonomy
        for g in self.plan.groups:
            head = QLabel()
            head.setTextFormat(Qt.TextFormat.PlainText)
            row = QHBoxLayout()
            picto = QLabel()
            picto.setPixmap(class_pixmap(tax, g.class_id, 28))
            row.addWidget(picto)
            row.addWidget(head, 1)
            holder = QWidget()
            holder.setLayout(row)
            self.body_layout.addWidget(holder)
            strip, model = self._strip(g.indices, g.class_id)
            self.body_layout.addWidget(strip)
            self.strips.append((g.class_id, strip, model))
            head.setProperty("class_id", g.class_id)
            lo, hi = (self.controller.percent(float(f(g.confidence))) for f in (np.min, np.max))
            head.setText(f"{tax.name_of(g.class_id)} — {len(g.indices):,} image{'s' if len(g.indices) != 1 else ''} "
                         f"(confidence {lo if lo == hi else f'{lo}–{hi}'})")
        if not self.plan.groups:
            self.body_layout.addWidget(QLabel("No undecided image reaches this threshold."))
        self.body_layout.addStretch(1)
        self._update_summary()

    def _strip(self, indices, class_id: str) -> tuple[QListView, ThumbnailModel]:
        model = ThumbnailModel(self.loader, flags_of=lambda i: frozenset({REJECTED}) if i in self.excluded
                               or i in self.cut_out else frozenset(), tooltip_of=self._tip, parent=self)
        model.thumb_size = THUMB
        model.set_indices(indices)
        v = thumbnail_grid(THUMB, QAbstractItemView.SelectionMode.NoSelection, spacing=0)
        rows = max(1, min(3, -(-len(indices) // 12)))
        v.setFixedHeight(rows * (THUMB + 8) + 6)
        v.setModel(model)
        v.clicked.connect(lambda idx, m=model, c=class_id: self._clicked(c, m.image_index(idx.row())))
        return v, model

    def _clicked(self, class_id: str, image: int) -> None:
        if QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.cut(class_id, image)
        else:
            self.toggle(image)

    def _tail(self) -> set[int]:
        """Images left out by the cuts (not refused): :attr:`cut_out` after a change of :attr:`cuts`."""
        out: set[int] = set()
        for g in (self.plan.groups if self.plan is not None else []):
            if g.class_id in self.cuts:
                order = g.indices.tolist()
                out.update(order[order.index(self.cuts[g.class_id]):])
        return out

    def cut(self, class_id: str, image: int) -> None:
        """"Accept up to here": leave ``image`` and the rest of its class strip out (again: take it back)."""
        image = int(image)
        if self.cuts.get(class_id) == image:
            del self.cuts[class_id]
        else:
            self.cuts[class_id] = image
        self.cut_out = self._tail()
        for _, _, model in self.strips:
            model.refresh_flags()
        self._update_summary()

    def _tip(self, image: int) -> str:
        class_id, conf = self.controller.image_suggestion(image)
        state = ("left out (click to take it back)" if image in self.excluded else
                 "after an 'accept up to here' cut (Shift+click the first one to take it back)"
                 if image in self.cut_out else "click to leave it out, Shift+click: accept up to here")
        return f"Image {image}: {self.review.taxonomy.name_of(class_id)} {self.controller.percent(conf)} — {state}"

    def toggle(self, image: int) -> None:
        """Leave ``image`` out of the accept (or take it back)."""
        image = int(image)
        if image in self.excluded:
            self.excluded.discard(image)
        else:
            self.excluded.add(image)
        for _, _, model in self.strips:
            model.refresh_flags()
        self._update_summary()

    def taken(self) -> list[int]:
        """The images Apply would label now."""
        out = self.excluded | self.cut_out
        return [i for i in self.plan.indices.tolist() if i not in out] if self.plan is not None else []

    def _update_summary(self) -> None:
        n = len(self.taken())
        out = len(set(self.plan.indices.tolist()) & (self.excluded | self.cut_out)) if self.plan is not None else 0
        self.summary.setText(f"Apply labels {n:,} image{'s' if n != 1 else ''} in one step"
                             + (f" ({out:,} left out)" if out else ""))
        self.apply_button.setEnabled(n > 0)

    def apply(self) -> bool:
        tail = self.cut_out
        exclude = set(self.plan.indices.tolist()) & (self.excluded | tail) if self.plan is not None else set()
        ok = self.plan is not None and self.controller.apply_plan(self.plan, exclude, cut=tail - self.excluded)
        if ok:
            self.accept()
        return ok
