"""Grow a named cluster: its nearest undecided images in order; click the first that does not belong.

The MorphoCluster idea: the images are shown nearest first, so the ones that belong come
before the first that does not. One click on that image moves every image before it into
the cluster (``accept_prefix`` through the controller's move: one undo step, a status
message); "All belong" takes every image shown. The list then refills from what is left.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from gui.controllers.suggestions import SuggestionController
from gui.models.cluster_text import image_tooltip
from gui.models.thumbnail_model import ThumbnailModel
from gui.views.thumbnail_grid import thumbnail_grid
from gui.views.thumbnail_loader import ThumbnailLoader

THUMB = 64
DEFAULT_COUNT = 60


class GrowDialog(QDialog):
    """Candidates for named cluster ``cid``, nearest first; see the module docstring."""

    def __init__(self, controller: SuggestionController, loader, cid: int, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.controller, self.cid = controller, int(cid)
        r = self.review = controller.review
        self.candidates = np.zeros(0, np.int64)
        self.setWindowTitle(f"Grow {r.label(self.cid)}")
        self.resize(720, 520)
        self.loader = ThumbnailLoader(r.session.paths, r.project.images, parent=self)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.count = QSpinBox()
        self.count.setRange(6, 600)
        self.count.setSingleStep(12)
        self.count.setValue(DEFAULT_COUNT)
        self.count.setPrefix("Show ")
        self.count.setSuffix(" images")
        self.count.valueChanged.connect(lambda *_: self.refresh())
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.count)
        self.model = ThumbnailModel(self.loader, tooltip_of=lambda i: image_tooltip(r.session, r.taxonomy, i),
                                    parent=self)
        self.model.thumb_size = THUMB
        g = self.grid = thumbnail_grid(THUMB, QAbstractItemView.SelectionMode.NoSelection)
        g.setModel(self.model)
        g.clicked.connect(lambda idx: self.first_wrong_at(idx.row()))
        self.all_button = QPushButton("All belong")
        self.all_button.setToolTip("Move every image shown into the cluster")
        self.all_button.clicked.connect(lambda: self.first_wrong_at(None))
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.all_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(g, 1)
        layout.addLayout(buttons)
        r.uninstalled.connect(self.reject)
        self.finished.connect(lambda *_: self.loader.shutdown())
        self.refresh()

    def refresh(self) -> None:
        """Fill the list with the nearest undecided images left."""
        r = self.review
        if r.session is None or not r.session.has_cluster(self.cid):
            self.reject()
            return
        self.candidates = self.controller.grow_candidates(self.cid, self.count.value())
        self.model.set_indices(self.candidates)
        self.title.setText(f"The undecided images nearest to {r.label(self.cid)}, nearest first. "
                           "Click the first one that does not belong: every image before it joins the cluster."
                           if len(self.candidates) else "No undecided image is left to grow into this cluster.")
        self.all_button.setEnabled(bool(len(self.candidates)))

    def first_wrong_at(self, row: Optional[int]) -> bool:
        """The reviewer clicked position ``row`` (``None``: all belong): accept the images before it."""
        ok = self.controller.grow_accept(self.cid, self.candidates, row)
        if ok:
            self.refresh()
        return ok
