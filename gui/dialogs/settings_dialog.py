"""Pipeline settings: pick a preset, then adjust features, reduction, algorithm and k."""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Optional

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from pipeline.clustering.registry import available_methods, method_needs_k
from pipeline.config import DEFAULT_PRESET, PRESETS, PipelineConfig, get_preset
from pipeline.features.registry import available_extractors

CRITERIA = ["silhouette", "davies_bouldin", "calinski_harabasz"]
LINKAGES = ["ward", "average", "complete", "single"]
FEATURE_COLUMNS = 5


def parse_pca(text: str):
    """``""``/``none`` -> None, ``0.95`` -> variance fraction, ``100`` -> component count."""
    t = text.strip().lower()
    if t in ("", "none", "off", "no"):
        return None
    value = float(t)
    if value <= 0:
        raise ValueError("PCA must be a variance fraction in (0, 1] or a component count >= 1")
    if value <= 1.0 and "." in t:
        return value
    if value != int(value):
        raise ValueError("PCA component count must be a whole number")
    return int(value)


class SettingsDialog(QDialog):
    """Edit a :class:`PipelineConfig`; :meth:`config` returns the result (validated)."""

    def __init__(self, initial: Optional[PipelineConfig] = None, *, folder: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Pipeline settings")
        self.setMinimumWidth(460)
        self._base = initial or get_preset(DEFAULT_PRESET)
        self._feature_params: dict[str, dict] = {}
        layout = QVBoxLayout(self)
        if folder:
            head = QLabel(f"<b>Folder:</b> {folder}")
            head.setWordWrap(True)
            layout.addWidget(head)

        top = QFormLayout()
        self.preset = QComboBox()
        for name in PRESETS:
            self.preset.addItem(name, name)
        self.preset.addItem("custom", None)
        top.addRow("Preset", self.preset)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet("color: palette(mid);")
        top.addRow("", self.description)
        layout.addLayout(top)

        img_box = QGroupBox("Images and features")
        img_form = QFormLayout(img_box)
        self.image_size = QSpinBox()
        self.image_size.setRange(8, 256)
        self.crop_roi = QCheckBox("Crop to the region of interest when the source gives one")
        img_form.addRow("Working size (px)", self.image_size)
        img_form.addRow("", self.crop_roi)
        feat_row = QWidget()
        feat_layout = QGridLayout(feat_row)  # rows of FEATURE_COLUMNS: every name readable in a narrow dialog
        feat_layout.setContentsMargins(0, 0, 0, 0)
        feat_layout.setVerticalSpacing(2)
        self.feature_boxes: dict[str, QCheckBox] = {}
        for i, name in enumerate(available_extractors()):
            box = QCheckBox(name)
            self.feature_boxes[name] = box
            feat_layout.addWidget(box, i // FEATURE_COLUMNS, i % FEATURE_COLUMNS)
        feat_layout.setColumnStretch(FEATURE_COLUMNS, 1)
        img_form.addRow("Features", feat_row)
        layout.addWidget(img_box)

        red_box = QGroupBox("Reduction")
        red_form = QFormLayout(red_box)
        self.pca = QLineEdit()
        self.pca.setPlaceholderText("none, 0.95 (variance kept) or 100 (components)")
        self.whiten = QCheckBox("Whiten")
        self.l2 = QCheckBox("L2-normalise rows")
        red_form.addRow("PCA", self.pca)
        flags = QWidget()
        fl = QHBoxLayout(flags)
        fl.setContentsMargins(0, 0, 0, 0)
        fl.addWidget(self.whiten)
        fl.addWidget(self.l2)
        fl.addStretch(1)
        red_form.addRow("", flags)
        layout.addWidget(red_box)

        alg_box = QGroupBox("Clustering")
        alg_form = QFormLayout(alg_box)
        self.method = QComboBox()
        self.method.addItems(available_methods())
        self.linkage = QComboBox()
        self.linkage.addItems(LINKAGES)
        self.k = QSpinBox()
        self.k.setRange(1, 5000)
        self.auto_k = QCheckBox("Choose k automatically in the range")
        self.labeling = QCheckBox("Labeling mode: many small, pure clusters (k = classes; about 40 images each)")
        self.labeling.setToolTip("Cut the images into clusters of about 40 (at least 4 per class, at most 1,000), "
                                 "pure enough to name with one key or accept their suggestions in bulk")
        k_range = QWidget()
        kr = QHBoxLayout(k_range)
        kr.setContentsMargins(0, 0, 0, 0)
        self.k_lo = QSpinBox()
        self.k_lo.setRange(2, 5000)
        self.k_hi = QSpinBox()
        self.k_hi.setRange(2, 5000)
        self.criterion = QComboBox()
        self.criterion.addItems(CRITERIA)
        kr.addWidget(self.k_lo)
        kr.addWidget(QLabel("to"))
        kr.addWidget(self.k_hi)
        kr.addWidget(QLabel("by"))
        kr.addWidget(self.criterion)
        kr.addStretch(1)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        alg_form.addRow("Algorithm", self.method)
        alg_form.addRow("Linkage", self.linkage)
        alg_form.addRow("Clusters (k)", self.k)
        alg_form.addRow(self.labeling)
        alg_form.addRow(self.auto_k)
        alg_form.addRow("", k_range)
        alg_form.addRow("Seed", self.seed)
        layout.addWidget(alg_box)

        self.error = QLabel()
        self.error.setStyleSheet("color: #d9534f;")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Run pipeline")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self._loading = False
        self._load(self._base)
        idx = self.preset.findData(self._base.name)
        self.preset.setCurrentIndex(idx if idx >= 0 else self.preset.count() - 1)
        if idx < 0:
            self.description.setText(self.custom_text())
        self.preset.currentIndexChanged.connect(self._on_preset)
        for w in (self.method, self.auto_k, self.labeling):
            (w.currentIndexChanged if isinstance(w, QComboBox) else w.toggled).connect(self._update_enabled)
        for w in (self.image_size, self.k, self.k_lo, self.k_hi, self.seed):
            w.valueChanged.connect(self._mark_custom)
        for w in (self.crop_roi, self.whiten, self.l2, self.auto_k, self.labeling, *self.feature_boxes.values()):
            w.toggled.connect(self._mark_custom)
        for w in (self.method, self.linkage, self.criterion):
            w.currentIndexChanged.connect(self._mark_custom)
        self.pca.textEdited.connect(self._mark_custom)
        self._update_enabled()

    # -- state <-> widgets ----------------------------------------------------------
    def _load(self, cfg: PipelineConfig) -> None:
        self._loading = True
        self.description.setText(cfg.description or "")
        self.image_size.setValue(cfg.image_size)
        self.crop_roi.setChecked(cfg.crop_roi)
        self._feature_params = {spec["name"]: dict(spec) for spec in cfg.features}
        for name, box in self.feature_boxes.items():
            box.setChecked(name in self._feature_params)
        self.pca.setText("none" if cfg.pca is None else str(cfg.pca))
        self.whiten.setChecked(cfg.whiten)
        self.l2.setChecked(cfg.l2_normalize)
        self.method.setCurrentText(cfg.method)
        self.linkage.setCurrentText(str(cfg.method_params.get("linkage", "ward")))
        self.k.setValue(int(cfg.k) if cfg.k else 43)
        self.auto_k.setChecked(bool(cfg.k_range))
        self.labeling.setChecked(bool(cfg.labeling_mode))
        lo, hi = cfg.k_range if cfg.k_range else (max(2, (cfg.k or 43) - 10), (cfg.k or 43) + 10)
        self.k_lo.setValue(int(lo))
        self.k_hi.setValue(int(hi))
        self.criterion.setCurrentText(cfg.k_criterion)
        self.seed.setValue(cfg.seed)
        self._loading = False

    def _on_preset(self) -> None:
        name = self.preset.currentData()
        if name is None:
            return
        self._base = get_preset(name)
        self._load(self._base)
        self._update_enabled()

    def _mark_custom(self, *_) -> None:
        if not self._loading and self.preset.currentData() is not None:
            with signals_blocked(self.preset):
                self.preset.setCurrentIndex(self.preset.count() - 1)
            self.description.setText(self.custom_text())

    def custom_text(self) -> str:
        """The line under "custom": what the settings started from (not that preset's description)."""
        base = self._base.name
        return f"Custom settings, changed from the {base} preset." if base in PRESETS else "Custom settings."

    def _update_enabled(self, *_) -> None:
        method = self.method.currentText()
        needs_k = method_needs_k(method) if method else True
        labeling = needs_k and self.labeling.isChecked()
        self.k.setEnabled(needs_k and not (self.auto_k.isChecked() and not labeling))
        self.labeling.setEnabled(needs_k)
        self.auto_k.setEnabled(needs_k and not labeling)
        for w in (self.k_lo, self.k_hi, self.criterion):
            w.setEnabled(needs_k and self.auto_k.isChecked() and not labeling)
        self.linkage.setEnabled(method == "agglomerative")

    def config(self) -> PipelineConfig:
        """The configuration the widgets describe (raises ``ValueError`` when invalid)."""
        features = []
        for name, box in self.feature_boxes.items():
            if box.isChecked():
                features.append(self._feature_params.get(name, {"name": name, "params": {}}))
        method = self.method.currentText()
        params = dict(self._base.method_params) if method == self._base.method else {}
        if method == "agglomerative":
            params["linkage"] = self.linkage.currentText()
        needs_k = method_needs_k(method)
        k_range = None
        k = None
        labeling = needs_k and self.labeling.isChecked()
        if needs_k:
            if self.auto_k.isChecked() and not labeling:
                k_range = [self.k_lo.value(), self.k_hi.value()]
            else:
                k = self.k.value()
        name = self.preset.currentData() or "custom"
        cfg = replace(
            self._base,
            name=name,
            image_size=self.image_size.value(),
            crop_roi=self.crop_roi.isChecked(),
            features=features,
            pca=parse_pca(self.pca.text()),
            whiten=self.whiten.isChecked(),
            l2_normalize=self.l2.isChecked(),
            method=method,
            k=k,
            k_range=k_range,
            k_criterion=self.criterion.currentText(),
            labeling_mode=labeling,
            method_params=params,
            seed=self.seed.value(),
        )
        cfg = PipelineConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
        return cfg

    def accept(self) -> None:
        try:
            self.config()
        except (ValueError, TypeError) as exc:
            self.error.setText(str(exc))
            return
        self.error.clear()
        super().accept()
