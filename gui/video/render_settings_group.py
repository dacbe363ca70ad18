"""The Render Settings group: provider, model (with its price), resolution, aspect ratio, duration, and the LTX group
shown only when LTX-Video is chosen. It edits `project.render` (the project's RenderSettings); every value is checked
by RenderSettings itself, and what a model allows comes from the provider's catalog."""
from __future__ import annotations

import logging
import threading
from typing import Optional

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QVBoxLayout, QWidget

from core.errors import ImageAIError
from core.video.render_settings import ASPECT_RATIOS, RESOLUTIONS, RenderSettings
from gui.video import combo_utils
from gui.video.ltx_group import LtxGroup
from gui.video.project_session import ProjectSession
from gui.video.provider_info import LTX, ProviderInfo, price_text
from providers.base import ModelInfo

log = logging.getLogger(__name__)
RESOLUTION_LABELS = {"480p": "480p", "720p": "720p", "1080p": "1080p", "1440p": "1440p", "2160p": "4K (2160p)"}


class RenderSettingsGroup(QGroupBox):
    #: the project's render settings changed (the window remembers them as the last-used settings)
    changed = Signal()
    #: a value was refused: the message names the field and the allowed values
    problem = Signal(str)
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
        self._keep = False  # while showing a loaded project: show its values as saved, correct nothing

        self.provider = QComboBox(objectName="providerCombo")
        self.model = QComboBox(objectName="modelCombo")
        self.resolution = QComboBox(objectName="resolutionCombo")
        self.aspect = QComboBox(objectName="aspectCombo")
        self.duration = QDoubleSpinBox(objectName="durationSpin", decimals=1, singleStep=0.5, suffix=" s")
        self.duration.setToolTip("Length of new scenes; each scene's own length is edited in the scene table")
        for combo in (self.provider, self.model, self.resolution, self.aspect):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.addRow("Provider:", self.provider)
        form.addRow("Model:", self.model)
        row = QHBoxLayout()
        row.addWidget(self.resolution, 1)
        row.addWidget(self.aspect, 1)
        form.addRow("Resolution / aspect:", row)
        form.addRow("Duration:", self.duration)
        self.ltx = LtxGroup(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(form)
        lay.addWidget(self.ltx)

        self.provider.currentIndexChanged.connect(self._on_provider)
        self.model.currentIndexChanged.connect(self._on_model)
        self.resolution.currentIndexChanged.connect(self._on_resolution)
        self.aspect.currentIndexChanged.connect(lambda: self._set(aspect_ratio=self.aspect.currentData()))
        self.duration.valueChanged.connect(self._on_duration)
        self.ltx.edited.connect(lambda changes: self._set(**changes))
        self.ltx.deployment_chosen.connect(self._on_deployment)
        session.project_replaced.connect(self.load)
        self.ready = False
        self._prefetched.connect(self._on_prefetched)
        self._device_found.connect(self._on_device_found)
        self._checking_device = False
        self.setEnabled(False)
        self.setTitle("Render Settings (checking providers…)")
        # checked once the event loop runs: the window appears first, then the providers' answers fill it in
        QTimer.singleShot(0, lambda: threading.Thread(target=self._prefetch, name="provider-check",
                                                      daemon=True).start())

    def _prefetch(self) -> None:
        try:
            self.info.prefetch()
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
        if self.ready and self.session.project is not None and self.provider.currentData() == LTX:
            self._loading = True
            try:  # the entries only: the project's deployment is shown as saved, never changed by the check
                self.ltx.set_deployments(self.info.deployment_status(), self.render.deployment, keep=True,
                                         labels=self.info.deployment_labels())
            finally:
                self._loading = False
        self.local_device_checked.emit()

    # --- the settings being edited --------------------------------------------------------------------------
    @property
    def render(self) -> RenderSettings:
        return self.session.project.render

    def _set(self, **changes) -> bool:
        """Apply changes to project.render through RenderSettings' own validation."""
        if self._loading or self.session.project is None:
            return False
        try:
            new = self.render.model_validate({**self.render.model_dump(), **changes})
        except ValueError as exc:
            self.problem.emit(_message(exc))
            self.load()
            return False
        if new != self.render:
            self.session.project.render = new
            self.session.mark_dirty()
            self.changed.emit()
        return True

    def current_model(self) -> Optional[ModelInfo]:
        models = self.info.models(self.render.provider, self._deployment())
        model_id = self.model.currentData()
        return next((m for m in models if m.id == model_id), models[0] if models else None)

    def _deployment(self) -> Optional[str]:
        return self.render.deployment if self.render.provider == LTX else None

    # --- loading a project's settings into the widgets ------------------------------------------------------
    def load(self) -> None:
        if self.session.project is None or not self.ready:
            return
        self._loading = True
        try:
            items = [(s.display_name if s.available else f"{s.display_name} (unavailable)", s.name,
                      None if s.available else (s.reason or "unavailable"))
                     for s in self.info.statuses()]
            # a project is shown as saved, even a choice this machine cannot render (its tooltip says why and the
            # cost line names the problem); values are only corrected when the user changes something
            self._keep = True
            combo_utils.fill(self.provider, items, self.render.provider, allow_disabled=True)
            self._fit_to_provider()
        finally:
            self._keep = False
            self._loading = False

    def _fit_to_provider(self) -> None:
        """Bring every dependent control (and the settings) in line with the provider, deployment and model."""
        provider = self.provider.currentData()
        fixes: dict = {}
        if provider and provider != self.render.provider:
            fixes["provider"] = provider
        is_ltx = provider == LTX
        self.ltx.setVisible(is_ltx)
        deployment = None
        if is_ltx:
            deployment = self.ltx.set_deployments(self.info.deployment_status(), self.render.deployment, self._keep,
                                                  labels=self.info.deployment_labels())
            self._check_local_device()
        if deployment != self.render.deployment:
            fixes["deployment"] = deployment
        models = self.info.models(provider, deployment) if provider else []
        resolution = self.render.resolution
        combo_utils.fill(self.model, [(_model_label(m, resolution), m.id, None) for m in models], self.render.model,
                         allow_disabled=self._keep)
        model = next((m for m in models if m.id == self.model.currentData()), None)
        if model is not None and model.id != self.render.model:
            fixes["model"] = model.id
        fixes.update(self._fit_to_model(model))
        if fixes and not self._keep:
            self._apply_fixes(fixes)
        if is_ltx:
            self.ltx.load(self.render, model, self._keep)

    def _fit_to_model(self, model: Optional[ModelInfo]) -> dict:
        fixes: dict = {}
        allowed_res = model.resolutions if model else list(RESOLUTIONS)
        items = [(RESOLUTION_LABELS[r], r, None if r in allowed_res else f"{model.label} does not offer {r}")
                 for r in RESOLUTIONS]
        combo_utils.fill(self.resolution, items, self.render.resolution, allow_disabled=self._keep)
        if self.resolution.currentData() and self.resolution.currentData() != self.render.resolution:
            fixes["resolution"] = self.resolution.currentData()
        allowed_ar = model.aspect_ratios if model else list(ASPECT_RATIOS)
        items = [(ar, ar, None if ar in allowed_ar else f"{model.label} does not offer {ar}") for ar in ASPECT_RATIOS]
        combo_utils.fill(self.aspect, items, self.render.aspect_ratio, allow_disabled=self._keep)
        if self.aspect.currentData() and self.aspect.currentData() != self.render.aspect_ratio:
            fixes["aspect_ratio"] = self.aspect.currentData()
        if model is not None:
            if model.fps and self.render.fps not in model.fps:
                fixes["fps"] = 24 if 24 in model.fps else model.fps[0]
            low = min(model.durations) if model.durations else model.min_duration
            high = max(model.durations) if model.durations else model.max_duration
            blocked = self.duration.blockSignals(True)
            self.duration.setRange(low, high)
            self.duration.setSingleStep(1.0 if model.durations else 0.5)
            wanted = _nearest(self.render.duration, model.durations) if model.durations else self.render.duration
            wanted = self.render.duration if self._keep else min(max(wanted, low), high)
            self.duration.setValue(wanted)
            self.duration.blockSignals(blocked)
            allowed = ", ".join(f"{d:g}" for d in model.durations) if model.durations else f"{low:g}–{high:g}"
            self.duration.setToolTip(f"Length of new scenes ({allowed} s for {model.label}); "
                                     "each scene's own length is edited in the scene table")
            if abs(wanted - self.render.duration) > 1e-6:
                fixes["duration"] = wanted
        return fixes

    def _apply_fixes(self, fixes: dict) -> None:
        try:
            self.session.project.render = self.render.model_validate({**self.render.model_dump(), **fixes})
        except ValueError as exc:
            self.problem.emit(_message(exc))
            return
        self.session.mark_dirty()
        self.changed.emit()

    # --- user choices ---------------------------------------------------------------------------------------
    def _on_provider(self) -> None:
        if self._loading:
            return
        self._loading = True
        try:
            self._fit_to_provider()
        finally:
            self._loading = False

    def _on_deployment(self, deployment: str) -> None:
        if self._loading:
            return
        self._loading = True
        try:
            self._apply_fixes({"deployment": deployment})
            self._fit_to_provider()
        finally:
            self._loading = False

    def _on_model(self) -> None:
        if self._loading:
            return
        self._loading = True
        try:
            self._apply_fixes({"model": self.model.currentData()})
            self._fit_to_provider()
        finally:
            self._loading = False

    def _on_resolution(self) -> None:
        if self._set(resolution=self.resolution.currentData()):
            # prices depend on the resolution: relabel the models
            models = self.info.models(self.render.provider, self._deployment())
            for i, m in enumerate(models[: self.model.count()]):
                self.model.setItemText(i, _model_label(m, self.render.resolution))

    def _on_duration(self, value: float) -> None:
        model = self.current_model()
        if model is not None and model.durations:
            snapped = _nearest(value, model.durations)
            if abs(snapped - value) > 1e-6:
                self.duration.setValue(snapped)  # re-enters with the allowed value
                return
        self._set(duration=value)


def _nearest(value: float, choices: list[float]) -> float:
    return min(choices, key=lambda c: abs(c - value)) if choices else value


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
