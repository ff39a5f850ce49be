"""Full-size view of one image with its path and metadata; arrows step through a list.

The path sits at the top of the side panel, beside the picture (not under a tall,
mostly empty picture area); with auto-contrast the picture is contrast-stretched
(display only, the file is never changed)."""
from __future__ import annotations

import os
from typing import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from gui.views.thumbnail_loader import array_to_qimage, load_file_qimage, stretch_contrast

MetadataFn = Callable[[int], list[tuple[str, str]]]


class ImageViewer(QDialog):
    """Shows image ``indices[pos]`` scaled up to fit (nearest-neighbour, so pixels stay crisp).

    Left/Right go to the previous/next image of ``indices``; Space or Escape closes.
    ``metadata(i)`` returns ``(field, value)`` rows shown beside the image.
    """

    current_changed = Signal(int)

    def __init__(self, paths: Sequence[str], indices: Sequence[int], pos: int, metadata: MetadataFn,
                 images=None, auto_contrast: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.auto_contrast = bool(auto_contrast)
        self.setWindowTitle("Image")
        self.resize(900, 600)
        self.paths, self.indices, self.pos = paths, list(indices), pos
        self.metadata, self.images = metadata, images
        layout = QVBoxLayout(self)
        split = QSplitter()
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(320, 320)
        self.picture.setStyleSheet("background: #202124;")
        split.addWidget(self.picture)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        self.path_label = QLabel()
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setWordWrap(True)
        self.path_label.setStyleSheet("font-family: monospace; padding-bottom: 4px;")
        side_layout.addWidget(self.path_label)
        self.form = QFormLayout()
        side_layout.addLayout(self.form)
        side_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(side)
        split.addWidget(scroll)
        split.setSizes([600, 300])
        layout.addWidget(split)
        QShortcut(QKeySequence(Qt.Key.Key_Right), self, activated=lambda: self.step(1))
        QShortcut(QKeySequence(Qt.Key.Key_Left), self, activated=lambda: self.step(-1))
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, activated=self.close)
        self._pixmap = QPixmap()
        self.show_current()

    @property
    def image_index(self) -> int:
        return int(self.indices[self.pos])

    def step(self, delta: int) -> None:
        new = min(max(0, self.pos + delta), len(self.indices) - 1)
        if new != self.pos:
            self.pos = new
            self.show_current()
            self.current_changed.emit(self.image_index)

    def show_current(self) -> None:
        i = self.image_index
        path = self.paths[i]
        try:
            qimg = load_file_qimage(path, auto_contrast=self.auto_contrast)
        except Exception:
            qimg = None
            if self.images is not None:
                array = self.images[i]
                qimg = array_to_qimage(stretch_contrast(array) if self.auto_contrast else array)
        self._pixmap = QPixmap.fromImage(qimg) if qimg is not None else QPixmap()
        self._rescale()
        self.setWindowTitle(f"{os.path.basename(path)} — {self.pos + 1} of {len(self.indices)}")
        self.path_label.setText(path)
        while self.form.rowCount():
            self.form.removeRow(0)
        rows = list(self.metadata(i))
        if not self._pixmap.isNull():
            rows.insert(0, ("Pixels", f"{self._pixmap.width()} × {self._pixmap.height()}"))
        try:
            rows.append(("File size", f"{os.path.getsize(path) / 1024:.1f} KiB"))
        except OSError:
            rows.append(("File", "missing on disk"))
        for key, value in rows:
            v = QLabel(value)
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            v.setWordWrap(True)
            self.form.addRow(f"<b>{key}</b>", v)

    def set_auto_contrast(self, on: bool) -> None:
        if bool(on) != self.auto_contrast:
            self.auto_contrast = bool(on)
            self.show_current()

    def _rescale(self) -> None:
        if self._pixmap.isNull():
            self.picture.setText("cannot read this image")
            return
        size = self.picture.size()
        scale = max(1, min(size.width() // max(1, self._pixmap.width()), size.height() // max(1, self._pixmap.height())))
        pix = self._pixmap.scaled(self._pixmap.width() * scale, self._pixmap.height() * scale,
                                  Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
        self.picture.setPixmap(pix)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._rescale()
