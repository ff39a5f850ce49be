"""A note floating over the top of the page while a run will replace the review shown.

It is not part of any layout: showing it must not re-lay out a page of 40,000 images.
"""
from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QLabel, QWidget


class RunNotice(QLabel):
    """A wrapped, light-blue note placed over ``page`` (a rectangle in the parent's coordinates)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setObjectName("runNotice")
        self.setStyleSheet("#runNotice { background: #e8f0fe; color: #1a3d7c; padding: 5px 8px;"
                           " border: 1px solid #b6cdf5; border-radius: 4px; }")
        self.hide()

    def show_over(self, page: QRect, text: str) -> None:
        self.setText(text)
        self.place(page)
        self.show()
        self.raise_()

    def place(self, page: QRect) -> None:
        width = max(100, page.width() - 80)
        self.setGeometry(page.left() + 40, page.top() + 34, width, self.heightForWidth(width))
