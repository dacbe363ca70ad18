"""The image group: the project's image provider and model (the price per image on each entry), variants per scene,
start or end frames, the estimate of what Generate Images makes; Generate Images (placed beside Generate Videos by
the video tab) plans off the GUI thread, asks above the cost threshold as for video, then runs that very plan. Each
image arrives as an image take and its scene's row refreshes (the first one becomes the frame of a scene without
one); "Choose images…" opens the variants picker."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QWidget)

from core.config import Settings
from core.images.frame_rules import FrameProblem
from core.images.run import ImageEvent, ImageSummary
from core.video.project import ImageChoice
from gui.async_runner import AsyncRunner
from gui.video import combo_utils
from gui.video.image_controller import ImageController, ImagePlanResult
from gui.video.image_cost_dialog import ImageCostDialog
from gui.video.image_variants import ImageVariantsDialog
from gui.video.project_session import ProjectSession

log = logging.getLogger(__name__)
LEVELS = {"failed": "error", "cancelled": "warning", "retry": "warning"}


def price_text(prices: dict[str, float]) -> str:
    values = sorted(set(prices.values()))
    if not values or values[-1] == 0:
        return "free"
    if len(values) == 1:
        return f"${values[0]:.3f} / image"
    return f"${values[0]:.3f}–{values[-1]:.3f} / image"


class ImageGroup(QGroupBox):
    problem = Signal(str)
    #: the estimate of what Generate Images makes is on screen: its ImagePlanResult
    estimate_shown = Signal(object)
    #: a run above the cost threshold waits for the user: the ImageCostDialog
    confirmation_requested = Signal(object)
    _statuses = Signal(object)

    def __init__(self, session: ProjectSession, runner: AsyncRunner, settings: Settings, console,
                 selected: Callable[[], list[str]], parent: Optional[QWidget] = None):
        super().__init__("Images (start and end frames)", parent)
        self.setObjectName("imageGroup")
        self.session, self.settings, self.console, self._selected = session, settings, console, selected
        self.controller = ImageController(session, runner, settings, self)
        self.ready = False
        self.dialog: Optional[ImageCostDialog] = None
        self.variants_dialog: Optional[ImageVariantsDialog] = None
        self._estimate_token: Optional[int] = None
        #: why Generate Images is off: the last estimate refused a frame the scenes' video models cannot take
        self.blocked: Optional[str] = None
        self._run_token: Optional[int] = None
        self.provider_combo = QComboBox(objectName="imageProviderCombo")
        self.model_combo = QComboBox(objectName="imageModelCombo")
        for combo in (self.provider_combo, self.model_combo):  # long entries must not widen the window
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(16)
        self.variants_spin = QSpinBox(objectName="imageVariantsSpin", minimum=1, maximum=10)
        self.end_check = QCheckBox("End frames", objectName="endFramesCheck")
        self.end_check.setToolTip("Make end frames (they look at the scene's start frame) instead of start frames")
        self.estimate_label = QLabel("", objectName="imageEstimate", wordWrap=True)
        self.progress = QProgressBar(objectName="imageProgress", visible=False)
        self.progress.setFormat("%v of %m image(s)")
        self.generate_button = QPushButton("Generate Images", objectName="generateImagesButton", enabled=False)
        self.generate_button.setMinimumHeight(30)
        self.choose_button = QPushButton("Choose images…", objectName="chooseImagesButton", enabled=False)
        self.cancel_button = QPushButton("Cancel images", objectName="cancelImagesButton", enabled=False)
        form = QFormLayout(self)
        form.addRow("Provider", self.provider_combo)
        form.addRow("Model", self.model_combo)
        row = QHBoxLayout()
        row.addWidget(self.variants_spin)
        row.addWidget(self.end_check)
        row.addStretch(1)
        form.addRow("Variants", row)
        form.addRow(self.estimate_label)
        form.addRow(self.progress)
        buttons = QHBoxLayout()
        buttons.addWidget(self.choose_button)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        self._timer = QTimer(self, singleShot=True, interval=250)
        self._timer.timeout.connect(self.update_estimate)
        self._connect()
        self._fill_providers(None)
        self._check_providers()

    def _connect(self) -> None:
        self.provider_combo.currentIndexChanged.connect(self._provider_chosen)
        self.model_combo.currentIndexChanged.connect(lambda _: self._store_choice())
        self.variants_spin.valueChanged.connect(lambda _: self._store_choice())
        self.end_check.toggled.connect(lambda _: self.schedule_estimate())
        self.generate_button.clicked.connect(lambda: self.generate())
        self.cancel_button.clicked.connect(lambda: self.controller.cancel(None))
        self.choose_button.clicked.connect(self.show_variants)
        self.controller.planned.connect(self._on_planned)
        self.controller.event.connect(self._on_event)
        self.controller.finished.connect(self._on_finished)
        self.controller.started.connect(self._on_started)
        self._statuses.connect(self._fill_providers, Qt.QueuedConnection)
        self.session.project_replaced.connect(self._load_choice)
        self.session.scenes_reset.connect(self.schedule_estimate)
        self.session.scene_changed.connect(lambda _: self.schedule_estimate())

    # --- providers and the project's choice ------------------------------------------------------------------
    def _check_providers(self) -> None:
        """Which providers can run here (keys, SDKs) is asked off the GUI thread (a keyring may be slow)."""
        from providers.images import registry

        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="image-providers")
        future = executor.submit(lambda: {s.name: s.reason for s in registry.image_statuses(self.settings)
                                          if not s.available})
        future.add_done_callback(lambda f: self._emit_statuses(f))
        executor.shutdown(wait=False)

    def _emit_statuses(self, future) -> None:
        try:
            self._statuses.emit(future.result() if future.exception() is None else {})
        except RuntimeError:  # the window closed meanwhile
            pass

    def _fill_providers(self, unavailable: Optional[dict]) -> None:
        """The entries, disabled with the reason where a provider cannot run; None: not checked yet (not ready)."""
        from providers.images import registry

        items = []
        for entry in registry.image_entries():
            caps = self.controller.provider(entry.name).capabilities()
            cheapest = min((min(m.price_per_image.values(), default=0.0) for m in caps.models), default=0.0)
            price = "free" if cheapest == 0 else f"from ${cheapest:.3f} / image"
            items.append((f"{entry.display_name} — {price}", entry.name, (unavailable or {}).get(entry.name)))
        combo_utils.fill(self.provider_combo, items, keep=self._choice().provider or registry.DEFAULT)
        self.ready = unavailable is not None and combo_utils.is_enabled(self.provider_combo,
                                                                        self.provider_combo.currentIndex())
        self._fill_models()
        self._update_buttons()
        self.schedule_estimate()

    def _fill_models(self) -> None:
        name = self.provider_combo.currentData()
        if name is None:
            return
        caps = self.controller.provider(name).capabilities()
        items = [(f"{m.label} ({m.id}) — {price_text(m.price_per_image)}", m.id, None) for m in caps.models]
        choice = self._choice()
        keep = choice.model if choice.provider == name and choice.model else caps.default_model
        combo_utils.fill(self.model_combo, items, keep=keep)

    def _choice(self) -> ImageChoice:
        project = self.session.project
        return project.image if project is not None else ImageChoice()

    def _load_choice(self) -> None:
        choice = self._choice()
        blocked = self.variants_spin.blockSignals(True)
        self.variants_spin.setValue(choice.variants)
        self.variants_spin.blockSignals(blocked)
        combo_utils.select(self.provider_combo, choice.provider or self.provider_combo.currentData())
        self._fill_models()
        self.schedule_estimate()

    def _provider_chosen(self, _index: int) -> None:
        self._fill_models()
        self._store_choice()

    def _store_choice(self) -> None:
        if self.session.store is None:
            return
        old = self._choice()
        new = ImageChoice(provider=self.provider_combo.currentData(), model=self.model_combo.currentData(),
                          quality=old.quality if old.model == self.model_combo.currentData() else None,
                          variants=self.variants_spin.value())
        if new != old:
            with self.session.store.lock:
                self.session.project.image = new
            self.session.mark_dirty()
        self.schedule_estimate()

    def _chosen(self) -> dict:
        """What the entries show (a saved provider that cannot run here is not what the combo offers)."""
        return {"provider": self.provider_combo.currentData(), "model": self.model_combo.currentData(),
                "variants": self.variants_spin.value()}

    @property
    def role(self) -> str:
        return "end" if self.end_check.isChecked() else "start"

    # --- estimate and generate -------------------------------------------------------------------------------
    def set_selection(self, ids: list[str]) -> None:
        n = len(ids)
        self.generate_button.setText(f"Generate Images ({n} selected)" if n else "Generate Images")
        self._update_buttons()
        self.schedule_estimate()

    def _targets(self) -> Optional[list[str]]:
        return self._selected() or None

    def schedule_estimate(self) -> None:
        self._timer.start()

    def update_estimate(self) -> None:
        if self.session.store is None or not self.ready:
            return
        self._estimate_token = self.controller.plan_async(self._targets(), self.role, "estimate", **self._chosen())

    def busy(self) -> bool:
        return self.controller.is_running() or self._run_token is not None or self.dialog is not None

    def generate(self) -> bool:
        """Plan Generate Images off the GUI thread; the run follows once planned (and, above the threshold,
        confirmed). Without a selection: every scene without that frame."""
        if self.busy() or not self.ready or self.session.store is None:
            return False
        self._run_token = self.controller.plan_async(self._targets(), self.role, "generate", **self._chosen())
        self._update_buttons()
        self.estimate_label.setText("Planning the images…")
        return True

    def _on_planned(self, result: ImagePlanResult) -> None:
        if result.purpose == "estimate":
            if result.token == self._estimate_token:
                self._show(result)
                self.blocked = _frame_refusal(result.error)
                self._update_buttons()
                self.estimate_shown.emit(result)
            return
        if result.token != self._run_token:
            return
        self._run_token = None
        self.blocked = _frame_refusal(result.error)
        if result.error is None and result.revision != self.session.revision:
            self.generate()  # the project changed while planning: plan again, so the cost shown is the cost paid
            return
        self._show(result)
        if result.error is not None:
            self.console.error(f"Cannot generate images: {result.error}")
        elif not result.plan.items:
            self.console.info(f"Every scene has a{'n end' if self.role == 'end' else ' start'} frame: select the "
                              "scenes to make new images for")
        elif result.plan.total_cost > self.settings.confirm_cost_above:
            self._ask(result.plan)
        else:
            self.controller.start(result.plan)
        self._update_buttons()

    def _show(self, result: ImagePlanResult) -> None:
        if result.error is not None:
            self.estimate_label.setText(f"<span style='color:#c62828'>{_refusal_html(result.error)}</span>")
            self.estimate_label.setToolTip(str(result.error))
            return
        plan = result.plan
        frames = "end frames" if plan.role == "end" else "start frames"
        if not plan.items:
            self.estimate_label.setText(f"Every scene has {frames}; select scenes to make more.")
            return
        notes = plan.notes()
        self.estimate_label.setText(f"{plan.images} image(s) ({frames}) for {len(plan.items)} scene(s): about "
                                    f"<b>${plan.total_cost:.2f}</b>" + (f"; {len(notes)} note(s)" if notes else ""))
        self.estimate_label.setToolTip("\n".join(notes))

    def _ask(self, plan) -> None:
        dialog = ImageCostDialog(plan, self)
        self.dialog = dialog
        dialog.ask(self._answered)
        self.confirmation_requested.emit(dialog)

    def _answered(self, dialog: ImageCostDialog, accepted: bool) -> None:
        self.dialog = None
        if accepted and not self.controller.is_running():
            self.controller.start(dialog.plan)
        else:
            self.console.info(f"Images not generated (estimated ${dialog.plan.total_cost:.2f})")
        self._update_buttons()

    # --- the run ---------------------------------------------------------------------------------------------
    def _on_started(self, plan) -> None:
        self.progress.setRange(0, plan.images)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.console.info(f"Images started: {plan.images} image(s) for {len(plan.items)} scene(s) from "
                          f"{plan.provider}, estimated ${plan.total_cost:.2f}")
        self._update_buttons()

    def _on_event(self, event: ImageEvent) -> None:
        number = next((i + 1 for i, s in enumerate(self.session.project.scenes) if s.id == event.scene_id), "?")
        if event.kind == "image":
            self.session.scene_changed.emit(event.scene_id)  # its row (thumbnail, start frame) and the estimates
            self.progress.setValue(self.progress.value() + 1)
            self._update_buttons()
        if event.kind != "progress":
            what = "new image" if event.kind == "image" else f"images {event.kind}"
            detail = f" (${event.cost:.3f})" if event.kind == "image" and event.cost else ""
            self.console.log(LEVELS.get(event.kind, "info"), f"Scene {number}: {what} {event.message}{detail}".rstrip(),
                             at=event.at)

    def _on_finished(self, result) -> None:
        if isinstance(result, ImageSummary):
            level = "info" if result.ok else "warning"
            self.console.log(level, f"Images finished: {len(result.takes)} made for {len(result.done)} scene(s)"
                             + (f", {len(result.failed)} failed" if result.failed else "")
                             + (f", {len(result.cancelled)} cancelled" if result.cancelled else "")
                             + f"; cost ${result.total_cost:.2f}")
        else:
            self.console.error(f"Images stopped: {result}")
        self.progress.setVisible(False)
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.controller.is_running()
        has_scenes = self.session.project is not None and bool(self.session.project.scenes)
        self.generate_button.setEnabled(self.ready and has_scenes and not self.busy() and self.blocked is None)
        self.generate_button.setToolTip(self.blocked or "")
        self.cancel_button.setEnabled(running)
        ids = self._selected()
        scene = self.session.project.scene(ids[0]) if len(ids) == 1 and self.session.project else None
        self.choose_button.setEnabled(scene is not None and bool(scene.image_takes))

    def show_variants(self) -> Optional[ImageVariantsDialog]:
        ids = self._selected()
        if len(ids) != 1:
            return None
        dialog = ImageVariantsDialog(self.session, ids[0], self)
        dialog.problem.connect(self.console.error)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        self.variants_dialog = dialog
        return dialog

    def shutdown(self) -> None:
        self.controller.shutdown()


def _refusal_html(error: BaseException) -> str:
    """Each scene's problem on a line; the models that take a refused frame once, with the way out."""
    problems = getattr(error, "problems", None) or [error]
    frames = [p for p in problems if isinstance(p, FrameProblem)]
    lines = [f"scene {p.number}: {p.what}" if isinstance(p, FrameProblem) else str(p) for p in problems]
    text = "Cannot generate images:" + ("".join(f"<br>• {_html(t)}" for t in lines) if len(lines) > 1 else
                                        f" {_html(lines[0])}")
    if frames:
        kind = f"{frames[0].role} frames"
        text += (f"<br>Models that take {kind}: {_html(frames[0].named)}. Select only scenes on such a model, or "
                 f"change the scene's model in the inspector.")
    return text


def _frame_refusal(error: Optional[BaseException]) -> Optional[str]:
    """The reason Generate Images is off: the frames the scenes' video models cannot take, one line each."""
    problems = [p for p in (getattr(error, "problems", None) or [error]) if isinstance(p, FrameProblem)]
    return "\n".join(str(p) for p in problems) or None


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
