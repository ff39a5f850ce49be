"""The shown cluster's mean image and medoid side by side, with its title, suggestion and figures."""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.views.thumbnail_loader import array_to_qimage

CENTER_SIZE = 112


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
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 15pt; font-weight: 600;")
        self.title.setMinimumWidth(60)  # a long class name is cut, not a reason for a wider window
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
        self.title.setText("")
        self.info.setText("")
        self.set_suggestion("")

    def set_suggestion(self, html: str) -> None:
        """Show the cluster's suggestion (rich text, may hold an ``<img>`` pictogram); "" hides it."""
        self.suggestion.setText(html)
        self.suggestion.setVisible(bool(html))

    def set_text(self, title: str, info: str) -> None:
        self.title.setText(title)
        self.info.setText(info)
