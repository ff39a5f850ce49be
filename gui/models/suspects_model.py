"""Table model of probably-mislabeled images (a :class:`SuspectReport`) over a review session.

Rows are the suspects, worst first: images whose given label scores above
``min_score`` or that confident learning flags, plus the outliers and the members of
near-duplicate pairs with different labels. Each row shows the rank, a thumbnail, the
given and the suggested class (pictogram or a text badge), the score, the confidence
and the reviewer's decision, which is read from the :class:`ReviewSession` (so undo,
redo and edits made elsewhere in the window show up here). :func:`decision_builders`
turns a decision into session edits.
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Callable, Optional, Sequence

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPixmap

from pipeline.review import Edit, ReviewSession, Taxonomy

from gui.views.thumbnail_loader import ThumbnailLoader

if TYPE_CHECKING:  # pipeline.mislabels imports scikit-learn; only the type is needed here
    from pipeline.mislabels import SuspectReport

IMAGE_INDEX_ROLE = Qt.ItemDataRole.UserRole + 1
DECISION_ROLE = Qt.ItemDataRole.UserRole + 2

# Decisions a reviewer can take on a suspect (and the state before any).
UNDECIDED, ACCEPTED, KEPT, RELABELED, REJECTED = "undecided", "accepted", "kept", "relabeled", "rejected"
DECISION_TEXT = {
    UNDECIDED: "—",
    ACCEPTED: "✔ Suggestion accepted",
    KEPT: "✔ Label kept",
    RELABELED: "✔ Other class",
    REJECTED: "✖ Rejected",
}
DECISION_SHORT = {  # for the table column
    UNDECIDED: "—", ACCEPTED: "✔ Accepted", KEPT: "✔ Kept", RELABELED: "✔ Other", REJECTED: "✖ Rejected",
}
DECISION_COLORS = {  # (background, text): soft tints readable for hours
    ACCEPTED: ("#d7f0d9", "#1b5e20"),
    KEPT: ("#dbe8f7", "#0d3c74"),
    RELABELED: ("#ece0f5", "#4a1a6b"),
    REJECTED: ("#f6dcdc", "#8a1c1c"),
}

# Which suspects a view shows.
FILTER_ALL, FILTER_UNDECIDED, FILTER_OUTLIERS, FILTER_CONFLICTS = "all", "undecided", "outliers", "conflicts"
FILTERS = {
    FILTER_ALL: "All suspects",
    FILTER_UNDECIDED: "Undecided",
    FILTER_OUTLIERS: "Outliers",
    FILTER_CONFLICTS: "Duplicate conflicts",
}

COLUMNS = ["#", "Image", "Given", "Suggested", "Score", "Conf.", "Decision"]
COL_RANK, COL_IMAGE, COL_GIVEN, COL_SUGGESTED, COL_SCORE, COL_CONFIDENCE, COL_DECISION = range(len(COLUMNS))

_badge_cache: dict[tuple[str, int], QPixmap] = {}
_icon_cache: dict[tuple[str, int], Optional[QPixmap]] = {}


def badge_color(class_id: str) -> QColor:
    """A stable, muted colour for a class id (the same id always gets the same hue)."""
    hue = int(hashlib.md5(class_id.encode("utf-8")).hexdigest()[:4], 16) % 360
    return QColor.fromHsl(hue, 110, 95)


def text_badge(class_id: str, size: int) -> QPixmap:
    """A rounded square with the class id in large white letters, for classes without a pictogram."""
    key = (class_id, size)
    pix = _badge_cache.get(key)
    if pix is not None:
        return pix
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    inset = max(1.0, size * 0.04)
    path.addRoundedRect(QRectF(inset, inset, size - 2 * inset, size - 2 * inset), size * 0.18, size * 0.18)
    p.fillPath(path, badge_color(class_id))
    font = QFont()
    font.setBold(True)
    text = class_id if len(class_id) <= 4 else class_id[:3] + "…"
    font.setPixelSize(max(8, int(size * (0.5 if len(text) <= 2 else 0.34))))
    p.setFont(font)
    p.setPen(QColor("white"))
    p.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, text)
    p.end()
    _badge_cache[key] = pix
    return pix


def class_pixmap(taxonomy: Optional[Taxonomy], class_id: str, size: int) -> QPixmap:
    """The class's pictogram scaled into ``size`` x ``size`` (its icon file, else the drawn GTSRB
    pictogram), else a :func:`text_badge`.

    Pictograms (a few KB each, one per class) are read once and cached.
    """
    cls = taxonomy.by_id(class_id) if taxonomy is not None else None
    if cls is not None and cls.icon:
        key = (cls.icon, size)
        if key not in _icon_cache:
            pix = QPixmap(cls.icon)
            _icon_cache[key] = None if pix.isNull() else pix.scaled(
                size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        if _icon_cache[key] is not None:
            return _icon_cache[key]
    if cls is not None:
        from gui.dialogs.class_picker import drawn_pictogram

        drawn = drawn_pictogram(cls, size)
        if drawn is not None:
            return drawn
    return text_badge(class_id, size)


def class_text(taxonomy: Optional[Taxonomy], class_id: str) -> str:
    """``"<id> · <name>"`` (just the id when the taxonomy has no other name)."""
    name = taxonomy.name_of(class_id) if taxonomy is not None else class_id
    return class_id if not name or name == class_id else f"{class_id} · {name}"


def decision_of(session: ReviewSession, i: int, given: str, suggested: str) -> str:
    """The reviewer's decision on image ``i``, read from the session state.

    Only per-image state counts (reviewed mark, image label, rejection): naming or
    accepting the image's whole cluster does not decide a suspect.
    """
    if i in session.rejected:
        return REJECTED
    if i not in session.reviewed and i not in session.image_labels:
        return UNDECIDED
    final = session.class_of_image(i)
    if final == given:
        return KEPT
    if final == suggested:
        return ACCEPTED
    return RELABELED


def decision_builders(
    session: ReviewSession, images: Sequence[int], targets: Optional[Sequence[Optional[str]]]
) -> list[Callable[[], Edit]]:
    """Edit builders that give each image its target class (``targets=None``: reject all).

    Every image ends up marked reviewed; images getting a class are un-rejected, rejected
    images lose any class override (an override would outrank the rejection). Images
    sharing a target are labelled in one step. Pass the result to ``session.batch``.
    """
    images = [int(i) for i in images]
    builders: list[Callable[[], Edit]] = []
    if targets is None:
        overridden = [i for i in images if i in session.image_labels]
        if overridden:
            builders.append(lambda idx=overridden: session.set_image_label(idx, None))
        builders.append(lambda: session.reject(images, True, mark_reviewed=True))
        return builders
    rejected = [i for i in images if i in session.rejected]
    if rejected:
        builders.append(lambda idx=rejected: session.reject(idx, False))
    groups: dict[str, list[int]] = {}
    for i, target in zip(images, targets):
        groups.setdefault(str(target), []).append(i)
    for target, idx in groups.items():
        builders.append(lambda idx=idx, target=target: session.set_image_label(idx, target, mark_reviewed=True))
    return builders


class SuspectsModel(QAbstractTableModel):
    """Suspect rows (worst first) of ``report`` over ``session``.

    ``indices[r]`` is the session image index of report entry ``r`` (the report may cover
    only the labelled images); by default entry ``r`` is image ``r``. Thumbnails come from
    ``loader`` asynchronously (a grey tile until they arrive). Call :meth:`refresh` after the
    session changed (the view does, from a session listener).
    """

    def __init__(
        self,
        session: ReviewSession,
        report: "SuspectReport",
        taxonomy: Optional[Taxonomy],
        loader: Optional[ThumbnailLoader] = None,
        *,
        indices: Optional[Sequence[int]] = None,
        min_score: float = 0.5,
        thumb_size: int = 48,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.report = report
        self.taxonomy = taxonomy
        self.loader = loader
        self.thumb_size = thumb_size
        self.indices = np.arange(len(report), dtype=np.int64) if indices is None else np.asarray(indices, np.int64)
        if len(self.indices) != len(report):
            raise ValueError(f"{len(self.indices)} image indices for a report of {len(report)} images")
        if len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= len(session)):
            raise ValueError("report image indices fall outside the session")
        self.given_ids = [report.classes[c] for c in report.given]
        self.suggested_ids = [report.classes[c] for c in report.suggested]
        self.is_outlier = np.zeros(len(report), dtype=bool)
        self.is_outlier[np.asarray(report.outliers, dtype=np.int64)] = True
        self.conflict_partners: dict[int, list[tuple[int, float]]] = {}
        for a, b, d in report.near_duplicate_conflicts:
            self.conflict_partners.setdefault(int(a), []).append((int(b), float(d)))
            self.conflict_partners.setdefault(int(b), []).append((int(a), float(d)))
        in_conflict = np.zeros(len(report), dtype=bool)
        if self.conflict_partners:
            in_conflict[np.fromiter(self.conflict_partners, dtype=np.int64)] = True
        self.in_conflict = in_conflict
        keep = (report.score > min_score) | np.asarray(report.flagged, bool) | self.is_outlier | in_conflict
        ranked = report.ranked()
        self.suspects = ranked[keep[ranked]]  # report entries, worst first
        self.rank_of = {int(e): r + 1 for r, e in enumerate(ranked)}
        self.decisions = [UNDECIDED] * len(report)
        self.filter = FILTER_ALL
        self._rows = self.suspects
        self._update_decisions()
        self._rows = self._filtered_rows()
        if loader is not None:
            loader.loaded.connect(self._on_thumbnail)

    # -- content -------------------------------------------------------------------
    def entry(self, row: int) -> int:
        """Report entry shown in ``row``."""
        return int(self._rows[row])

    def image_index(self, row: int) -> int:
        """Session image index shown in ``row``."""
        return int(self.indices[self._rows[row]])

    def row_of_entry(self, entry: int) -> Optional[int]:
        hits = np.flatnonzero(self._rows == entry)
        return int(hits[0]) if len(hits) else None

    def entries(self) -> np.ndarray:
        """Report entries of the rows, in row order."""
        return self._rows.copy()

    def decision(self, entry: int) -> str:
        return self.decisions[entry]

    def counts(self) -> dict[str, int]:
        """Suspects per decision (over all suspects, whatever the filter)."""
        out = {k: 0 for k in DECISION_TEXT}
        for e in self.suspects.tolist():
            out[self.decisions[e]] += 1
        return out

    def set_filter(self, name: str) -> None:
        if name not in FILTERS:
            raise ValueError(f"unknown filter {name!r}; known: {list(FILTERS)}")
        self.beginResetModel()
        self.filter = name
        self._rows = self._filtered_rows()
        self.endResetModel()

    def _filtered_rows(self) -> np.ndarray:
        rows = self.suspects
        if self.filter == FILTER_UNDECIDED:
            rows = rows[[self.decisions[e] == UNDECIDED for e in rows.tolist()]] if len(rows) else rows
        elif self.filter == FILTER_OUTLIERS:
            rows = rows[self.is_outlier[rows]]
        elif self.filter == FILTER_CONFLICTS:
            rows = rows[self.in_conflict[rows]]
        return np.asarray(rows, dtype=np.int64)

    def _update_decisions(self) -> list[int]:
        changed = []
        s = self.session
        for e in self.suspects.tolist():
            d = decision_of(s, int(self.indices[e]), self.given_ids[e], self.suggested_ids[e])
            if d != self.decisions[e]:
                self.decisions[e] = d
                changed.append(e)
        return changed

    def refresh(self) -> None:
        """Re-read the decisions from the session; rows change only under the Undecided filter."""
        changed = self._update_decisions()
        if not changed:
            return
        rows = self._filtered_rows()
        if len(rows) != len(self._rows) or not np.array_equal(rows, self._rows):
            self.beginResetModel()
            self._rows = rows
            self.endResetModel()
            return
        for e in changed:
            row = self.row_of_entry(e)
            if row is not None:
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def set_taxonomy(self, taxonomy: Optional[Taxonomy]) -> None:
        self.beginResetModel()
        self.taxonomy = taxonomy
        self.endResetModel()

    # -- Qt model --------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        e = int(self._rows[index.row()])
        col = index.column()
        decision = self.decisions[e]
        if role == IMAGE_INDEX_ROLE:
            return int(self.indices[e])
        if role == DECISION_ROLE:
            return decision
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_RANK:
                return str(self.rank_of[e])
            if col == COL_GIVEN:
                return class_text(self.taxonomy, self.given_ids[e])
            if col == COL_SUGGESTED:
                return class_text(self.taxonomy, self.suggested_ids[e])
            if col == COL_SCORE:
                return f"{self.report.score[e]:.2f}"
            if col == COL_CONFIDENCE:
                return f"{100 * self.report.confidence[e]:.0f}%"
            if col == COL_DECISION:
                if decision == RELABELED:
                    return f"✔ → {self.session.class_of_image(int(self.indices[e]))}"
                return DECISION_SHORT[decision]
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            if col == COL_IMAGE:
                return self._thumbnail(int(self.indices[e]))
            if col == COL_GIVEN:
                return class_pixmap(self.taxonomy, self.given_ids[e], self.thumb_size - 8)
            if col == COL_SUGGESTED:
                return class_pixmap(self.taxonomy, self.suggested_ids[e], self.thumb_size - 8)
            return None
        if role == Qt.ItemDataRole.BackgroundRole and col in (COL_RANK, COL_DECISION) and decision in DECISION_COLORS:
            return QBrush(QColor(DECISION_COLORS[decision][0]))
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == COL_DECISION and decision in DECISION_COLORS:
                return QBrush(QColor(DECISION_COLORS[decision][1]))
            if decision != UNDECIDED and col != COL_DECISION:
                return QBrush(QColor("#707070"))
            return None
        if role == Qt.ItemDataRole.FontRole and col == COL_DECISION and decision != UNDECIDED:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col in (COL_RANK, COL_SCORE, COL_CONFIDENCE):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(e)
        return None

    def tooltip(self, e: int) -> str:
        r = self.report
        lines = [
            f"score {r.score[e]:.3f} (kNN {r.knn[e]:.2f} · cluster {r.cluster[e]:.2f} · "
            f"classifier {r.confident_learning[e]:.2f})",
            f"given {class_text(self.taxonomy, self.given_ids[e])}",
            f"suggested {class_text(self.taxonomy, self.suggested_ids[e])} ({100 * r.confidence[e]:.0f}%)",
        ]
        if self.is_outlier[e]:
            lines.append("outlier: fits no class well")
        for other, d in self.conflict_partners.get(e, []):
            lines.append(f"near-duplicate of #{self.rank_of[other]} labelled {self.given_ids[other]} (distance {d:.3f})")
        return "\n".join(lines)

    # -- thumbnails ----------------------------------------------------------------
    def _thumbnail(self, image_index: int) -> Optional[QPixmap]:
        if self.loader is None:
            return None
        pix = self.loader.request(image_index, self.thumb_size)
        if pix is None:
            pix = QPixmap(self.thumb_size, self.thumb_size)
            pix.fill(QColor("#d0d0d0"))
        return pix

    def _on_thumbnail(self, image_index: int, size: int) -> None:
        if size != self.thumb_size:
            return
        hits = np.flatnonzero(self.indices[self._rows] == image_index) if len(self._rows) else []
        for row in hits:
            idx = self.index(int(row), COL_IMAGE)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])
