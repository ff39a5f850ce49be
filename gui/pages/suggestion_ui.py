"""The window's class-suggestion parts: the display on the Clusters page and the four commands.

:class:`SuggestionUI` connects a :class:`~gui.controllers.suggestions.SuggestionController`
to the Clusters page (the table's Suggestion column, the center view's suggestion line,
the blue suggestion badges on thumbnails, the grid's "Disagreeing first" order, the class
picker's preselection) and to the Map tab (its "Suggestion" colouring), and offers the
commands the window's actions call: accept the suggestion of the selected clusters, the
bulk-accept dialog, Next (the review queue's top item), Grow and Name siblings.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QCheckBox, QHeaderView, QWidget

from gui.controllers.suggestions import SuggestionController
from gui.models.cluster_list_model import COL_NAME, COL_SUGGESTION

#: The table's Suggestion column takes what is left after the Name column's share, within these
#: widths (text is elided; the tooltip has all of it); the table never grows wider for it.
SUGGESTION_COLUMN_PX = (86, 170)
NAME_COLUMN_PX = 80
#: Narrower than this, the column shows the pictogram and the percentage only.
NAMES_FROM_PX = 120


class SuggestionUI(QObject):
    """Shows ``controller``'s suggestions on ``clusters`` (and ``map_page``) and runs its dialogs."""

    def __init__(self, controller: SuggestionController, clusters, map_page=None, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.controller, self.page, self.map_page = controller, clusters, map_page
        self.review = controller.review
        self.dialog: Optional[QWidget] = None  # the bulk-accept, siblings or grow dialog open now (for tests)
        page = clusters
        page.cluster_model.suggestion_of = lambda cid: (*controller.cluster_suggestion(cid),
                                                         len(controller.disagreeing_in(cid)))
        page.suggestions_of = lambda: controller.suggestions
        page.cluster_model.percent = controller.percent
        page.grid_order = self.grid_order
        page.center_suggestion = self.center_text
        header = page.table.horizontalHeader()
        header.setSectionResizeMode(COL_SUGGESTION, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(COL_SUGGESTION, SUGGESTION_COLUMN_PX[0])
        header.sectionResized.connect(lambda *_: self._fit_column())
        page.table.viewport().installEventFilter(self)
        self.first_box = QCheckBox("Disagreeing first")
        self.first_box.setToolTip("Show first the images whose suggestion differs from the cluster's name")
        self.first_box.toggled.connect(lambda _: self._reshow(keep_scroll=False))
        page.hint_row.insertWidget(page.hint_row.count() - 1, self.first_box)
        self.review.installed.connect(self._installed)  # after the page's own install: its grid model exists
        controller.ready.connect(self._on_ready)
        if map_page is not None:
            map_page.suggestions_from = lambda: controller.suggestions

    # ================================================================== display
    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._fit_column()
        return False

    def _fit_column(self) -> None:
        """Suggestion column width: the viewport less the other columns and the Name column's share."""
        table = self.page.table
        header = table.horizontalHeader()
        others = sum(header.sectionSize(c) for c in range(header.count()) if c not in (COL_NAME, COL_SUGGESTION))
        lo, hi = SUGGESTION_COLUMN_PX
        width = max(lo, min(hi, table.viewport().width() - others - NAME_COLUMN_PX))
        if header.sectionSize(COL_SUGGESTION) != width:
            header.resizeSection(COL_SUGGESTION, width)
        model = self.page.cluster_model
        if model.suggestion_names != (width >= NAMES_FROM_PX):
            model.suggestion_names = width >= NAMES_FROM_PX
            model.suggestions_changed()

    def _installed(self) -> None:
        if self.page.thumb_model is not None:
            self.page.thumb_model.suggest_of = self.badge_text

    def badge_text(self, image: int) -> Optional[str]:
        """The suggestion badge of ``image``: its suggested class where it disagrees with its cluster's name."""
        c = self.controller
        if not len(c.disagreeing) or not self._disagreeing_set().__contains__(int(image)):
            return None
        class_id, _ = c.image_suggestion(int(image))
        return self.review.taxonomy.name_of(class_id) if class_id is not None else None

    def _disagreeing_set(self) -> set:
        c = self.controller
        if getattr(self, "_set_for", None) is not c.disagreeing:
            self._set, self._set_for = set(c.disagreeing.tolist()), c.disagreeing
        return self._set

    def grid_order(self, cid: int, members):
        """``members`` with the images disagreeing with the name first, when "Disagreeing first" is on."""
        if not self.first_box.isChecked():
            return members
        bad = self._disagreeing_set()
        members = np.asarray(members)
        flag = np.fromiter((int(i) in bad for i in members.tolist()), dtype=bool, count=len(members))
        return np.concatenate([members[flag], members[~flag]])

    def center_text(self, cid: int) -> str:
        c, tax = self.controller, self.review.taxonomy
        class_id, conf = c.cluster_suggestion(cid)
        named = self.review.session.cluster_names.get(cid) if self.review.session is not None else None
        n_bad = len(c.disagreeing_in(cid))
        if class_id is None:
            if c.has_suggestions() or named is not None:
                return ""
            return "<span style='color:#888'>" + ("Computing suggestions…" if c.busy() or c.zero_shot_running()
                                                  else "Suggestions appear once a cluster is named"
                                                  + (f" (none from the pictograms: {c.zero_shot_note})"
                                                     if c.zero_shot_note else "")) + "</span>"
        if named is not None:
            if n_bad:
                return (f"<span style='color:#c87814'>⚠ {n_bad} image{'s' if n_bad != 1 else ''} look like "
                        f"another class (blue badges; “Disagreeing first” shows them first)</span>")
            return ""
        return (f"Suggested: <b>{tax.name_of(class_id)}</b> ({c.percent(conf)}) · "
                f"<span style='color:#888'>Ctrl+Enter accepts</span>")

    def _on_ready(self) -> None:
        page = self.page
        page.cluster_model.suggestions_changed()
        if page.thumb_model is not None:
            page.thumb_model.refresh_flags()
        if self.first_box.isChecked():
            self._reshow(keep_scroll=True)
        cur = self.review.current
        if cur is not None and self.review.session is not None and self.review.session.has_cluster(cur):
            page.center_view.set_suggestion(self.center_text(cur))
        if self.map_page is not None and self.map_page.color_key() == "suggestion":
            self.map_page.recolor()

    def _reshow(self, keep_scroll: bool) -> None:
        if self.review.session is not None and self.review.current is not None:
            self.page.show_cluster(self.review.current, keep_scroll=keep_scroll)

    # ================================================================== commands
    def accept_selected(self) -> bool:
        return self.controller.accept_clusters(list(self.review.selected))

    def _open_scoped(self, make, clusters):
        """Open the dialog ``make(clusters)`` for ``clusters`` (default: the selection when it holds
        several, else all), once there are suggestions."""
        c, r = self.controller, self.review
        if r.session is None:
            return None
        if not c.has_suggestions():
            c.message.emit("No suggestions yet: name a cluster or label some images first", 5000)
            return None
        if clusters is None and len(r.selected) > 1:
            clusters = list(r.selected)
        self.dialog = make(clusters)
        self.dialog.open()
        return self.dialog

    def bulk_accept(self, clusters=None, plan_indices=None):
        """The "accept every suggestion above X %" dialog for ``clusters`` (default: the selection, or all)."""
        from gui.dialogs.bulk_accept_dialog import BulkAcceptDialog

        return self._open_scoped(lambda cl: BulkAcceptDialog(self.controller, self.page.loader, clusters=cl,
                                                              only=plan_indices, parent=self.page), clusters)

    def name_siblings(self, clusters=None):
        """The "name the siblings that get one class" dialog for ``clusters`` (default: the selection, or all)."""
        from gui.dialogs.siblings_dialog import SiblingsDialog

        return self._open_scoped(lambda cl: SiblingsDialog(self.controller, clusters=cl, parent=self.page), clusters)

    def next_item(self):
        """Go to the review queue's top item: select a cluster, or preview an accept page."""
        c, r = self.controller, self.review
        item = c.queue_top()
        if item is None:
            c.message.emit("Nothing left to review: every image is decided", 5000)
            return None
        if item.kind == "cluster" and item.cluster_id is not None:
            r.select([item.cluster_id])
            c.message.emit(f"Next: {r.label(item.cluster_id)}, {len(item.indices):,} undecided images"
                           + (f" (suggested {r.taxonomy.name_of(item.class_id)}, {c.percent(item.confidence)})"
                              if item.class_id else ""), 6000)
            return item
        c.message.emit(f"Next: {len(item.indices):,} images suggested as {r.taxonomy.name_of(item.class_id)}: "
                       "check them, click the wrong ones, Apply", 6000)
        self.bulk_accept(plan_indices=item.indices)
        return item

    def grow(self):
        """The Grow dialog for the shown cluster (it must be named)."""
        from gui.dialogs.grow_dialog import GrowDialog

        c, r = self.controller, self.review
        cid = r.current
        if r.session is None or cid is None:
            return None
        if cid not in r.session.cluster_names:
            c.message.emit("Grow works on a named cluster: name it first (L)", 5000)
            return None
        self.dialog = GrowDialog(c, self.page.loader, cid, parent=self.page)
        self.dialog.open()
        return self.dialog


def suggestion_handlers(ui_of) -> dict:
    """The window's action handlers for the suggestion commands (``ui_of()`` gives the :class:`SuggestionUI`)."""
    return {
        "accept_suggestion": lambda: ui_of().accept_selected(),
        "bulk_accept": lambda: ui_of().bulk_accept(),
        "queue_next": lambda: ui_of().next_item(),
        "grow": lambda: ui_of().grow(),
        "name_siblings": lambda: ui_of().name_siblings(),
    }
