"""Name siblings: the dendrogram's branches whose clusters all get one class, named in one step.

Labeling mode cuts the tree into many small clusters, so one class lies spread over
neighbouring leaves. The dialog lists every largest branch whose unnamed clusters are all
suggested one class at X % or more (named clusters in it bear that name already):
pictogram, class, counts, and a strip with each unnamed cluster's center image (the tooltip
says its size and suggestion). Clicking a cluster's image leaves that cluster out (a red
cross; click again to take it back). "Merge each branch into one cluster" also merges them.
Apply names the rest as one undo step
(:meth:`~gui.controllers.suggestions.SuggestionController.apply_siblings`).
"""
from __future__ import annotations

from typing import Optional, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QCheckBox, QHBoxLayout, QLabel, QListView, QWidget

from gui.controllers.suggestions import SuggestionController
from gui.dialogs.threshold_preview import ThresholdPreviewDialog
from gui.models.suspects_model import class_pixmap
from gui.models.thumbnail_model import REJECTED, ThumbnailModel
from gui.views.thumbnail_grid import thumbnail_grid
from gui.views.thumbnail_loader import ThumbnailLoader

DEFAULT_THRESHOLD = 70
THUMB = 56
#: Thresholds listed with the number of clusters each would name.
SIZE_STEPS = (0.9, 0.8, 0.7, 0.5, 0.3)


class SiblingsDialog(ThresholdPreviewDialog):
    """Preview and apply "name the siblings that get one class" for ``clusters`` (None: all)."""

    def __init__(self, controller: SuggestionController, clusters: Optional[Sequence[int]] = None,
                 parent: Optional[QWidget] = None) -> None:
        r = controller.review
        clusters = None if clusters is None else [int(c) for c in clusters]
        scope = "the whole set" if clusters is None else f"the {len(clusters)} selected clusters"
        self.merge_box = QCheckBox("Merge each branch into one cluster")
        self.merge_box.setToolTip("Also merge the clusters of each branch (named ones too) into one cluster")
        super().__init__(r, "Name siblings", f"Branches of the dendrogram ({scope}) whose unnamed clusters are all "
                         "suggested one class, each at least:", DEFAULT_THRESHOLD, extra=[self.merge_box], parent=parent)
        self.controller, self.review, self.clusters = controller, r, clusters
        self.excluded: set[int] = set()  # clusters clicked out
        self.groups = []
        self.strips: list[ThumbnailModel] = []
        self.views: list[QListView] = []  # one strip per group, in the groups' order
        self.loader = ThumbnailLoader(r.session.paths, r.project.images, parent=self)
        self.finished.connect(lambda *_: self.loader.shutdown())
        self._show_sizes()
        self.refresh()

    def _show_sizes(self) -> None:
        counts = {t: sum(len(g.unnamed) for g in self.controller.sibling_groups(t, self.clusters)) for t in SIZE_STEPS}
        note = "" if self.controller.calibrated else \
            " (not calibrated yet: too few named clusters, so the percentages are the model's own guess)"
        self.sizes.setText("Clusters each threshold names — "
                           + " · ".join(f"≥ {100 * t:.0f}%: {n:,}" for t, n in counts.items()) + note)

    def refresh(self) -> None:
        """Rebuild the list for the current threshold (clusters left out stay left out)."""
        self.groups = self.controller.sibling_groups(self.threshold(), self.clusters)
        self.clear_body()
        self.strips, self.views = [], []
        tax = self.review.taxonomy
        for g in self.groups:
            row = QHBoxLayout()
            picto = QLabel()
            picto.setPixmap(class_pixmap(tax, g.class_id, 28))
            head = QLabel()
            head.setTextFormat(Qt.TextFormat.PlainText)
            named = [c for c in g.clusters if c not in g.unnamed]
            head.setText(f"{tax.name_of(g.class_id)} — {len(g.unnamed)} cluster{'s' if len(g.unnamed) != 1 else ''}, "
                         f"{g.images:,} images (lowest {self.controller.percent(g.confidence)})"
                         + (f"; beside {len(named)} named {tax.name_of(g.class_id)}" if named else ""))
            head.setProperty("class_id", g.class_id)
            row.addWidget(picto)
            row.addWidget(head, 1)
            holder = QWidget()
            holder.setLayout(row)
            self.body_layout.addWidget(holder)
            self.body_layout.addWidget(self._strip(g.unnamed))
        if not self.groups:
            self.body_layout.addWidget(QLabel(
                "No branch of two clusters or more agrees on one class at this threshold."
                if self.controller.has_suggestions() else
                "No suggestions yet: name a cluster or label some images first."))
        self.body_layout.addStretch(1)
        self._update_summary()

    def _strip(self, cids: list[int]) -> QListView:
        st = self.review.stats
        medoid_of = {int(st.medoids[c]): c for c in cids if c in st.medoids}
        cluster_at = [c for c in cids if c in st.medoids]
        model = ThumbnailModel(self.loader, flags_of=lambda i: frozenset({REJECTED})
                               if medoid_of.get(i) in self.excluded else frozenset(),
                               tooltip_of=lambda i: self._tip(medoid_of.get(i)), parent=self)
        model.thumb_size = THUMB
        model.set_indices([st.medoids[c] for c in cluster_at])
        v = thumbnail_grid(THUMB, QAbstractItemView.SelectionMode.NoSelection, spacing=0)
        v.setFixedHeight(max(1, min(3, -(-len(cluster_at) // 12))) * (THUMB + 8) + 6)
        v.setModel(model)
        v.clicked.connect(lambda idx: self.toggle(cluster_at[idx.row()]))
        self.strips.append(model)
        self.views.append(v)
        return v

    def _tip(self, cid: Optional[int]) -> str:
        if cid is None:
            return ""
        r = self.review
        class_id, conf = self.controller.cluster_suggestion(cid)
        state = "left out (click to take it back)" if cid in self.excluded else "click to leave this cluster out"
        return (f"{r.label(cid)}: {r.session.size(cid):,} images, suggested {r.taxonomy.name_of(class_id)} "
                f"{self.controller.percent(conf)} — {state}")

    def toggle(self, cid: int) -> None:
        """Leave cluster ``cid`` out of the naming (or take it back)."""
        cid = int(cid)
        self.excluded.symmetric_difference_update({cid})
        for model in self.strips:
            model.refresh_flags()
        self._update_summary()

    def taken(self) -> list[int]:
        """The clusters Apply would name now."""
        return [c for g in self.groups for c in g.unnamed if c not in self.excluded]

    def _update_summary(self) -> None:
        cids = self.taken()
        images = sum(self.review.session.size(c) for c in cids)
        self.summary.setText(f"Apply names {len(cids):,} cluster{'s' if len(cids) != 1 else ''} "
                             f"({images:,} images) in one step")
        self.apply_button.setEnabled(bool(cids))

    def apply(self) -> bool:
        ok = self.controller.apply_siblings(self.groups, self.excluded, merge=self.merge_box.isChecked())
        if ok:
            self.accept()
        return ok
