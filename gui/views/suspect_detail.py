"""The Suspects view's detail pane: the image large, given and suggested class cards, the facts
and the four decision buttons."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from pipeline.review import ReviewSession, Taxonomy

from gui.models.suspects_model import (DECISION_COLORS, DECISION_TEXT, RELABELED, UNDECIDED, SuspectsModel,
                                       class_pixmap, class_text)

if TYPE_CHECKING:
    from pipeline.mislabels import SuspectReport

DETAIL_SIZE = 208
PICTOGRAM_SIZE = 88


class ClassCard(QFrame):
    """A caption, a pictogram (or text badge) and the class name, stacked."""

    def __init__(self, caption: str, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("classCard")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        self.caption = QLabel(caption)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.caption.setStyleSheet("color: #606060; font-size: 11px; letter-spacing: 1px;")
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setFixedSize(PICTOGRAM_SIZE + 8, PICTOGRAM_SIZE + 8)
        self.name = QLabel()
        self.name.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.name.setWordWrap(True)
        self.name.setMinimumWidth(130)
        self.name.setMaximumWidth(170)
        f = self.name.font()
        f.setPointSizeF(f.pointSizeF() + 1)
        f.setBold(True)
        self.name.setFont(f)
        self.detail = QLabel()
        self.detail.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.detail.setStyleSheet("color: #606060;")
        layout.addWidget(self.caption)
        layout.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.name)
        layout.addWidget(self.detail)
        layout.addStretch(1)

    def show_class(self, taxonomy: Optional[Taxonomy], class_id: Optional[str], detail: str = "",
                   highlight: Optional[str] = None) -> None:
        if class_id is None:
            self.picture.clear()
            self.name.setText("—")
        else:
            self.picture.setPixmap(class_pixmap(taxonomy, class_id, PICTOGRAM_SIZE))
            self.name.setText(class_text(taxonomy, class_id))
        self.detail.setText(detail)
        border = highlight or "#d8d8d8"
        self.setStyleSheet(f"QFrame#classCard {{ border: 2px solid {border}; border-radius: 8px; background: white; }}")


class SuspectDetail(QWidget):
    """The right-hand pane of :class:`~gui.views.suspects_view.SuspectsView`."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.picture = QLabel()
        self.picture.setFixedSize(DETAIL_SIZE + 4, DETAIL_SIZE + 4)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("background: #2b2b2b; border-radius: 6px;")
        self.given_card = ClassCard("GIVEN LABEL")
        self.suggested_card = ClassCard("SUGGESTED")
        arrow = QLabel("→")
        arrow.setAlignment(Qt.AlignmentFlag.AlignCenter)
        af = arrow.font()
        af.setPointSizeF(af.pointSizeF() * 2.2)
        arrow.setFont(af)
        arrow.setStyleSheet("color: #909090;")
        cards = QHBoxLayout()
        cards.setSpacing(8)
        cards.addWidget(self.given_card)
        cards.addWidget(arrow)
        cards.addWidget(self.suggested_card)
        cards.addStretch(1)

        self.decision_label = QLabel()
        self.decision_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.decision_label.setMinimumHeight(30)
        df = self.decision_label.font()
        df.setBold(True)
        df.setPointSizeF(df.pointSizeF() + 1)
        self.decision_label.setFont(df)
        self.facts = QLabel()
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setWordWrap(True)
        self.facts.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.facts.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

        self.btn_accept = QPushButton("Accept suggestion  (A)")
        self.btn_keep = QPushButton("Keep label  (K)")
        self.btn_choose = QPushButton("Choose class…  (C)")
        self.btn_reject = QPushButton("Reject image  (R)")
        self.btn_accept.setToolTip("Give the image(s) the suggested class")
        self.btn_keep.setToolTip("The given label is right: keep it and mark the image reviewed")
        self.btn_choose.setToolTip("Neither: pick the right class from the list")
        self.btn_reject.setToolTip("Not a valid sample: leave it out of the export's classes")
        self.btn_accept.setStyleSheet("QPushButton { font-weight: bold; }")
        buttons = QGridLayout()
        buttons.setSpacing(6)
        for pos, b in enumerate((self.btn_accept, self.btn_keep, self.btn_choose, self.btn_reject)):
            b.setMinimumHeight(34)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the table
            buttons.addWidget(b, pos // 2, pos % 2)

        head = QHBoxLayout()
        head.setSpacing(12)
        head.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignTop)
        head.addLayout(cards, 1)

        dl = QVBoxLayout(self)
        dl.setContentsMargins(12, 4, 4, 4)
        dl.setSpacing(10)
        dl.addLayout(head)
        dl.addWidget(self.decision_label)
        dl.addLayout(buttons)
        dl.addWidget(self.facts)
        dl.addStretch(1)

    def show_entry(self, model: SuspectsModel, report: "SuspectReport", session: ReviewSession,
                   taxonomy: Optional[Taxonomy], entry: Optional[int], n_selected: int = 1) -> None:
        """Show suspect ``entry`` of ``model`` (the picture is set by the caller), or nothing."""
        for b in (self.btn_accept, self.btn_keep, self.btn_choose, self.btn_reject):
            b.setEnabled(entry is not None)
        if entry is None:
            self.picture.clear()
            self.given_card.show_class(taxonomy, None)
            self.suggested_card.show_class(taxonomy, None)
            self.decision_label.setText("No suspect selected" if model.rowCount() else "Nothing to review here")
            self.decision_label.setStyleSheet("color: #606060;")
            self.facts.setText("")
            return
        m, r = model, report
        image = int(m.indices[entry])
        given, suggested = m.given_ids[entry], m.suggested_ids[entry]
        same = given == suggested
        self.given_card.show_class(taxonomy, given, f"{100 * r.probabilities[entry, r.given[entry]]:.0f}% likely")
        self.suggested_card.show_class(
            taxonomy, suggested,
            "same as given" if same else f"{100 * r.confidence[entry]:.0f}% likely",
            highlight=None if same else "#e0a800")
        decision = m.decision(entry)
        text = DECISION_TEXT[decision] if decision != UNDECIDED else "Undecided"
        if decision == RELABELED:
            final = session.class_of_image(image)
            text = f"✔ Relabeled as {class_text(taxonomy, final)}"
        if n_selected > 1:
            text = f"{n_selected} suspects selected: an action applies to all of them"
        bg, fg = DECISION_COLORS.get(decision, ("#f0f0f0", "#404040"))
        if n_selected > 1:
            bg, fg = "#fff4d0", "#5a4400"
        self.decision_label.setText(text)
        self.decision_label.setStyleSheet(f"background: {bg}; color: {fg}; border-radius: 6px; padding: 4px;")
        facts = [
            f"<b>Rank {m.rank_of[entry]}</b> of {len(r)} · score <b>{r.score[entry]:.2f}</b>"
            + (" · flagged by confident learning" if r.flagged[entry] else ""),
            f"Disagreement — neighbours {r.knn[entry]:.2f} · cluster {r.cluster[entry]:.2f} · "
            f"classifier {r.confident_learning[entry]:.2f}",
        ]
        if m.is_outlier[entry]:
            facts.append("<span style='color:#8a1c1c'>Outlier: fits no class well</span>")
        for other, d in m.conflict_partners.get(entry, [])[:3]:
            facts.append(f"Near-duplicate of rank {m.rank_of[other]} (labelled "
                         f"{class_text(taxonomy, m.given_ids[other])}, distance {d:.3f})")
        facts.append(f"<span style='color:#707070'>{session.paths[image]}</span>")
        self.facts.setText("<br>".join(facts))
