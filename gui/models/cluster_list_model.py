"""Table model of the clusters: center thumbnail, name, size, purity, silhouette, accepted, suggestion.

The suggestion column (pictogram, class, calibrated confidence) reads ``suggestion_of``
(set by the page from :class:`~gui.controllers.suggestions.SuggestionController`); a
named cluster shows a mark when its suggestion is another class or some of its images
disagree with its name.

The model keeps its rows in the table's sort order itself (:meth:`ClusterListModel.sort`, by
:data:`SORT_ROLE`'s raw numbers and names, ties by id; missing figures sort last): one Python
sort over the K keys instead of a proxy asking Python for two values per comparison. After an
edit, :meth:`ClusterListModel.refresh` touches only the changed clusters' rows (removed, inserted,
updated, then one re-sort), so a merge in a 1,000-cluster table costs milliseconds. The table
shows the model itself (a sort proxy in between cost a Python ``rowCount`` and ``columnCount`` per
cell and role: a fifth of a table paint); a header click calls :meth:`ClusterListModel.sort`.
"""
from __future__ import annotations

import math
from typing import Callable, Optional

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPixmap

from pipeline.review.label_stats import session_label_codes, session_purities
from pipeline.review import ReviewSession, Taxonomy

from pipeline.clustering.summary import ClusterStats

CLUSTER_ID_ROLE = Qt.ItemDataRole.UserRole + 10
SORT_ROLE = Qt.ItemDataRole.UserRole + 11

COL_CLUSTER, COL_NAME, COL_SIZE, COL_PURITY, COL_SILHOUETTE, COL_ACCEPTED, COL_SUGGESTION = range(7)
HEADERS = ["Cluster", "Name", "Size", "Purity", "Silhouette", "✓", "Suggestion"]
HEADER_TIPS = [
    "Cluster id and its medoid image (the member nearest the center)",
    "Class given to the cluster, or 'unnamed'",
    "Number of images",
    "Share of the labelled images carrying the cluster's majority label",
    "Mean centroid-based silhouette: near 1 = compact and well separated",
    "Accepted by the reviewer",
    "Class the suggestions propose (learnt from your decisions), with its calibrated confidence; "
    "⚠ on a named cluster: the suggestion or some of its images disagree with the name",
]
# Roles as plain ints: comparing the role Qt passes with enum members costs an enum lookup each
# time, and a table paint asks ~600 times.
_CID, _SORT = int(CLUSTER_ID_ROLE), int(SORT_ROLE)
_DISPLAY, _DECORATION = int(Qt.ItemDataRole.DisplayRole), int(Qt.ItemDataRole.DecorationRole)
_FOREGROUND, _FONT = int(Qt.ItemDataRole.ForegroundRole), int(Qt.ItemDataRole.FontRole)
_ALIGN, _TOOLTIP = int(Qt.ItemDataRole.TextAlignmentRole), int(Qt.ItemDataRole.ToolTipRole)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)
_GREY, _GREEN, _ORANGE = QColor(140, 140, 140), QColor(38, 166, 91), QColor(200, 120, 20)
#: ``suggestion_of(cid)`` -> (class id or None, confidence, images disagreeing with the name).
SuggestionOf = Callable[[int], tuple]


def column_widths(header_metrics, cell_metrics, icon_px: int) -> dict[int, int]:
    """Widths of the cluster table's fixed-content columns: the wider of the header (with the
    sort arrow) and the widest value the column can show."""
    def fit(title: str, widest: str, extra: int = 0) -> int:
        return max(header_metrics.horizontalAdvance(title) + 18, cell_metrics.horizontalAdvance(widest) + 10 + extra)

    return {COL_CLUSTER: fit("Cluster", "#0000", icon_px + 4), COL_SIZE: fit("Size", "00000"),
            COL_PURITY: fit("Purity", "100%"), COL_SILHOUETTE: fit("Silhouette", "-0.00"),
            COL_ACCEPTED: fit("✓", "✓")}


def _italic_font() -> QFont:
    f = QFont()
    f.setItalic(True)
    return f


class ClusterListModel(QAbstractTableModel):
    """One row per cluster of ``session``; call :meth:`refresh` after edits."""

    def __init__(self, taxonomy: Taxonomy, thumb_of: Optional[Callable[[int], Optional[QPixmap]]] = None,
                 parent=None) -> None:
        super().__init__(parent)
        self.taxonomy = taxonomy
        self.thumb_of = thumb_of
        self.session: Optional[ReviewSession] = None
        self.stats: Optional[ClusterStats] = None
        self._ids: list[int] = []  # in display (sort) order
        self._row: dict[int, int] = {}
        self.sort_column, self.sort_descending = COL_SIZE, True
        self._purity: dict[int, Optional[float]] = {}
        self._icons: dict[int, QIcon] = {}
        self._looks: dict = {}
        self.has_labels = False
        self.suggestion_of: Optional[SuggestionOf] = None
        self.percent: Callable[[float], str] = lambda c: f"{100 * c:.0f}%"  # "≈" before calibration
        self.suggestion_names = True  # False in a narrow column: pictogram and percentage only

    def suggestions_changed(self) -> None:
        """New suggestions: repaint the suggestion column."""
        if self._ids:
            self.dataChanged.emit(self.index(0, COL_SUGGESTION), self.index(len(self._ids) - 1, COL_SUGGESTION))
            if self.sort_column == COL_SUGGESTION:
                self._resort()

    def suggestion(self, cid: int) -> tuple:
        """``(class id or None, confidence, disagreeing images)`` of cluster ``cid``."""
        return self.suggestion_of(cid) if self.suggestion_of is not None else (None, 0.0, 0)

    def _suggestion_text(self, cid: int) -> str:
        class_id, conf, n_bad = self.suggestion(cid)
        named = self.session.cluster_names.get(cid)
        if named is not None:
            if class_id is not None and class_id != named and conf >= 0.5:
                return f"⚠ {self.percent(conf)} {self.taxonomy.name_of(class_id) if self.suggestion_names else ''}"
            return f"⚠ {n_bad} differ" if n_bad else ""
        if class_id is None:
            return ""
        return f"{self.percent(conf)} {self.taxonomy.name_of(class_id)}" if self.suggestion_names else self.percent(conf)

    def set_session(self, session: Optional[ReviewSession], stats: Optional[ClusterStats]) -> None:
        self.beginResetModel()
        self.session, self.stats = session, stats
        self._looks.clear()
        self._reload()
        self.endResetModel()

    #: Above this many added or removed clusters an edit resets the table instead of row by row.
    ROW_EDITS_UP_TO = 64

    def refresh(self, stats: Optional[ClusterStats], changed: Optional[set[int]] = None) -> None:
        """Re-read the session after an edit: ``changed`` cluster ids (``None``: all) get new rows,
        figures and thumbnails; the other rows stay as they are."""
        self.stats = stats
        s = self.session
        if s is None or changed is None:
            self._icons.clear()
            self._looks.clear()  # the taxonomy may have changed
            self.beginResetModel()
            self._reload(keep_icons=True)
            self.endResetModel()
            return
        changed = {int(c) for c in changed}
        for cid in changed:
            self._icons.pop(cid, None)
        gone = [c for c in changed if c in self._row and not s.has_cluster(c)]
        new = sorted(c for c in changed if c not in self._row and s.has_cluster(c))
        if len(gone) + len(new) > self.ROW_EDITS_UP_TO:
            self.refresh(stats, None)
            return
        for cid in sorted(gone, key=self._row.__getitem__, reverse=True):
            row = self._row[cid]
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._ids[row]
            self._purity.pop(cid, None)
            self._index_rows()
            self.endRemoveRows()
        if new:
            self.beginInsertRows(QModelIndex(), len(self._ids), len(self._ids) + len(new) - 1)
            self._ids.extend(new)
            self._index_rows()
            self.endInsertRows()
        present = sorted(c for c in changed if c in self._row)
        if self.has_labels and present:
            self._purity.update(session_purities(s, present))
        for cid in present:
            row = self._row[cid]
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))
        if present:
            self._resort()

    def _reload(self, keep_icons: bool = False) -> None:
        s = self.session
        self._ids = s.cluster_ids() if s is not None else []
        if not keep_icons:
            self._icons = {}
        self.has_labels = bool(s is not None and (session_label_codes(s)[0] >= 0).any())
        self._purity = session_purities(s, self._ids) if (s is not None and self.has_labels) else {}
        self._ids = self._ordered(self._ids)  # the purity column sorts by the figures just computed
        self._index_rows()

    def _index_rows(self) -> None:
        self._row = {cid: r for r, cid in enumerate(self._ids)}

    def _ordered(self, ids: list[int]) -> list[int]:
        """``ids`` in the current sort: by :data:`SORT_ROLE` of the sort column, ties by id (a stable sort)."""
        col = self.sort_column
        if self.session is None or col < 0:
            return sorted(ids)
        return sorted(sorted(ids), key=lambda c: self._sort_value(c, col), reverse=self.sort_descending)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the rows by ``column`` (the table's header click comes here)."""
        self.sort_column, self.sort_descending = int(column), order == Qt.SortOrder.DescendingOrder
        self._resort()

    def _resort(self) -> None:
        """Put the rows in the current sort order again (a layout change; selections follow their clusters)."""
        new = self._ordered(self._ids)
        if new == self._ids:
            return
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        cids = [self._ids[i.row()] if 0 <= i.row() < len(self._ids) else None for i in persistent]
        self._ids = new
        self._index_rows()
        self.changePersistentIndexList(persistent, [
            self.index(self._row[c], i.column()) if c is not None else QModelIndex() for c, i in zip(cids, persistent)])
        self.layoutChanged.emit()

    def cluster_ids(self) -> list[int]:
        """The clusters in display order."""
        return list(self._ids)

    def row_of(self, cid: int) -> Optional[int]:
        return self._row.get(int(cid))

    # -- Qt API ----------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return HEADER_TIPS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        s = self.session
        if s is None:
            return None
        row, role = index.row(), int(role)
        if row < 0 or row >= len(self._ids):
            return None
        cid = self._ids[row]
        if role == _CID:
            return cid
        col = index.column()
        if role == _DISPLAY:
            return self._display(cid, col)
        if role == _SORT:
            return self._sort_value(cid, col)
        if role == _ALIGN:
            return _RIGHT if col in (COL_SIZE, COL_PURITY, COL_SILHOUETTE) else _CENTER if col == COL_ACCEPTED else None
        if role == _DECORATION:
            return self._decoration(cid, col)
        if role == _FOREGROUND:  # (brushes and font made once: a table paint asks for them ~100 times)
            if col == COL_NAME and cid not in s.cluster_names:
                return self._look("grey", lambda: QBrush(_GREY))
            if col == COL_ACCEPTED:
                return self._look("green", lambda: QBrush(_GREEN))
            if col == COL_SUGGESTION and cid in s.cluster_names:
                return self._look("orange", lambda: QBrush(_ORANGE))
            return None
        if role == _FONT:
            if col == COL_NAME and cid not in s.cluster_names:
                return self._look("italic", _italic_font)
            return None
        if role == _TOOLTIP:
            return self._tooltip(cid, col)
        return None

    def _decoration(self, cid: int, col: int):
        s = self.session
        if col == COL_CLUSTER and self.thumb_of is not None:
            icon = self._icons.get(cid)
            if icon is None:
                pix = self.thumb_of(cid)
                if pix is None:
                    return None
                icon = QIcon(pix)
                self._icons[cid] = icon
            return icon
        if col in (COL_NAME, COL_SUGGESTION):
            class_id = s.cluster_names.get(cid) if col == COL_NAME else self.suggestion(cid)[0]
            if col == COL_SUGGESTION and (class_id is None or not self._suggestion_text(cid)):
                return None
            return self._look(("class", class_id), lambda: self._class_icon(class_id))
        return None

    def _look(self, key, make: Callable[[], object]):
        """A brush, font or icon (``None`` too) made once and reused (class icons dropped with the taxonomy)."""
        if key not in self._looks:
            self._looks[key] = make()
        return self._looks[key]

    def _class_icon(self, class_id) -> Optional[QIcon]:
        from gui.dialogs.class_picker import class_icon_of

        cls = self.taxonomy.by_id(class_id)
        return class_icon_of(cls, 24) if cls is not None else None

    def _tooltip(self, cid: int, col: int) -> str:
        s = self.session
        if col == COL_SUGGESTION:
            class_id, conf, n_bad = self.suggestion(cid)
            if class_id is None:
                return "No suggestion yet: name a cluster or label images, suggestions learn from them"
            pct = self.percent(conf)
            tip = f"Suggested: {self.taxonomy.name_of(class_id)} ({pct} " + (
                "confidence, not calibrated yet: too few named clusters)" if pct.startswith("≈") else
                "calibrated confidence)")
            return tip + (f"; {n_bad} image(s) disagree with the name" if n_bad else "")
        name = self.taxonomy.name_of(s.cluster_names.get(cid)) or "unnamed"
        return f"Cluster {cid}: {name}, {s.size(cid)} images"

    def _display(self, cid: int, col: int):
        s = self.session
        if col == COL_CLUSTER:
            return "noise" if cid < 0 else f"#{cid}"
        if col == COL_NAME:
            class_id = s.cluster_names.get(cid)
            if class_id is None:
                return "unnamed"
            cls = self.taxonomy.by_id(class_id)
            return cls.label if cls is not None else class_id
        if col == COL_SIZE:
            return f"{s.size(cid):,}"
        if col == COL_PURITY:
            p = self._purity.get(cid)
            return "" if p is None else f"{100 * p:.0f}%"
        if col == COL_SILHOUETTE:
            v = self.stats.silhouette.get(cid) if self.stats else None
            return "" if v is None or math.isnan(v) else f"{v:.2f}"
        if col == COL_ACCEPTED:
            return "✓" if cid in s.accepted else ""
        if col == COL_SUGGESTION:
            return self._suggestion_text(cid)
        return None

    def _sort_value(self, cid: int, col: int):
        s = self.session
        if col == COL_CLUSTER:
            return float(cid)
        if col == COL_NAME:
            class_id = s.cluster_names.get(cid)
            return "\uffff" if class_id is None else self.taxonomy.name_of(class_id).casefold()
        if col == COL_SIZE:
            return float(s.size(cid))
        if col == COL_PURITY:
            p = self._purity.get(cid)
            return -1.0 if p is None else float(p)
        if col == COL_SILHOUETTE:
            v = self.stats.silhouette.get(cid) if self.stats else None
            return -2.0 if v is None or math.isnan(v) else float(v)
        if col == COL_ACCEPTED:
            return 1.0 if cid in s.accepted else 0.0
        if col == COL_SUGGESTION:  # descending: the named clusters most images disagree with first, then by confidence
            class_id, conf, n_bad = self.suggestion(cid)
            if cid in s.cluster_names and n_bad:
                return 2.0 + float(n_bad)
            return -1.0 if class_id is None else float(conf)
        return None

