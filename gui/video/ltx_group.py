"""The LTX-Video group: the deployment and LTX-Video's own settings (`render.options`: LoRA, guidance, steps, webhook,
extend direction) in the collapsible Advanced section.

It only shows and edits values; which deployments can run comes from the provider (deployment_status), and which
controls the chosen model takes from gui.video.control_rules, handed in by RenderSettingsGroup. An unset value is the
model's own default and is stored as nothing at all.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
                               QLineEdit, QPushButton, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from core.video.render_settings import EXTEND_DIRECTIONS
from gui.video import combo_utils
from gui.video.provider_info import DEPLOYMENT_LABELS

UNSET = ""  # a combo's data for "the default" (None cannot be found again in a combo)
LORA_SCALE_DEFAULT = 1.0


class LtxGroup(QGroupBox):
    #: the user changed an option: {"options": {key: value or None (None removes it)}}
    edited = Signal(dict)
    #: the user picked a deployment (None: the default one); the model list depends on it
    deployment_chosen = Signal(object)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__("LTX-Video", parent)
        self.setObjectName("ltxGroup")
        self._loading = False
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.deployment = QComboBox(objectName="deploymentCombo")
        self.deployment.setToolTip("Where LTX-Video runs: a cloud API, this machine's GPU, or a ComfyUI server")
        form.addRow("Deployment:", self.deployment)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addLayout(form)
        outer.addWidget(self._build_advanced())
        self.deployment.currentIndexChanged.connect(self._on_deployment)

    def _build_advanced(self) -> QGroupBox:
        box = QGroupBox(objectName="ltxAdvancedGroup")
        box.setFlat(True)
        # a disclosure arrow folds the section (a checkable group box would disable its fields instead)
        self.advanced_toggle = QToolButton(objectName="ltxAdvancedToggle", text="Advanced settings", checkable=True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.RightArrow)
        self.advanced_toggle.setAutoRaise(True)
        self._advanced_body = QWidget()
        form = QFormLayout(self._advanced_body)
        form.setContentsMargins(0, 0, 0, 0)
        self.lora_path = QLineEdit(objectName="loraPathEdit")
        self.lora_path.setPlaceholderText("LoRA weights (.safetensors or https:// URL)")
        self.lora_browse = QPushButton("Browse…")
        row = QHBoxLayout()
        row.addWidget(self.lora_path, 1)
        row.addWidget(self.lora_browse)
        form.addRow("LoRA file:", row)
        self.lora_scale = QDoubleSpinBox(objectName="loraScaleSpin", minimum=0.0, maximum=2.0, singleStep=0.05)
        self.lora_scale.setValue(LORA_SCALE_DEFAULT)
        form.addRow("LoRA scale:", self.lora_scale)
        self.guidance = QDoubleSpinBox(objectName="guidanceSpin", minimum=0.0, maximum=30.0, singleStep=0.5)
        self.guidance.setSpecialValueText("Model default")
        form.addRow("Guidance:", self.guidance)
        self.steps = QSpinBox(objectName="stepsSpin", minimum=0, maximum=200)
        self.steps.setSpecialValueText("Model default")
        form.addRow("Steps:", self.steps)
        self.webhook = QLineEdit(objectName="webhookEdit")
        self.webhook.setPlaceholderText("https://… (notified when a cloud job ends)")
        form.addRow("Webhook URL:", self.webhook)
        self.extend_direction = QComboBox(objectName="extendDirectionCombo")
        self.extend_direction.addItem("Model default (forward)", UNSET)
        for d in EXTEND_DIRECTIONS:
            self.extend_direction.addItem(d.capitalize(), d)
        self.extend_direction.setToolTip("Which way a scene with a clip to extend grows")
        form.addRow("Extend:", self.extend_direction)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.advanced_toggle)
        lay.addWidget(self._advanced_body)
        self._advanced_body.setVisible(False)
        self.advanced_toggle.toggled.connect(self.set_advanced_shown)

        self.lora_browse.clicked.connect(self._browse_lora)
        self.lora_path.editingFinished.connect(lambda: self._emit(lora_path=self.lora_path.text().strip() or None))
        self.lora_scale.valueChanged.connect(
            lambda v: self._emit(lora_scale=None if abs(v - LORA_SCALE_DEFAULT) < 1e-9 else round(v, 3)))
        self.guidance.valueChanged.connect(lambda v: self._emit(guidance_scale=round(v, 3) or None))
        self.steps.valueChanged.connect(lambda v: self._emit(num_inference_steps=v or None))
        self.webhook.editingFinished.connect(lambda: self._emit(webhook_url=self.webhook.text().strip() or None))
        self.extend_direction.currentIndexChanged.connect(
            lambda: self._emit(extend_direction=self.extend_direction.currentData() or None))
        self.advanced = box
        return box

    def set_advanced_shown(self, shown: bool) -> None:
        self._advanced_body.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.DownArrow if shown else Qt.RightArrow)
        if self.advanced_toggle.isChecked() != shown:
            self.advanced_toggle.setChecked(shown)

    # --- showing values and rules ---------------------------------------------------------------------------
    def set_deployments(self, reasons: dict[str, Optional[str]], current: Optional[str],
                        labels: Optional[dict[str, str]] = None, default: Optional[str] = None) -> None:
        """Fill the deployment combo: "Default (…)" first, then each deployment, the unavailable ones disabled
        with the reason. The saved choice is shown as saved, even one that cannot run here. `labels` may rename
        entries (the local one says which device it runs on)."""
        labels = {**DEPLOYMENT_LABELS, **(labels or {})}
        items = []
        if default is not None:
            why = reasons.get(default)
            items.append((f"Default ({labels.get(default, default)})" + (" (unavailable)" if why else ""), UNSET, why))
        for dep in DEPLOYMENT_LABELS:
            why = reasons.get(dep)
            items.append((labels[dep] if not why else f"{labels[dep]} (unavailable)", dep, why))
        self._loading = True
        try:
            combo_utils.fill(self.deployment, items, current or UNSET, allow_disabled=True)
        finally:
            self._loading = False

    def load(self, options: dict) -> None:
        """Show the project's LTX options (absent = the model's default)."""
        self._loading = True
        try:
            self.lora_path.setText(options.get("lora_path") or "")
            self.lora_scale.setValue(float(options.get("lora_scale", LORA_SCALE_DEFAULT)))
            self.guidance.setValue(float(options.get("guidance_scale") or 0.0))
            self.steps.setValue(int(options.get("num_inference_steps") or 0))
            self.webhook.setText(options.get("webhook_url") or "")
            combo_utils.select(self.extend_direction, options.get("extend_direction") or UNSET, allow_disabled=True)
        finally:
            self._loading = False

    def apply_reasons(self, reasons: dict[str, Optional[str]]) -> None:
        """Enable each option the chosen model takes; disable the others with the reason as tooltip."""
        for control, widgets in (("lora", (self.lora_path, self.lora_browse, self.lora_scale)),
                                 ("guidance", (self.guidance,)), ("steps", (self.steps,)),
                                 ("webhook", (self.webhook,))):
            why = reasons.get(control)
            for w in widgets:
                w.setEnabled(why is None)
                w.setToolTip(why or "")

    # --- user edits -----------------------------------------------------------------------------------------
    def _emit(self, **changes) -> None:
        if not self._loading:
            self.edited.emit({"options": changes})

    def _on_deployment(self) -> None:
        if not self._loading:
            self.deployment_chosen.emit(self.deployment.currentData() or None)

    def _browse_lora(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "LoRA weights", "", "LoRA weights (*.safetensors);;All files (*)")
        if path:
            self.lora_path.setText(path)
            self._emit(lora_path=path)
