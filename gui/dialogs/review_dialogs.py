"""Small dialogs that ask the parameters of a review action: split a cluster, move images."""
from __future__ import annotations

from typing import Optional, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
)

#: Sub-dendrogram splits build a full linkage over the members: O(n^2) memory.
from pipeline.clustering.split import MAX_WARD_SPLIT

NEW_CLUSTER = -(2**31)


class SplitDialog(QDialog):
    """Ask into how many parts and how to split a cluster of ``size`` images."""

    def __init__(self, cluster_id: int, size: int, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Split cluster {cluster_id}")
        form = QFormLayout(self)
        form.addRow(QLabel(f"Cluster {cluster_id} has {size:,} images."))
        self.parts = QSpinBox()
        self.parts.setRange(2, max(2, min(50, size)))
        self.parts.setValue(2)
        form.addRow("Parts", self.parts)
        self.kmeans = QRadioButton("Re-cluster with k-means on the same features")
        self.ward = QRadioButton("Cut its sub-dendrogram (ward linkage of the members)")
        self.kmeans.setChecked(True)
        if size > MAX_WARD_SPLIT:
            self.ward.setEnabled(False)
            self.ward.setToolTip(f"Only for clusters of up to {MAX_WARD_SPLIT:,} images")
        form.addRow(self.kmeans)
        form.addRow(self.ward)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Split")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.parts.setFocus()

    def method(self) -> str:
        return "ward" if self.ward.isChecked() else "kmeans"


class MoveDialog(QDialog):
    """Pick the target cluster for moving images (or a new cluster); searchable."""

    chosen_target = Signal(object)  # cluster id, or None for a new cluster

    def __init__(self, clusters: Sequence[tuple[int, str]], n_images: int, exclude: Optional[int] = None,
                 parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Move {n_images} image{'s' if n_images != 1 else ''}")
        self.resize(380, 480)
        layout = QVBoxLayout(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter clusters by id or name…")
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        self.list = QListWidget()
        layout.addWidget(self.list, 1)
        self._clusters = [(cid, text) for cid, text in clusters if cid != exclude]
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Move")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.search.textChanged.connect(self._fill)
        self.search.returnPressed.connect(self.accept)
        self.list.itemDoubleClicked.connect(lambda *_: self.accept())
        self._fill("")
        self.search.setFocus()

    def _fill(self, text: str) -> None:
        self.list.clear()
        needle = text.strip().casefold()
        item = QListWidgetItem("➕ New cluster")
        item.setData(Qt.ItemDataRole.UserRole, NEW_CLUSTER)
        if not needle or needle in "new cluster":
            self.list.addItem(item)
        for cid, label in self._clusters:
            if needle and needle not in label.casefold() and needle != str(cid):
                continue
            it = QListWidgetItem(label)
            it.setData(Qt.ItemDataRole.UserRole, cid)
            self.list.addItem(it)
        if self.list.count():
            self.list.setCurrentRow(0 if not needle or self.list.count() == 1 else min(1, self.list.count() - 1))

    def select_cluster(self, cid: Optional[int]) -> None:
        want = NEW_CLUSTER if cid is None else cid
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == want:
                self.list.setCurrentRow(row)
                return

    def target(self) -> Optional[int]:
        item = self.list.currentItem()
        if item is None:
            return None
        value = item.data(Qt.ItemDataRole.UserRole)
        return None if value == NEW_CLUSTER else int(value)

    def accept(self) -> None:
        if self.list.currentItem() is None:
            return
        super().accept()
        self.chosen_target.emit(self.target())
