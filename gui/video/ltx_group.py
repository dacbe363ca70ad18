"""The LTX-Video group: deployment, fps, camera motion and speed, audio prompt, and the collapsible Advanced section.

It only shows and edits values; which values are allowed comes from the provider (deployment_status) and the
catalog's ModelInfo, handed in by RenderSettingsGroup.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSlider, QSpinBox, QToolButton, QVBoxLayout,
                               QWidget)

from core.video.render_settings import CAMERA_MOTIONS, RenderSettings
from gui.video import combo_utils
from gui.video.provider_info import DEPLOYMENT_LABELS, LOCAL_DEPLOYMENTS
from providers.base import ModelInfo

FPS_CHOICES = (24, 30, 50)


class LtxGroup(QGroupBox):
    #: the user changed a value: a dict of RenderSettings fields
    edited = Signal(dict)
    #: the user picked another deployment (the model list depends on it)
    deployment_chosen = Signal(str)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__("LTX-Video", parent)
        self.setObjectName("ltxGroup")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)

        self.deployment = QComboBox(objectName="deploymentCombo")
        self.deployment.setToolTip("Where LTX-Video runs: a cloud API, this machine's GPU, or a ComfyUI server")
        form.addRow("Deployment:", self.deployment)

        self.fps = QComboBox(objectName="fpsCombo")
        form.addRow("FPS:", self.fps)

        self.motion = QComboBox(objectName="cameraMotionCombo")
        for motion in CAMERA_MOTIONS:
            self.motion.addItem(motion.replace("_", " ").capitalize(), motion)
        self.speed = QSlider(Qt.Horizontal, objectName="cameraSpeedSlider")
        self.speed.setRange(50, 200)
        self.speed.setSingleStep(5)
        self.speed.setPageStep(25)
        self.speed_label = QLabel("1.00×")
        self.speed_label.setMinimumWidth(40)
        motion_row = QHBoxLayout()
        motion_row.addWidget(self.motion, 2)
        motion_row.addWidget(QLabel("Speed:"))
        motion_row.addWidget(self.speed, 2)
        motion_row.addWidget(self.speed_label)
        form.addRow("Camera:", motion_row)

        self.audio_prompt = QLineEdit(objectName="audioPromptEdit")
        self.audio_prompt.setPlaceholderText("Optional sound description (ambience, music, dialogue)")
        form.addRow("Audio prompt:", self.audio_prompt)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addLayout(form)
        outer.addWidget(self._build_advanced())

        self.deployment.currentIndexChanged.connect(self._on_deployment)
        self.fps.currentIndexChanged.connect(lambda: self._emit(fps=self.fps.currentData()))
        self.motion.currentIndexChanged.connect(self._on_motion)
        self.speed.valueChanged.connect(self._on_speed)
        self.audio_prompt.editingFinished.connect(
            lambda: self._emit(audio_prompt=self.audio_prompt.text().strip() or None))
        self._loading = False

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
        self.lora_path.setPlaceholderText("LoRA weights (.safetensors)")
        self.lora_browse = QPushButton("Browse…")
        row = QHBoxLayout()
        row.addWidget(self.lora_path, 1)
        row.addWidget(self.lora_browse)
        form.addRow("LoRA file:", row)
        self.lora_scale = QDoubleSpinBox(objectName="loraScaleSpin", minimum=0.0, maximum=2.0, singleStep=0.05)
        form.addRow("LoRA scale:", self.lora_scale)
        self.guidance = QDoubleSpinBox(objectName="guidanceSpin", minimum=0.0, maximum=20.0, singleStep=0.5)
        self.guidance.setSpecialValueText("model default")
        form.addRow("Guidance:", self.guidance)
        self.steps = QSpinBox(objectName="stepsSpin", minimum=0, maximum=100)
        self.steps.setSpecialValueText("model default")
        form.addRow("Steps:", self.steps)
        self.seed = QLineEdit(objectName="seedEdit")
        self.seed.setPlaceholderText("random")
        self.seed.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,10}")))
        form.addRow("Seed:", self.seed)
        self.webhook = QLineEdit(objectName="webhookEdit")
        self.webhook.setPlaceholderText("https://… (notified when a cloud job ends)")
        form.addRow("Webhook URL:", self.webhook)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.advanced_toggle)
        lay.addWidget(self._advanced_body)
        self._advanced_body.setVisible(False)
        self.advanced_toggle.toggled.connect(self.set_advanced_shown)

        self.lora_browse.clicked.connect(self._browse_lora)
        self.lora_path.editingFinished.connect(lambda: self._emit(lora_path=self.lora_path.text().strip() or None))
        self.lora_scale.valueChanged.connect(lambda v: self._emit(lora_scale=round(v, 3)))
        self.guidance.valueChanged.connect(lambda v: self._emit(guidance_scale=round(v, 3) or None))
        self.steps.valueChanged.connect(lambda v: self._emit(num_inference_steps=v or None))
        self.seed.editingFinished.connect(self._on_seed)
        self.webhook.editingFinished.connect(lambda: self._emit(webhook_url=self.webhook.text().strip() or None))
        self.advanced = box
        return box

    def set_advanced_shown(self, shown: bool) -> None:
        self._advanced_body.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.DownArrow if shown else Qt.RightArrow)
        if self.advanced_toggle.isChecked() != shown:
            self.advanced_toggle.setChecked(shown)

    # --- showing values and rules ---------------------------------------------------------------------------
    def set_deployments(self, reasons: dict[str, Optional[str]], current: Optional[str],
                        keep: bool = False, labels: Optional[dict[str, str]] = None) -> Optional[str]:
        """Fill the deployment combo; unavailable ones are disabled with the reason. Returns the chosen id.
        `labels` may rename entries (the local one says which device it runs on)."""
        items = []
        for dep, label in DEPLOYMENT_LABELS.items():
            label = (labels or {}).get(dep, label)
            why = reasons.get(dep)
            items.append((label if not why else f"{label} (unavailable)", dep, why))
        combo_utils.fill(self.deployment, items, current, allow_disabled=keep)
        return self.deployment.currentData()

    def load(self, render: RenderSettings, model: Optional[ModelInfo], keep: bool = False) -> None:
        """Show a project's render settings and apply the model's rules (keep: show saved values even where the
        model does not allow them, instead of replacing them)."""
        self._loading = True
        try:
            # the standard choices, plus any other rate the model offers (e.g. 25 or 48)
            offered = list(model.fps) if model else list(FPS_CHOICES)
            label = model.label if model else "this model"
            items = [(f"{fps} fps", fps, None if fps in offered else f"{label} does not offer {fps} fps")
                     for fps in sorted(set(FPS_CHOICES) | set(offered))]
            combo_utils.fill(self.fps, items, render.fps, allow_disabled=keep)
            combo_utils.select(self.motion, render.camera_motion)
            self.speed.setValue(int(round(render.camera_speed * 100)))
            self.speed_label.setText(f"{render.camera_speed:.2f}×")
            self.audio_prompt.setText(render.audio_prompt or "")
            audio = model.supports_audio if model else True
            self.audio_prompt.setEnabled(audio)
            self.audio_prompt.setToolTip("" if audio else f"{model.label} makes no audio")
            self.lora_path.setText(render.lora_path or "")
            self.lora_scale.setValue(render.lora_scale)
            self.guidance.setValue(render.guidance_scale or 0.0)
            self.steps.setValue(render.num_inference_steps or 0)
            self.seed.setText("" if render.seed is None else str(render.seed))
            self.webhook.setText(render.webhook_url or "")
            self._apply_rules()
        finally:
            self._loading = False

    def _apply_rules(self) -> None:
        moving = self.motion.currentData() not in (None, "none")
        self.speed.setEnabled(moving)
        self.speed.setToolTip("" if moving else "Choose a camera motion first")
        local = self.deployment.currentData() in LOCAL_DEPLOYMENTS
        for w in (self.lora_path, self.lora_browse):
            w.setEnabled(local)
            w.setToolTip("" if local else "LoRA files work with the Local GPU and ComfyUI deployments only")

    # --- user edits -----------------------------------------------------------------------------------------
    def _emit(self, **changes) -> None:
        if not self._loading:
            self.edited.emit(changes)

    def _on_deployment(self) -> None:
        self._apply_rules()
        if not self._loading and self.deployment.currentData():
            self.deployment_chosen.emit(self.deployment.currentData())

    def _on_motion(self) -> None:
        self._apply_rules()
        self._emit(camera_motion=self.motion.currentData())

    def _on_speed(self, value: int) -> None:
        self.speed_label.setText(f"{value / 100:.2f}×")
        self._emit(camera_speed=value / 100)

    def _on_seed(self) -> None:
        text = self.seed.text().strip()
        self._emit(seed=int(text) if text else None)

    def _browse_lora(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "LoRA weights", "", "LoRA weights (*.safetensors);;All files (*)")
        if path:
            self.lora_path.setText(path)
            self._emit(lora_path=path)
