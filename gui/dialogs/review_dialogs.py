"""Small dialogs that ask the parameters of a review action: split a cluster, move images."""
from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPainter, QPixmap
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
    QStyle,
    QVBoxLayout,
)

#: Sub-dendrogram splits build a full linkage over the members: O(n^2) memory.
from pipeline.clustering.split import MAX_WARD_SPLIT

from gui.dialogs.filter_keys import forward_list_keys

NEW_CLUSTER = -(2**31)
#: Side of the medoid thumbnail and of the pictogram in the Move dialog's rows.
TARGET_ICON = 36


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


class MoveTarget(NamedTuple):
    """One cluster the Move dialog offers: id, display name, size and its pictures."""

    cid: int
    name: str  # the class name, or "unnamed" / "noise"
    size: int
    medoid: Optional[QPixmap] = None  # a thumbnail of the cluster's medoid image
    pictogram: Optional[QPixmap] = None  # the named class's pictogram (or id badge)


def target_icon(target: MoveTarget, side: int = TARGET_ICON) -> QIcon:
    """The medoid thumbnail and the class pictogram side by side, ``2 * side`` x ``side``."""
    pix = QPixmap(2 * side + 4, side)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    for x, content in ((0, target.medoid), (side + 4, target.pictogram)):
        if content is None or content.isNull():
            continue
        scaled = content.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                Qt.TransformationMode.SmoothTransformation)
        p.drawPixmap(x + (side - scaled.width()) // 2, (side - scaled.height()) // 2, scaled)
    p.end()
    return QIcon(pix)


def target_text(target: MoveTarget) -> str:
    ident = "noise" if target.cid < 0 else f"#{target.cid}"
    return f"{ident}  {target.name}  ·  {target.size:,} image{'s' if target.size != 1 else ''}"


class MoveDialog(QDialog):
    """Pick the target cluster for moving images (or a new cluster).

    Each target shows its medoid thumbnail, its class pictogram, name and size; typing
    filters by name or id (``12``, ``#12``, ``stop``). ``chosen_target`` carries the id,
    ``None`` for a new cluster.
    """

    chosen_target = Signal(object)  # cluster id, or None for a new cluster

    def __init__(self, targets: Sequence[MoveTarget], n_images: int, exclude: Optional[int] = None,
                 parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Move {n_images} image{'s' if n_images != 1 else ''}")
        self.resize(440, 520)
        layout = QVBoxLayout(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter clusters by id or name…")
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        self.list = QListWidget()
        self.list.setIconSize(QSize(2 * TARGET_ICON + 4, TARGET_ICON))
        self.list.setUniformItemSizes(True)
        layout.addWidget(self.list, 1)
        self._targets = [t for t in targets if t.cid != exclude]
        self._icons: dict[int, QIcon] = {}
        self._new_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_FileDialogNewFolder)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Move")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.search.textChanged.connect(self._fill)
        self.search.returnPressed.connect(self.accept)
        self.search.installEventFilter(self)
        self.list.itemDoubleClicked.connect(lambda *_: self.accept())
        self._fill("")
        self.search.setFocus()

    @staticmethod
    def _matches(target: MoveTarget, needle: str) -> bool:
        if not needle:
            return True
        ident = needle.lstrip("#")
        return ident == str(target.cid) or needle in target.name.casefold() or needle in target_text(target).casefold()

    def _fill(self, text: str) -> None:
        self.list.clear()
        needle = text.strip().casefold()
        if not needle or needle in "new cluster":
            item = QListWidgetItem(self._new_icon, "New cluster")
            item.setData(Qt.ItemDataRole.UserRole, NEW_CLUSTER)
            self.list.addItem(item)
        for target in self._targets:
            if not self._matches(target, needle):
                continue
            icon = self._icons.get(target.cid)
            if icon is None:
                icon = self._icons[target.cid] = target_icon(target)
            item = QListWidgetItem(icon, target_text(target))
            item.setData(Qt.ItemDataRole.UserRole, target.cid)
            self.list.addItem(item)
        if self.list.count():
            # Typing picks the first matching cluster (not "New cluster") so Enter moves there.
            new_first = self.list.item(0).data(Qt.ItemDataRole.UserRole) == NEW_CLUSTER
            self.list.setCurrentRow(1 if needle and new_first and self.list.count() > 1 else 0)

    def eventFilter(self, obj, event) -> bool:
        return forward_list_keys(self.search, self.list, obj, event) or super().eventFilter(obj, event)

    def shown_ids(self) -> list[Optional[int]]:
        """The listed targets in order (``None``: the new-cluster row)."""
        out = []
        for row in range(self.list.count()):
            value = self.list.item(row).data(Qt.ItemDataRole.UserRole)
            out.append(None if value == NEW_CLUSTER else int(value))
        return out

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
