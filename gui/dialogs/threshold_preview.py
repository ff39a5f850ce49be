"""The frame of the window's "above X %" preview dialogs (bulk accept, name siblings).

A scope line with the threshold's spin box, a slider tied to it, a grey line of what each
threshold would take, a scrolled body the subclass fills in :meth:`refresh` (after
:meth:`clear_body`), and a row with a summary, Apply and Cancel. The subclass implements
``refresh()`` and ``apply()``; the dialog closes itself when the review is closed.
"""
from __future__ import annotations

from typing import Optional, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSlider, QSpinBox, QVBoxLayout,
                               QWidget)


class ThresholdPreviewDialog(QDialog):
    """``title``, ``scope_text`` (the line before the spin box), ``start`` (percent); ``extra``:
    widgets put before the summary on the button row. Call :meth:`start` at the end of the
    subclass's ``__init__``."""

    def __init__(self, review, title: str, scope_text: str, start: int, extra: Sequence[QWidget] = (),
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(760, 560)
        self.scope = QLabel(scope_text)
        self.scope.setWordWrap(True)
        self.spin = QSpinBox()
        self.spin.setRange(1, 100)
        self.spin.setSuffix(" %")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(1, 100)
        self.spin.setValue(start)
        self.slider.setValue(start)
        self.spin.valueChanged.connect(self.slider.setValue)
        self.slider.valueChanged.connect(self.spin.setValue)
        self.slider.valueChanged.connect(lambda *_: self.refresh())
        self.sizes = QLabel()
        self.sizes.setStyleSheet("color: #888;")
        self.sizes.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.scope, 1)
        top.addWidget(self.spin)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        self.summary = QLabel()
        self.apply_button = QPushButton("Apply")
        self.apply_button.setDefault(True)
        cancel = QPushButton("Cancel")
        self.apply_button.clicked.connect(self.apply)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        for w in extra:
            buttons.addWidget(w)
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.slider)
        layout.addWidget(self.sizes)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        review.uninstalled.connect(self.reject)

    def threshold(self) -> float:
        return self.spin.value() / 100.0

    def set_threshold(self, percent: int) -> None:
        self.spin.setValue(int(percent))

    def clear_body(self) -> None:
        """Remove every widget of the scrolled body (before the subclass fills it again)."""
        while self.body_layout.count():
            item = self.body_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()

    def refresh(self) -> None:  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def apply(self) -> bool:  # pragma: no cover - every subclass implements it
        raise NotImplementedError
