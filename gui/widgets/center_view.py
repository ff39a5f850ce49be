"""The shown cluster's mean image and medoid side by side, with its title, suggestion and figures."""
from __future__ import annotations

from html import escape
from typing import Optional

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from gui.views.thumbnail_loader import array_to_qimage

CENTER_SIZE = 112


class TitleLabel(QLabel):
    """The shown cluster's title in large type on up to two lines (word-wrapped, the last one cut
    with "…"; the whole title in the tooltip), then a small grey note ("cluster #12") where it fits."""

    TITLE_PT, NOTE_PT, MAX_LINES = 15, 11, 2

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the window
        self.setMinimumWidth(60)
        self.title, self.note, self.italic = "", "", False
        self.lines: list[str] = []  # the title as drawn

    def set_title(self, title: str, note: str = "", italic: bool = False) -> None:
        self.title, self.note, self.italic = title, note, italic
        self._render()

    def sizeHint(self) -> QSize:
        line = QFontMetrics(self._font(self.TITLE_PT, True)).lineSpacing()
        return QSize(60, line * max(1, len(self.lines)) + 4)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._render()

    def _font(self, points: int, bold: bool = False, italic: bool = False) -> QFont:
        font = QFont(self.font())
        font.setPointSize(points)
        font.setBold(bold)
        font.setItalic(italic)
        return font

    def _render(self) -> None:
        fm = QFontMetrics(self._font(self.TITLE_PT, True))
        width = max(24, self.contentsRect().width() - 2)
        lines = wrap_lines(self.title, fm.horizontalAdvance, width, self.MAX_LINES)
        lines = [fm.elidedText(t, Qt.TextElideMode.ElideRight, width) for t in lines]
        note_px = QFontMetrics(self._font(self.NOTE_PT, italic=self.italic)).horizontalAdvance(self.note) + 14
        show_note = bool(self.note) and fm.horizontalAdvance(lines[-1]) + note_px <= width
        style = "font-style:italic; " if self.italic else ""
        note = (f"&nbsp;&nbsp;<span style='color:#888; {style}font-size:{self.NOTE_PT}pt; font-weight:400'>"
                f"{escape(self.note)}</span>") if show_note else ""
        changed = len(lines) != len(self.lines)
        self.lines = lines
        self.setText(f"<span style='font-size:{self.TITLE_PT}pt; font-weight:600'>"
                     f"{'<br>'.join(escape(t) for t in lines)}</span>{note}")
        whole = " ".join(lines) != self.title
        self.setToolTip(" · ".join(t for t in (self.title if whole else "", "" if show_note else self.note) if t))
        if changed:
            self.updateGeometry()


def wrap_lines(text: str, advance, width: int, max_lines: int) -> list[str]:
    """``text`` broken at spaces into lines of at most ``width`` (by ``advance``), at most
    ``max_lines`` of them; the last one holds the rest (the caller elides it)."""
    words, lines, current = text.split(), [], ""
    for i, word in enumerate(words):
        trial = f"{current} {word}" if current else word
        if not current or advance(trial) <= width:
            current = trial
            continue
        lines.append(current)
        if len(lines) == max_lines - 1:
            current = " ".join(words[i:])
            break
        current = word
    lines.append(current)
    return lines


class CenterView(QWidget):
    """Mean image and medoid side by side, with the cluster's figures."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(14)
        self.mean = self._picture("mean image")
        self.medoid = self._picture("medoid")
        lay.addWidget(self.mean[0])
        lay.addWidget(self.medoid[0])
        self.title = TitleLabel()  # a long class name is elided, not a reason for a wider window
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.suggestion = QLabel()  # pictogram + "Suggested: class 93%" (set_suggestion)
        self.suggestion.setMinimumWidth(60)
        self.suggestion.setTextFormat(Qt.TextFormat.RichText)
        self.suggestion.setWordWrap(True)
        self.suggestion.hide()
        text = QVBoxLayout()
        text.addWidget(self.title)
        text.addWidget(self.suggestion)
        text.addWidget(self.info, 1)
        lay.addLayout(text, 1)

    def _picture(self, caption: str):
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        pic = QLabel()
        pic.setFixedSize(CENTER_SIZE, CENTER_SIZE)
        pic.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pic.setStyleSheet("background: #2b2d31; border-radius: 4px;")
        cap = QLabel(caption)
        cap.setAlignment(Qt.AlignmentFlag.AlignCenter)
        cap.setStyleSheet("color: #777; font-size: 9pt;")
        v.addWidget(pic)
        v.addWidget(cap)
        return box, pic

    def set_images(self, mean: Optional[np.ndarray], medoid: Optional[QPixmap]) -> None:
        for (box, pic), content in ((self.mean, mean), (self.medoid, medoid)):
            if content is None:
                pic.clear()
                continue
            pix = QPixmap.fromImage(array_to_qimage(content)) if isinstance(content, np.ndarray) else content
            pic.setPixmap(pix.scaled(CENTER_SIZE - 4, CENTER_SIZE - 4, Qt.AspectRatioMode.KeepAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation))

    def clear(self) -> None:
        self.set_images(None, None)
        self.title.set_title("")
        self.info.setText("")
        self.set_suggestion("")

    def set_suggestion(self, html: str) -> None:
        """Show the cluster's suggestion (rich text, may hold an ``<img>`` pictogram); "" hides it."""
        self.suggestion.setText(html)
        self.suggestion.setVisible(bool(html))

    def set_text(self, title: tuple[str, str, bool], info: str) -> None:
        """``title``: (title, note, note in italics) as :func:`gui.models.cluster_text.center_title` gives."""
        self.title.set_title(*title)
        self.info.setText(info)
