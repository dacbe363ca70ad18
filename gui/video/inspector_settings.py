"""The per-scene render settings of the scene inspector: provider and model, camera motion and speed, audio on/off,
audio prompt and negative prompt. Each control's first choice is "Project default (<what that is>)", stored as
nothing (the scene inherits); a choice is stored in the scene's own `render` through one undoable edit
(SetSceneField, SetSceneProvider). What a model does not take is listed beside the cost by the plan, as for the
project's settings."""
from __future__ import annotations

from typing import Any, Callable, Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QWidget

from core.video.project import Scene, VideoProject
from core.video.render_settings import CAMERA_MOTIONS, DEFAULT_PROVIDER, RenderSettings
from core.video.scene_edits import Edit, SetSceneField, SetSceneProvider
from gui.video import combo_utils
from gui.video.control_rules import control_reasons
from gui.video.provider_info import ProviderInfo, price_text

DEFAULT = ""          # a combo's data for "inherit"
NO_SPEED = 0.45       # the speed box's "Project default" (below the 0.5 a speed may be)
AUDIO = {"on": True, "off": False}


def motion_label(motion: Optional[str]) -> str:
    if not motion or motion == "none":
        return "None (static)"
    return motion.replace("_", " ").capitalize()


class SceneSettingsForm(QWidget):
    #: an edit to push (the inspector applies it and reports problems)
    edit_requested = Signal(object)

    def __init__(self, info: ProviderInfo, ready: Callable[[], bool], parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.info = info
        self._ready = ready
        self.project: Optional[VideoProject] = None
        self.scene: Optional[Scene] = None
        self._loading = False
        self.provider = QComboBox(objectName="inspectorProviderCombo")
        self.model = QComboBox(objectName="inspectorModelCombo")
        self.motion = QComboBox(objectName="inspectorCameraCombo")
        self.speed = QDoubleSpinBox(objectName="inspectorSpeedSpin", decimals=2, singleStep=0.05, suffix="×")
        self.speed.setRange(NO_SPEED, 2.0)
        self.speed.setSpecialValueText("Project default")
        self.speed.setKeyboardTracking(False)
        self.audio = QComboBox(objectName="inspectorAudioCombo")
        self.audio_prompt = QLineEdit(objectName="inspectorAudioPromptEdit")
        self.audio_prompt.setPlaceholderText("Project default (none): sounds, music, dialogue")
        self.negative = QLineEdit(objectName="inspectorNegativeEdit")
        self.negative.setPlaceholderText("Project default: what the picture must not show")
        for combo in (self.provider, self.model, self.motion, self.audio):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.addRow("Provider:", self.provider)
        form.addRow("Model:", self.model)
        form.addRow("Camera:", self.motion)
        form.addRow("Speed:", self.speed)
        form.addRow("Audio:", self.audio)
        form.addRow("Audio prompt:", self.audio_prompt)
        form.addRow("Negative:", self.negative)
        self.provider.currentIndexChanged.connect(lambda _: self._on_provider())
        self.model.currentIndexChanged.connect(lambda _: self._set(model=self.model.currentData() or None))
        self.motion.currentIndexChanged.connect(lambda _: self._set(camera_motion=self.motion.currentData() or None))
        self.speed.valueChanged.connect(self._on_speed)
        self.audio.currentIndexChanged.connect(lambda _: self._set(include_audio=AUDIO.get(self.audio.currentData())))
        self.audio_prompt.editingFinished.connect(
            lambda: self._set(audio_prompt=self.audio_prompt.text().strip() or None))
        self.negative.editingFinished.connect(lambda: self._set(negative_prompt=self.negative.text().strip() or None))

    # --- showing ------------------------------------------------------------------------------------------
    def load(self, project: Optional[VideoProject], scene: Optional[Scene]) -> None:
        self.project, self.scene = project, scene
        self._loading = True
        try:
            self._fill()
        finally:
            self._loading = False

    def _fill(self) -> None:
        scene, project = self.scene, self.project
        own = scene.render if scene else RenderSettings()
        base = project.render if project else RenderSettings()
        layered = project.scene_settings(scene).settings if scene and project else base
        project_provider = base.provider or DEFAULT_PROVIDER
        names = {s.name: s.display_name for s in self.info.statuses()} if self._ready() else {}
        items = [(f"Project default ({names.get(project_provider, project_provider)})", DEFAULT, None)]
        if self._ready():
            items += [(s.display_name if s.available else f"{s.display_name} (unavailable)", s.name,
                       None if s.available else (s.reason or "unavailable")) for s in self.info.statuses()]
        elif own.provider:
            items.append((own.provider, own.provider, None))
        combo_utils.fill(self.provider, items, keep=own.provider or DEFAULT, allow_disabled=True)

        provider = layered.provider or DEFAULT_PROVIDER
        deployment = layered.deployment
        models = self.info.models(provider, self.info.effective_deployment(provider, deployment)) \
            if self._ready() else []
        inherited = layered.model if own.model is None else None
        default = self.info.model_info(provider, inherited, deployment) if self._ready() else None
        source = "Project default" if own.provider is None else "Model default"
        label = f"{source} ({default.label})" if default else "Project default"
        resolution = layered.resolution or "1080p"
        model_items = [(label, DEFAULT, None)]
        model_items += [(f"{m.label}  {price_text(m, resolution)}".rstrip(), m.id, None) for m in models]
        if own.model and own.model not in [m.id for m in models]:
            model_items.append((f"{own.model} (not offered here)", own.model, "not offered by this provider here"))
        combo_utils.fill(self.model, model_items, keep=own.model or DEFAULT, allow_disabled=True)

        motion_items = [(f"Project default ({motion_label(base.camera_motion)})", DEFAULT, None)]
        motion_items += [(motion_label(m), m, None) for m in CAMERA_MOTIONS]
        combo_utils.fill(self.motion, motion_items, keep=own.camera_motion or DEFAULT)
        blocked = self.speed.blockSignals(True)
        self.speed.setValue(own.camera_speed if own.camera_speed is not None else NO_SPEED)
        self.speed.setSpecialValueText(f"Project ({base.camera_speed or 1.0:.2f}×)")
        self.speed.blockSignals(blocked)

        shown = {True: "on", False: "off", None: "model default"}[base.include_audio]
        audio_items = [(f"Project default ({shown})", DEFAULT, None), ("On", "on", None), ("Off", "off", None)]
        own_audio = {True: "on", False: "off"}.get(own.include_audio, DEFAULT)
        combo_utils.fill(self.audio, audio_items, keep=own_audio)
        for edit, own_text, base_text in ((self.audio_prompt, own.audio_prompt, base.audio_prompt),
                                          (self.negative, own.negative_prompt, base.negative_prompt)):
            edit.setText(own_text or "")
            if base_text:
                edit.setPlaceholderText(f"Project default: {base_text}")
        for w in (self.provider, self.model, self.motion):
            w.setEnabled(scene is not None)
        self._honest(scene, layered)

    def _honest(self, scene: Optional[Scene], layered: RenderSettings) -> None:
        """A setting the scene's model does not take is greyed out, its tooltip naming models that take it (the
        project group's rules, gui.video.control_rules)."""
        reasons: dict[str, Optional[str]] = {}
        if self._ready():
            chosen = self.info.offer(layered.provider, layered.model, layered.deployment)
            reasons = control_reasons(chosen, self.info.offers())
        if (layered.camera_motion or "none") == "none" and reasons.get("camera_speed") is None:
            reasons["camera_speed"] = "Choose a camera motion first: the speed is that motion's"
        if layered.include_audio is False and reasons.get("audio_prompt") is None:
            reasons["audio_prompt"] = "Audio is off: choose On to describe the sound"
        for control, widget in (("negative_prompt", self.negative), ("include_audio", self.audio),
                                ("audio_prompt", self.audio_prompt), ("camera_speed", self.speed)):
            why = reasons.get(control)
            widget.setEnabled(scene is not None and why is None)
            widget.setToolTip(why or "")

    # --- changing -----------------------------------------------------------------------------------------
    def _edit(self, edit: Edit) -> None:
        if not self._loading and self.scene is not None:
            self.edit_requested.emit(edit)

    def _set(self, **changes: Any) -> None:
        if self.scene is None or self._loading:
            return
        render = self.scene.render
        new = render.updated(**changes)
        if new != render:
            self._edit(SetSceneField(self.scene.id, "render", new))

    def _on_provider(self) -> None:
        if self.scene is None or self._loading:
            return
        chosen = self.provider.currentData() or None
        if chosen != self.scene.render.provider:
            self._edit(SetSceneProvider(self.scene.id, chosen))

    def _on_speed(self, value: float) -> None:
        self._set(camera_speed=None if value <= NO_SPEED + 1e-6 else round(value, 2))
