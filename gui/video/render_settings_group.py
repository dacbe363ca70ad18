"""The Render Settings group: the project's render settings (`project.render`), in the one shape every level uses.

Provider, model (with its price), resolution, aspect ratio, fps, the length of new scenes, camera motion and speed,
audio, audio prompt, seed and negative prompt for every provider; the LTX group (deployment and LTX-Video's own
options) when LTX-Video is chosen. An unset value is shown as the model's own default ("Model default (1080p)",
from the catalog's ModelInfo.defaults) and stored as nothing: the GUI writes only what the user chose, and never
"corrects" a saved value (the plan adapts an inherited value the model cannot take and says so beside the cost).
A control the chosen model ignores is disabled, its tooltip saying why and naming models that take it
(gui.video.control_rules).
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Optional

from PySide6.QtCore import QRegularExpression, Qt, QTimer, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QSlider, QVBoxLayout, QWidget)

from core.errors import ImageAIError
from core.video.render_settings import (ASPECT_RATIOS, CAMERA_MOTIONS, DEFAULT_PROVIDER, RESOLUTIONS,
                                        RenderSettings)
from gui.video import combo_utils
from gui.video.control_rules import control_reasons
from gui.video.ltx_group import LtxGroup
from gui.video.project_session import ProjectSession
from gui.video.provider_info import LTX, NO_DEPLOYMENT_ADVICE, ProviderInfo, price_text
from gui.video.veo_group import VeoGroup
from providers.base import ModelInfo

log = logging.getLogger(__name__)
UNSET = ""  # a combo's data for "the model's default"
RESOLUTION_LABELS = {"480p": "480p", "720p": "720p", "1080p": "1080p", "1440p": "1440p", "2160p": "4K (2160p)"}
FPS_CHOICES = (24, 30, 50)
AUDIO = {"on": True, "off": False}
PROVIDER_BOUND = ("provider", "model", "deployment", "options")
FALLBACK_SCENE_LENGTH = 5.0


class RenderSettingsGroup(QGroupBox):
    #: the project's render settings changed (the window remembers them as the last-used settings)
    changed = Signal()
    #: a value was refused: the message names the field and the allowed values
    problem = Signal(str)
    #: something the user should know about a choice (shown in the status console)
    notice = Signal(str)
    #: the providers' availability is known (checked on a worker thread at start)
    providers_ready = Signal()
    #: the GPU check for the local LTX deployment has answered (its entry now says which device, or why none)
    local_device_checked = Signal()
    _prefetched = Signal()
    _device_found = Signal(object)

    def __init__(self, session: ProjectSession, info: ProviderInfo, parent: Optional[QWidget] = None):
        super().__init__("Render Settings", parent)
        self.session = session
        self.info = info
        self._loading = False
        # what each provider had (model, deployment, options) when the user switched away from it: switching back
        # restores it exactly, so a provider switched away and back changes nothing (not even null -> a value)
        self._stash: dict[str, dict] = {}
        self._plan_ignored: dict[str, str] = {}  # from the last estimate: {field: why it was not sent}
        self.reasons: dict[str, Optional[str]] = {}  # control -> why it is disabled (None: enabled)
        self._build()
        self.ltx.edited.connect(lambda changes: self._set(**changes))
        self.ltx.deployment_chosen.connect(self._on_deployment)
        self.veo.edited.connect(lambda changes: self._set(**changes))
        session.project_replaced.connect(self._on_project)
        self.ready = False
        self._prefetched.connect(self._on_prefetched)
        self._device_found.connect(self._on_device_found)
        self._checking_device = False
        self._want_runnable = False  # LTX-Video was chosen with no deployment that runs here: take a GPU found later
        self.setEnabled(False)
        self.setTitle("Render Settings (checking providers…)")
        # checked once the event loop runs: the window appears first, then the providers' answers fill it in
        QTimer.singleShot(0, lambda: threading.Thread(target=self._prefetch, name="provider-check",
                                                      daemon=True).start())

    def _build(self) -> None:
        self.provider = QComboBox(objectName="providerCombo")
        self.model = QComboBox(objectName="modelCombo")
        self.resolution = QComboBox(objectName="resolutionCombo")
        self.aspect = QComboBox(objectName="aspectCombo")
        self.fps = QComboBox(objectName="fpsCombo")
        self.duration = QDoubleSpinBox(objectName="durationSpin", decimals=1, singleStep=0.5, suffix=" s")
        self.duration.setMinimum(0.0)
        self.motion = QComboBox(objectName="cameraMotionCombo")
        for motion in CAMERA_MOTIONS:
            self.motion.addItem("None (static)" if motion == "none" else motion.replace("_", " ").capitalize(),
                                UNSET if motion == "none" else motion)
        self.speed = QSlider(Qt.Horizontal, objectName="cameraSpeedSlider")
        self.speed.setRange(50, 200)
        self.speed.setSingleStep(5)
        self.speed.setPageStep(25)
        self.speed_label = QLabel("1.00×")
        self.speed_label.setMinimumWidth(40)
        self.audio = QComboBox(objectName="audioCombo")
        self.audio_prompt = QLineEdit(objectName="audioPromptEdit")
        self.audio_prompt.setPlaceholderText("Optional sound description (ambience, music, dialogue)")
        self.seed = QLineEdit(objectName="seedEdit")
        self.seed.setPlaceholderText("random")
        self.seed.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,10}")))
        self.negative = QLineEdit(objectName="negativePromptEdit")
        self.negative.setPlaceholderText("What the picture must not show")
        for combo in (self.provider, self.model, self.resolution, self.aspect, self.fps, self.audio):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.addRow("Provider:", self.provider)
        form.addRow("Model:", self.model)
        form.addRow("Resolution:", self.resolution)
        form.addRow("Aspect ratio:", self.aspect)
        form.addRow("FPS:", self.fps)
        form.addRow("New scene length:", self.duration)
        form.addRow("Camera:", self.motion)
        speed_row = QHBoxLayout()
        speed_row.addWidget(self.speed, 1)
        speed_row.addWidget(self.speed_label)
        form.addRow("Camera speed:", speed_row)
        form.addRow("Audio:", self.audio)
        form.addRow("Audio prompt:", self.audio_prompt)
        form.addRow("Seed:", self.seed)
        form.addRow("Negative prompt:", self.negative)
        self.ltx = LtxGroup(self)
        self.veo = VeoGroup(self)  # Veo's own options, shown only for Veo
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(form)
        lay.addWidget(self.ltx)
        lay.addWidget(self.veo)

        self.provider.currentIndexChanged.connect(self._on_provider)
        self.model.currentIndexChanged.connect(lambda: self._set(model=self.model.currentData() or None))
        self.resolution.currentIndexChanged.connect(
            lambda: self._set(resolution=self.resolution.currentData() or None))
        self.aspect.currentIndexChanged.connect(lambda: self._set(aspect_ratio=self.aspect.currentData() or None))
        self.fps.currentIndexChanged.connect(lambda: self._set(fps=self.fps.currentData() or None))
        self.duration.valueChanged.connect(lambda v: self._set(refresh=False, duration=v if v > 0 else None))
        self.motion.currentIndexChanged.connect(lambda: self._set(camera_motion=self.motion.currentData() or None))
        self.speed.valueChanged.connect(self._on_speed)
        self.audio.currentIndexChanged.connect(
            lambda: self._set(include_audio=AUDIO.get(self.audio.currentData())))
        self.audio_prompt.editingFinished.connect(
            lambda: self._set(refresh=False, audio_prompt=self.audio_prompt.text().strip() or None))
        self.seed.editingFinished.connect(self._on_seed)
        self.negative.editingFinished.connect(
            lambda: self._set(refresh=False, negative_prompt=self.negative.text().strip() or None))

    # --- the providers' answers (worker threads) --------------------------------------------------------------
    def _prefetch(self) -> None:
        try:
            self.info.prefetch()
            self.info.offers()
        except Exception:  # a broken provider is reported as unavailable by the registry; never crash here
            log.exception("checking providers failed")
        try:
            self._prefetched.emit()
        except RuntimeError:  # the window closed while the check ran
            pass

    def _on_prefetched(self) -> None:
        self.ready = True
        self.setEnabled(True)
        self.setTitle("Render Settings")
        self.load()
        self.providers_ready.emit()

    def recheck(self) -> None:
        """After the settings changed (keys, addresses): ask the providers again, off the GUI thread."""
        self.info.refresh()
        self.ready = False
        self.setEnabled(False)
        self.setTitle("Render Settings (checking providers…)")
        threading.Thread(target=self._prefetch, name="provider-check", daemon=True).start()

    def _check_local_device(self) -> None:
        """Once LTX-Video is shown: look for a GPU on a worker thread (it imports torch, which takes seconds)."""
        if self._checking_device or not self.info.local_device_needed():
            return
        self._checking_device = True
        threading.Thread(target=self._detect_device, name="local-device-check", daemon=True).start()

    def _detect_device(self) -> None:
        result = self.info.detect_local_device()
        try:
            self._device_found.emit(result)
        except RuntimeError:  # the window closed while the check ran
            pass

    def _on_device_found(self, result) -> None:
        self._checking_device = False
        self.info.set_local_device(result)
        if self.ready and self.session.project is not None and self.effective_provider() == LTX:
            self._fill_deployments()  # the entries only: the saved deployment is shown as saved
            if self._want_runnable and self.render.deployment is None and self.info.runnable_deployment() == "local":
                self._want_runnable = False  # LTX-Video was just chosen and only this machine's GPU can run it
                self._set(deployment="local")
                self.notice.emit(f"LTX-Video: using {self.info.deployment_labels()['local']} (no cloud key or "
                                 "ComfyUI server is set)")
        self.local_device_checked.emit()

    # --- the settings being edited --------------------------------------------------------------------------
    @property
    def render(self) -> RenderSettings:
        return self.session.project.render

    def effective_provider(self) -> str:
        return self.render.provider or DEFAULT_PROVIDER

    def chosen_model(self) -> Optional[ModelInfo]:
        """The model a render with the project's settings uses (the default one when none is chosen)."""
        r = self.render
        return self.info.model_info(r.provider, r.model, r.deployment)

    def default_scene_length(self) -> float:
        """The length of a new scene: the project's choice, else the model's default length."""
        if self.session.project is None:
            return FALLBACK_SCENE_LENGTH
        if self.render.duration is not None:
            return float(self.render.duration)
        model = self.chosen_model() if self.ready else None
        return float((model.defaults if model else {}).get("duration", FALLBACK_SCENE_LENGTH))

    def _set(self, refresh: bool = True, **changes: Any) -> bool:
        """Apply the user's changes to project.render through RenderSettings' own validation."""
        if self._loading or self.session.project is None:
            return False
        try:
            new = self.render.updated(**changes)
        except ValueError as exc:
            self.problem.emit(_message(exc))
            self.load()
            return False
        return self._replace(new, refresh)

    def _replace(self, new: RenderSettings, refresh: bool = True) -> bool:
        if new == self.render:
            return False
        self.session.project.render = new
        self.session.mark_dirty()
        if refresh:
            self._refresh()
        else:
            self._apply_rules()
        self.changed.emit()
        return True

    # --- user choices that touch several fields -------------------------------------------------------------
    def _on_provider(self) -> None:
        if self._loading or self.session.project is None:
            return
        new = self.provider.currentData()
        r = self.render
        old = self.effective_provider()
        if not new or new == old:
            return
        self._stash[old] = {k: getattr(r, k) for k in PROVIDER_BOUND}
        back = self._stash.pop(new, None)
        if back is None:
            back = {"provider": new, "model": None, "deployment": None, "options": {}}
            if new == LTX:
                back["deployment"] = self._runnable_instead_of_default()
        self._replace(RenderSettings.model_validate({**r.model_dump(), **back}))

    def _runnable_instead_of_default(self) -> Optional[str]:
        """LTX-Video newly chosen: None (its default deployment) when that can render here, else the first that can,
        so the first deployment offered is one this machine runs; with none, what to do instead is said."""
        self._want_runnable = False
        default = self.info.default_deployment()
        if self.info.deployment_status().get(default) is None:
            return None
        found = self.info.runnable_deployment()
        labels = self.info.deployment_labels()
        if found is not None:
            self.notice.emit(f"LTX-Video: {labels.get(default, default)} cannot run here "
                             f"({self.info.deployment_status()[default]}); using {labels.get(found, found)}")
        else:
            self._want_runnable = self.info.local_device_needed()  # the GPU check may still find one
            self.notice.emit(NO_DEPLOYMENT_ADVICE)
        return found

    def _on_deployment(self, deployment: Optional[str]) -> None:
        if self._loading or self.session.project is None:
            return
        r = self.render
        changes: dict = {"deployment": deployment}
        if r.model is not None and self.info.model_info(LTX, r.model, deployment) is None:
            # the chosen model is not served there: the deployment's default model is used (and the user is told)
            changes["model"] = None
            where = self.info.deployment_labels().get(self.info.effective_deployment(LTX, deployment), deployment)
            self.notice.emit(f"{r.model} is not offered on {where}: the model is set to that deployment's default")
        self._set(**changes)

    def _on_speed(self, value: int) -> None:
        self.speed_label.setText(f"{value / 100:.2f}×")
        self._set(refresh=False, camera_speed=None if value == 100 else value / 100)  # 1.0 is the default

    def _on_seed(self) -> None:
        text = self.seed.text().strip()
        self._set(refresh=False, seed=int(text) if text else None)

    def _on_project(self) -> None:
        self._stash.clear()
        self._plan_ignored.clear()
        self.load()

    # --- showing the settings -------------------------------------------------------------------------------
    def load(self) -> None:
        if self.session.project is None or not self.ready:
            return
        self._refresh()

    def _refresh(self) -> None:
        """Show project.render in every control (writes nothing)."""
        self._loading = True
        try:
            r = self.render
            provider = self.effective_provider()
            items = [(s.display_name if s.available else f"{s.display_name} (unavailable)", s.name,
                      None if s.available else (s.reason or "unavailable")) for s in self.info.statuses()]
            if not any(name == provider for _, name, _ in items):
                items.append((f"{provider} (unknown)", provider, f"no provider named {provider!r} here"))
            combo_utils.fill(self.provider, items, provider, allow_disabled=True)
            is_ltx = provider == LTX
            self.ltx.setVisible(is_ltx)
            if is_ltx:
                self._fill_deployments()
                self.ltx.load(r.options)
                self._check_local_device()
            self.veo.setVisible(provider == "veo")
            if provider == "veo":
                self.veo.show_model(self.chosen_model(), r.options)
            self._fill_model()
            self._fill_values(self.chosen_model())
        finally:
            self._loading = False
        self._apply_rules()

    def _fill_deployments(self) -> None:
        self.ltx.set_deployments(self.info.deployment_status(), self.render.deployment,
                                 labels=self.info.deployment_labels(), default=self.info.default_deployment())

    def _fill_model(self) -> None:
        r = self.render
        deployment = self.info.effective_deployment(r.provider, r.deployment)
        models = self.info.models(self.effective_provider(), deployment)
        resolution = r.resolution
        default = self.info.default_model(r.provider, r.deployment)
        items = [(f"Model default ({default.label})" if default else "Model default", UNSET, None)]
        items += [(_model_label(m, resolution or m.defaults.get("resolution", "")), m.id, None) for m in models]
        _fill(self.model, items, r.model, "model")

    def _fill_values(self, model: Optional[ModelInfo]) -> None:
        r = self.render
        defaults = model.defaults if model else {}
        label = model.label if model else "this model"
        res_ok = model.resolutions if model else list(RESOLUTIONS)
        _fill(self.resolution, [(_default_text(RESOLUTION_LABELS.get(defaults.get("resolution"))), UNSET, None)] +
              [(RESOLUTION_LABELS[x], x, None if x in res_ok else f"{label} does not offer {x}") for x in RESOLUTIONS],
              r.resolution, "resolution")
        ar_ok = model.aspect_ratios if model else list(ASPECT_RATIOS)
        _fill(self.aspect, [(_default_text(defaults.get("aspect_ratio")), UNSET, None)] +
              [(a, a, None if a in ar_ok else f"{label} does not offer {a}") for a in ASPECT_RATIOS],
              r.aspect_ratio, "aspect ratio")
        offered = list(model.fps) if model else list(FPS_CHOICES)
        fps_default = defaults.get("fps")
        _fill(self.fps, [(_default_text(f"{fps_default} fps" if fps_default else None), UNSET, None)] +
              [(f"{f} fps", f, None if f in offered else f"{label} does not offer {f} fps")
               for f in sorted(set(FPS_CHOICES) | set(offered))], r.fps, "fps")
        self._fill_length(model)
        combo_utils.select(self.motion, r.camera_motion if r.camera_motion not in (None, "none") else UNSET,
                           allow_disabled=True)
        speed = r.camera_speed if r.camera_speed is not None else 1.0
        self.speed.setValue(int(round(speed * 100)))
        self.speed_label.setText(f"{speed:.2f}×")
        makes_audio = model is None or "audio" in model.modes
        combo_utils.fill(self.audio, [(f"Model default ({'with sound' if makes_audio else 'silent'})", UNSET, None),
                                      ("With sound", "on", None), ("Silent", "off", None)],
                         {True: "on", False: "off"}.get(r.include_audio, UNSET), allow_disabled=True)
        self.audio_prompt.setText(r.audio_prompt or "")
        self.seed.setText("" if r.seed is None else str(r.seed))
        self.negative.setText(r.negative_prompt or "")

    def _fill_length(self, model: Optional[ModelInfo]) -> None:
        r = self.render
        default = (model.defaults if model else {}).get("duration")
        high = max(model.durations) if model and model.durations else (model.max_duration if model else 600.0)
        blocked = self.duration.blockSignals(True)
        self.duration.setRange(0.0, max(high, r.duration or 0.0))
        self.duration.setSpecialValueText(_default_text(f"{default:g} s" if default else None))
        self.duration.setValue(r.duration or 0.0)
        self.duration.blockSignals(blocked)
        if model is not None:
            lengths = ", ".join(f"{d:g}" for d in model.durations) if model.durations else \
                f"{model.min_duration:g}–{model.max_duration:g}"
            self.duration.setToolTip(f"Length of new scenes; {model.label} renders {lengths} s (a scene is rendered "
                                     "at the shortest length that covers it, and the export cuts it). Each scene's "
                                     "own length is edited in the scene table")

    # --- which controls the chosen model takes ---------------------------------------------------------------
    def set_plan(self, plan) -> None:
        """The last estimate (a RunPlan): settings it did not send for scenes that follow the project's provider
        and model disable their control too, with the plan's own reason."""
        ignored: dict[str, str] = {}
        for item in getattr(plan, "items", []):
            rp = item.plan
            if rp is None or item.skip_reason:
                continue
            layered = rp.request.layered
            if any(layered.explicit(k) for k in ("provider", "model", "deployment")):
                continue  # a scene with its own model: its notes are its own
            for ig in rp.ignored:
                if ig.field != "camera_speed" and not layered.explicit(ig.field) and \
                        not layered.explicit(f"options.{ig.field}"):
                    ignored.setdefault(ig.field, ig.reason)
        if ignored != self._plan_ignored:
            self._plan_ignored = ignored
            if self.ready and self.session.project is not None:
                self._apply_rules()

    def _apply_rules(self) -> None:
        if self.session.project is None or not self.ready:
            return
        r = self.render
        chosen = self.info.offer(r.provider, r.model, r.deployment)
        reasons = control_reasons(chosen, self.info.offers(), self._plan_ignored)
        if r.camera_motion in (None, "none") and reasons.get("camera_speed") is None:
            reasons["camera_speed"] = "Choose a camera motion first"
        if r.include_audio is False and reasons.get("audio_prompt") is None:
            reasons["audio_prompt"] = "Audio is off: choose “With sound” to describe it"
        self.reasons = reasons
        for control, widget in (("seed", self.seed), ("negative_prompt", self.negative),
                                ("include_audio", self.audio), ("audio_prompt", self.audio_prompt),
                                ("camera_speed", self.speed)):
            why = reasons.get(control)
            widget.setEnabled(why is None)
            widget.setToolTip(why or "")
        self.ltx.apply_reasons(reasons)


def _fill(combo: QComboBox, items: list, current: Any, what: str) -> None:
    """Fill a combo whose first item is the default; a saved value this build does not list is shown as saved."""
    if current is not None and not any(data == current for _, data, _ in items):
        items = items + [(f"{current} (not offered here)", current, f"no {what} {current!r} here")]
    combo_utils.fill(combo, items, UNSET if current is None else current, allow_disabled=True)


def _default_text(value: Optional[str]) -> str:
    return f"Model default ({value})" if value else "Model default"


def _model_label(model: ModelInfo, resolution: str) -> str:
    price = price_text(model, resolution)
    return f"{model.label} — {price}" if price else model.label


def _message(exc: Exception) -> str:
    if isinstance(exc, ImageAIError):
        return str(exc)
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            return f"{'.'.join(str(p) for p in first.get('loc', ()))}: {first.get('msg')}"
        except (IndexError, TypeError):
            pass
    return str(exc)
