"""The video tab: the project's render settings (with the LTX group) and reference images on the left; on the right
the storyboard (the scene table with the scene inspector of the selected scene beside it, the render controls under
both), and below it a large preview sharing a tab widget with the export settings, beside the status console. It
wires the widgets together; each widget edits core objects itself, and rendering/export run off the GUI thread."""
from __future__ import annotations

import logging
from typing import Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QMessageBox, QProgressBar, QPushButton,
                               QSplitter, QTabWidget, QVBoxLayout, QWidget)

from core.config import Settings
from core.errors import ImageAIError
from core.render.events import RenderEvent, RenderSummary, RunPlan
from core.video.project import ACTIVE_STATUSES
from gui.async_runner import AsyncRunner
from gui.video import combo_fit
from gui.video.comfy_servers_panel import ComfyServersPanel, servers_wanted
from gui.video.compare_dialog import CompareDialog
from gui.video.cost_dialog import CostDialog
from gui.video.export_group import ExportGroup
from gui.video.fitting_scroll import FittingScrollArea
from gui.video.plan_notes import problem_lines, run_notes, summary_text
from gui.video.plan_worker import PlanResult
from gui.video.preview import PreviewWidget
from gui.video.project_session import ProjectSession
from gui.video.provider_delegate import ProviderDelegate
from gui.video.provider_info import ProviderInfo
from gui.video.reference_images import ReferenceImagesWidget
from gui.video.render_controller import RenderController
from gui.video.render_settings_group import RenderSettingsGroup
from gui.video.scene_inspector import SceneInspector
from gui.video.scene_table_model import COL, SceneTableModel
from gui.video.scene_table_view import SceneTableWidget
from gui.video.status_console import StatusConsole
from gui.video.take_names import take_name
from gui.video.takes_dialog import TakesDialog
from gui.video.thumbnails import ThumbnailCache

log = logging.getLogger(__name__)
EVENT_LEVELS = {"failed": "error", "retry": "warning", "cancelled": "warning", "progress": "debug", "log": "debug"}
MAX_NOTES_SHOWN = 4
LEFT_WIDTH = 300       # the project's render settings (at least their minimum width)
INSPECTOR_WIDTH = 350  # the scene inspector beside the table (idem)


class VideoTab(QWidget):
    render_settings_changed = Signal()
    #: an estimate is on screen (cost line, notes, table): its PlanResult
    estimate_shown = Signal(object)
    #: a render above the cost threshold waits for the user: the CostDialog
    confirmation_requested = Signal(object)

    def __init__(self, session: ProjectSession, runner: AsyncRunner, settings: Settings,
                 parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self.info = ProviderInfo(settings)
        self.console = StatusConsole()
        self.preview = PreviewWidget()
        self.thumbnails = ThumbnailCache(self)
        self.scene_model = SceneTableModel(session, self.thumbnails, self)
        self.scenes = SceneTableWidget(session, self.scene_model)
        # the Provider cell: a scene's own provider, offered once the background provider check has answered
        self.provider_delegate = ProviderDelegate(
            self.info, lambda: self.render_group.ready,
            lambda: session.project.render.provider if session.project is not None else None, self.scenes.table)
        self.scenes.table.setItemDelegateForColumn(COL["Provider"], self.provider_delegate)
        self.render_group = RenderSettingsGroup(session, self.info)
        self.references = ReferenceImagesWidget(session)
        self.export_group = ExportGroup(session)
        self.servers = ComfyServersPanel(settings, runner)  # the ComfyUI farm's servers and their work
        from gui.video.image_group import ImageGroup  # image provider, Generate Images, the variants picker
        self.images = ImageGroup(session, runner, settings, self.console, self.scenes.selected_ids)
        self.inspector = SceneInspector(session, self.info, lambda: self.render_group.ready)
        self.inspector_scroll = FittingScrollArea(self.inspector, "inspectorScroll", widest=INSPECTOR_WIDTH + 40)
        self.controller = RenderController(session, runner, settings, self)
        self.scenes.default_length = self.render_group.default_scene_length
        self.cost_dialog: Optional[CostDialog] = None
        self._estimate_token: Optional[int] = None
        self._estimate_ok: Optional[bool] = None  # the last estimate: renders something (None: not known yet)
        self._run_token: Optional[int] = None  # the plan being made for a run
        self._run_request: tuple = (None, False)
        self._build_layout()
        self._connect()

    # --- layout ---------------------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 4, 0)
        left_lay.addWidget(self.render_group)
        left_lay.addWidget(self.references)
        left_lay.addWidget(self.images)
        left_lay.addStretch(1)
        # a fixed width whatever the provider shows (its combos elide, its notes wrap): the table keeps its room
        combo_fit.fit(left.findChildren(QComboBox))
        combo_fit.fit(self.inspector.findChildren(QComboBox))
        scroll = FittingScrollArea(left, "projectSettingsScroll", widest=LEFT_WIDTH)

        self.generate_button = QPushButton("Generate Videos", objectName="generateVideosButton")
        self.generate_button.setMinimumHeight(30)
        self.force_check = QCheckBox("Always new take", objectName="forceRenderCheck")
        self.force_check.setToolTip("Render again even scenes already rendered with these settings (a new take)")
        self.cancel_button = QPushButton("Cancel all", objectName="cancelRenderButton", enabled=False)
        self.cancel_scene_button = QPushButton("Cancel selected", objectName="cancelSceneButton", enabled=False)
        self.retry_button = QPushButton("Retry failed", objectName="retryFailedButton", enabled=False)
        self.compare_button = QPushButton("Compare…", objectName="compareButton")
        self.compare_button.setToolTip("Render the selected scene with two providers as two takes and compare them")
        self.cost_label = QLabel("", objectName="costLabel")
        self.cost_label.setWordWrap(True)
        self.plan_notes = QLabel("", objectName="planNotes")
        self.plan_notes.setWordWrap(True)
        self.plan_notes.setStyleSheet("color:#8d4e00")
        self.plan_notes.setVisible(False)
        self.overall = QProgressBar(objectName="renderProgress")
        self.overall.setRange(0, 1000)
        self.overall.setValue(0)
        self.overall.setMaximumWidth(200)
        controls = QHBoxLayout()
        controls.addWidget(self.generate_button)
        controls.addWidget(self.images.generate_button)
        controls.addWidget(self.force_check)
        controls.addWidget(self.cancel_button)
        controls.addWidget(self.cancel_scene_button)
        controls.addWidget(self.retry_button)
        controls.addWidget(self.compare_button)
        controls.addStretch(1)
        cost_row = QHBoxLayout()
        cost_row.addWidget(self.cost_label, 1)
        cost_row.addWidget(self.overall)

        # the storyboard: the table with the inspector of the selected scene beside it, the render controls under
        # both; below it a large preview (the export settings on a tab beside it) and the status console
        board = _splitter(Qt.Horizontal, "storyboardSplitter", (self.scenes, 1), (self.inspector_scroll, 0),
                          sizes=[600, INSPECTOR_WIDTH])
        self.board_splitter = board
        top = QWidget()
        top_lay = QVBoxLayout(top)
        top_lay.setContentsMargins(0, 0, 0, 0)
        top_lay.addWidget(board, 1)
        top_lay.addLayout(controls)
        top_lay.addLayout(cost_row)
        top_lay.addWidget(self.plan_notes)

        self.bottom_tabs = QTabWidget(objectName="previewExportTabs")
        self.bottom_tabs.addTab(self.preview, "Preview")
        self.bottom_tabs.addTab(self.export_group, "Export")
        self.bottom_tabs.addTab(self.servers, self.servers.title())
        self._update_servers_tab()
        self.bottom_tabs.setDocumentMode(True)
        bottom = _splitter(Qt.Horizontal, "previewConsoleSplitter", (self.bottom_tabs, 2), (self.console, 1))
        self.bottom_splitter = bottom

        right = _splitter(Qt.Vertical, "videoTabRightSplitter", (top, 3), (bottom, 2), sizes=[450, 290])
        self.right_splitter = right

        outer = _splitter(Qt.Horizontal, "videoTabSplitter", (scroll, 0), (right, 1),
                          sizes=[LEFT_WIDTH, 1280 - LEFT_WIDTH], collapsible=True)
        self.splitter = outer
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(outer)

    def _connect(self) -> None:
        for source in (self.render_group, self.scene_model, self.scenes, self.references, self.export_group,
                       self.inspector):
            source.problem.connect(self.console.error)
        self.render_group.notice.connect(self.console.info)
        self.controller.planned.connect(self._on_planned)
        self.controller.waiting.connect(lambda text: self.console.warning(f"Render: {text}"))
        self.force_check.toggled.connect(self._schedule_estimate)
        self.export_group.message.connect(self.console.log)
        self.export_group.preview_requested.connect(self.play)
        self.scenes.preview_requested.connect(self.play)
        self.scenes.takes_requested.connect(self.show_takes)
        self.scenes.selection_changed.connect(self._on_selection)
        self.scenes.selection_changed.connect(self.export_group.boundary.set_selected)
        self.session.scenes_reset.connect(self.export_group.boundary.load)  # the first scene may have changed
        self.render_group.changed.connect(self.render_settings_changed)
        self.render_group.changed.connect(self._schedule_estimate)
        self.render_group.changed.connect(self.scene_model.refresh_all)  # the Provider column of unrendered rows
        self.render_group.providers_ready.connect(self._schedule_estimate)
        # the inspector names what "Project default" is and offers providers once they are checked
        self.render_group.providers_ready.connect(self.inspector.load)
        self.render_group.changed.connect(self.inspector.load)
        self.render_group.local_device_checked.connect(self._schedule_estimate)
        self.generate_button.clicked.connect(lambda: self.generate())
        self.cancel_button.clicked.connect(lambda: self.controller.cancel(None))
        self.cancel_scene_button.clicked.connect(self._cancel_selected)
        self.retry_button.clicked.connect(lambda: self.retry_failed())
        self.compare_button.clicked.connect(lambda: self.show_compare())
        self.controller.event.connect(self._on_event)
        self.controller.started.connect(self._on_started)
        self.controller.finished.connect(self._on_finished)
        self.controller.overall.connect(self._set_overall)
        self.session.scenes_reset.connect(self._schedule_estimate)
        self.session.scene_changed.connect(lambda _: self._schedule_estimate())
        self.session.project_replaced.connect(self._on_project)
        for signal in (self.servers.changed, self.render_group.changed, self.session.project_replaced,
                       self.session.scenes_reset):
            signal.connect(self._update_servers_tab)
        self.session.scene_changed.connect(lambda _: self._update_servers_tab())
        self.session.scene_changed.connect(lambda sid: sid in self.scenes.selected_ids() and self._cue_preview())
        self._dirty_rows: set[str] = set()
        self._overall_fraction = 0.0
        self._repaint_timer = QTimer(self, singleShot=True, interval=100)
        self._repaint_timer.timeout.connect(self._flush_rows)
        self._estimate_timer = QTimer(self, singleShot=True, interval=250)
        self._estimate_timer.timeout.connect(self.update_estimate)

    # --- selection and cost estimate ------------------------------------------------------------------------
    def _on_project(self) -> None:
        if not self.session.untitled:  # the scratch project of a fresh start is no project the user opened
            self.console.info(f"Opened project “{self.session.project.name}” ({self.session.store.folder})")
        self._estimate_ok = None
        self.scene_model.set_estimates({})
        self._on_selection(self.scenes.selected_ids())

    def _update_servers_tab(self) -> None:
        """The Servers tab, while ComfyUI servers matter to this project (its title counts the down ones)."""
        index = self.bottom_tabs.indexOf(self.servers)
        self.bottom_tabs.setTabText(index, self.servers.title())
        self.bottom_tabs.setTabVisible(index, servers_wanted(self.settings, self.session.project))

    def _on_selection(self, ids: list[str]) -> None:
        self.references.set_scene(ids[0] if len(ids) == 1 else None)
        self.images.set_selection(ids)
        self.inspector.set_scene(ids[0] if len(ids) == 1 else None)
        n = len(ids)
        self.generate_button.setText(f"Generate Videos ({n} selected)" if n else "Generate Videos (all)")
        self.cancel_scene_button.setEnabled(self.controller.is_running() and bool(ids))
        self._cue_preview()
        self._schedule_estimate()

    def _cue_preview(self) -> None:
        """The preview readies the selected scene's take (Play starts it), or says why there is nothing to play."""
        ids, project = self.scenes.selected_ids(), self.session.project
        if len(ids) != 1 or project is None:
            self.preview.cue(None, "Select a scene to preview its take" if project and project.scenes else "No clip")
            return
        scene = project.scene(ids[0])
        number = self.scene_model.row_of(scene.id) + 1
        label = f"Scene {number}" + (f" “{scene.title}”" if scene.title and scene.title != f"Scene {number}" else "")
        take = scene.selected_take
        if take is None or not take.clip_path:
            self.preview.cue(None, f"{label}: no clip yet (Generate Videos renders it)")
        else:
            self.preview.cue(self.session.store.resolve(take.clip_path), f"{label} · {take_name(scene, take)}")

    def _target_ids(self) -> Optional[list[str]]:
        ids = self.scenes.selected_ids()
        return ids or None

    def _schedule_estimate(self) -> None:
        self._estimate_timer.start()

    def busy(self) -> bool:
        """A render runs, is being planned, or waits for the user to confirm its cost."""
        return self.controller.is_running() or self._run_token is not None or self.cost_dialog is not None

    def update_estimate(self) -> None:
        """Ask for the plan of what Generate Videos would render (validation, cost, adjustments, ignored settings).
        It is made off the GUI thread; `estimate_shown` follows when it is on screen."""
        if self.session.store is None or not self.render_group.ready:
            return  # the providers are still being checked
        self._update_retry()
        if not self.session.project.scenes:
            self._estimate_token = None
            self.cost_label.setText("Add a scene to render.")
            self._set_notes([])
            self.generate_button.setEnabled(False)
            return
        self._estimate_token = self.controller.plan_async(self._target_ids(), self.force_check.isChecked())
        self._estimate_ok = None  # until it answers, a click plans afresh anyway
        self._update_generate()
        if not self.cost_label.text():
            self.cost_label.setText("Estimating the cost…")

    def _update_generate(self) -> None:
        has_scenes = self.session.project is not None and bool(self.session.project.scenes)
        self.generate_button.setEnabled(self.render_group.ready and has_scenes and not self.busy()
                                        and self._estimate_ok is not False)

    def _on_planned(self, result: PlanResult) -> None:
        if result.purpose == "estimate":
            if result.token == self._estimate_token:
                self._show_plan(result)
                self.estimate_shown.emit(result)
        elif result.token == self._run_token:
            self._run_token = None
            if result.purpose == "resume":
                self._resume_planned(result)
            else:
                self._generate_planned(result)

    def _show_plan(self, result: PlanResult) -> None:
        if result.error is not None:
            lines = problem_lines(result.error)
            shown = lines[:MAX_NOTES_SHOWN]
            more = f"<br><i>… and {len(lines) - len(shown)} more (hover to read all)</i>" if len(lines) > len(shown) \
                else ""
            self.cost_label.setText("<span style='color:#c62828'>Cannot render: "
                                    + "<br>".join(_html(x) for x in shown) + more + "</span>")
            self.cost_label.setToolTip("\n".join(lines))
            self._set_notes([])
            self.scene_model.set_estimates({})
            self.render_group.set_plan(None)
            self._estimate_ok = False
        else:
            plan = result.plan
            self.cost_label.setToolTip("")
            total = f"${plan.total_cost:.2f}"
            self.cost_label.setText(_html(summary_text(plan)).replace(total, f"<b>{total}</b>", 1))
            self._set_notes(run_notes(plan))
            self.scene_model.set_estimates({i.scene_id: i for i in plan.items})
            self.render_group.set_plan(plan)
            self._estimate_ok = bool(plan.to_render)
        self._update_generate()

    def _set_notes(self, notes: list[str]) -> None:
        """The plan's adjustments and ignored settings, beside the cost (the first few; all in the tooltip)."""
        shown = notes[:MAX_NOTES_SHOWN]
        text = "<br>".join(_html(n) for n in shown)
        if len(notes) > len(shown):
            text += f"<br><i>… and {len(notes) - len(shown)} more (hover to read all)</i>"
        self.plan_notes.setText(text)
        self.plan_notes.setToolTip("\n".join(notes))
        self.plan_notes.setVisible(bool(notes))

    def _update_retry(self) -> None:
        failed = self.failed_scene_ids()
        self.retry_button.setEnabled(bool(failed) and not self.busy())
        self.retry_button.setText(f"Retry failed ({len(failed)})" if failed else "Retry failed")

    def failed_scene_ids(self) -> list[str]:
        from gui.video.scene_table_model import shown_take

        project = self.session.project
        if project is None:
            return []
        return [s.id for s in project.scenes if (t := shown_take(s)) is not None and t.status in ("failed",
                                                                                                   "cancelled")]

    # --- rendering ------------------------------------------------------------------------------------------
    def generate(self, scene_ids: Optional[list[str]] = None) -> bool:
        """Plan the render off the GUI thread, show its cost and notes, ask above the threshold, then run that very
        plan. Returns whether planning started (the run follows when the plan is ready and, if asked, confirmed)."""
        if self.busy() or not self.render_group.ready or self.session.store is None:
            return False
        ids = scene_ids if scene_ids is not None else self._target_ids()
        self._run_request = (ids, self.force_check.isChecked())
        self._run_token = self.controller.plan_async(ids, self.force_check.isChecked(), "generate")
        self.generate_button.setEnabled(False)
        self.retry_button.setEnabled(False)
        self.cost_label.setText("Planning the render…")
        return True

    def _generate_planned(self, result: PlanResult) -> None:
        if result.error is None and result.request.revision != self.session.revision:
            # the project changed while the plan was made: plan again, so the cost shown is the cost paid
            ids, force = self._run_request
            self._run_token = self.controller.plan_async(ids, force, "generate")
            return
        self._show_plan(result)
        if result.error is not None:
            self.console.error("Cannot render: " + "; ".join(problem_lines(result.error)))
            self._update_retry()
            return
        plan = result.plan
        if not plan.to_render:
            self.console.info("Nothing to render: every scene is already rendered with these settings "
                              "(tick “Always new take” to render again)")
            self._update_retry()
            return
        if plan.total_cost > self.settings.confirm_cost_above:
            self._ask(plan)
        else:
            self.controller.start(plan)

    def _ask(self, plan: RunPlan) -> None:
        dialog = CostDialog(plan, self)
        self.cost_dialog = dialog
        dialog.ask(self._answered)
        self.confirmation_requested.emit(dialog)

    def _answered(self, dialog: CostDialog, accepted: bool) -> None:
        self.cost_dialog = None
        if accepted and not self.controller.is_running():
            self.controller.start(dialog.plan)  # the plan the user read: nothing is prepared again
            return
        self.console.info(f"Render not started (estimated ${dialog.plan.total_cost:.2f})")
        self._update_generate()
        self._update_retry()

    def resume_submitted(self) -> bool:
        """Follow the jobs this project submitted before the app closed: they are paid for, so they are polled by
        their job ids and nothing is submitted again. Returns whether planning the resume started."""
        store = self.session.store
        if store is None or self.busy():
            return False
        ids = [s.id for s in store.project.scenes
               if any(t.status in ACTIVE_STATUSES and t.remote_job_id for t in s.takes)]
        if not ids:
            return False
        self._run_token = self.controller.plan_async(ids, False, "resume")
        return True

    def _resume_planned(self, result: PlanResult) -> None:
        if result.error is not None:
            self.console.error(f"Cannot resume the submitted jobs: {result.error}")
            self._update_generate()
            return
        n = len(result.plan.to_render)
        self.console.info(f"Resuming {n} job(s) submitted before the app closed (no new charge)")
        self.controller.start(result.plan)

    def retry_failed(self) -> bool:
        ids = self.failed_scene_ids()
        return bool(ids) and self.generate(ids)

    def _cancel_selected(self) -> None:
        for sid in self.scenes.selected_ids():
            self.controller.cancel(sid)

    def _on_started(self, plan: RunPlan) -> None:
        self.generate_button.setEnabled(False)
        self.retry_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.cancel_scene_button.setEnabled(bool(self.scenes.selected_ids()))
        self.scene_model.progress = {i.scene_id: 0.0 for i in plan.to_render}
        self.console.info(f"Render started: {len(plan.to_render)} scene(s), estimated ${plan.total_cost:.2f}")

    def _on_event(self, event: RenderEvent) -> None:
        number = self.scene_model.row_of(event.scene_id) + 1 or "?"
        if event.kind == "progress" and event.fraction is not None:
            self.scene_model.progress[event.scene_id] = event.fraction
        elif event.kind in ("done", "failed", "cancelled", "skipped"):
            self.scene_model.progress.pop(event.scene_id, None)
        if event.kind == "queued" and event.take_id is None:  # a chained scene waits for its parent's clip
            self.scene_model.waiting[event.scene_id] = event.message
        elif event.kind not in ("progress", "log"):
            self.scene_model.waiting.pop(event.scene_id, None)
        if event.kind != "progress":  # progress ticks show in the table and the bar, not as console lines
            self.console.log(EVENT_LEVELS.get(event.kind, "info"), _event_text(event, number, self._take_label(event)),
                             at=event.at)
        # events arrive many times a second: rows and the bar are repainted together at most every 100 ms
        self._dirty_rows.add(event.scene_id)
        if not self._repaint_timer.isActive():
            self._repaint_timer.start()

    def _take_label(self, event: RenderEvent) -> str:
        """A done take by its name ("Take 2 · fal · 6 s"), not its clip's hash file name; else the event's text."""
        project = self.session.project
        if event.kind == "done" and event.take_id and project is not None:
            scene = next((s for s in project.scenes if s.id == event.scene_id), None)
            take = next((t for t in scene.takes if t.id == event.take_id), None) if scene is not None else None
            if take is not None:
                return take_name(scene, take)
        return event.message

    def _flush_rows(self) -> None:
        self._repaint_timer.stop()
        for scene_id in self._dirty_rows:
            self.scene_model.refresh_scene(scene_id)
        self._dirty_rows.clear()
        self.overall.setValue(int(self._overall_fraction * 1000))

    def _set_overall(self, fraction: float) -> None:
        # QProgressBar.setValue repaints at once: only the 100 ms flush sets it
        self._overall_fraction = fraction
        if not self._repaint_timer.isActive():
            self._repaint_timer.start()

    def _on_finished(self, result) -> None:
        self._flush_rows()
        self.cancel_button.setEnabled(False)
        self.cancel_scene_button.setEnabled(False)
        self.scene_model.progress.clear()
        self.scene_model.waiting.clear()
        self.scene_model.refresh_all()
        self._cue_preview()  # the selected scene's new take
        if isinstance(result, RenderSummary):
            parts = [f"{len(result.done)} done"]
            if result.failed:
                parts.append(f"{len(result.failed)} failed")
            if result.cancelled:
                parts.append(f"{len(result.cancelled)} cancelled")
            if result.skipped:
                parts.append(f"{len(result.skipped)} skipped")
            level = "info" if result.ok else "warning"
            self.console.log(level, f"Render finished: {', '.join(parts)}; cost ${result.total_cost:.2f}")
        else:
            self.console.error(f"Render stopped: {result}")
            self.cost_label.setText(f"<span style='color:#c62828'>Render stopped: {_html(str(result))}</span>")
        self.update_estimate()

    def show_takes(self, scene_id: str) -> None:
        dialog = TakesDialog(self.session, scene_id, self)
        dialog.preview_requested.connect(self.play)
        dialog.problem.connect(self.console.error)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        self._takes_dialog = dialog

    def show_compare(self) -> Optional[CompareDialog]:
        """The compare dialog for the selected scene (the first when none is selected)."""
        if self.busy() or not self.render_group.ready or not self.session.project or not self.session.project.scenes:
            self.console.info("Compare: add a scene and wait for the providers check (and any render) to end")
            return None
        ids = self.scenes.selected_ids()
        dialog = CompareDialog(self.session, self.controller.runner, self.settings, self.info,
                               ids[0] if ids else None, self)
        dialog.problem.connect(self.console.error)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        self._compare_dialog = dialog
        return dialog

    def splitters(self) -> dict[str, QSplitter]:
        """The splitters whose places the window keeps across restarts, by the name they are saved under (a name
        changes when a splitter's parts do, so a place saved for another layout is not applied)."""
        return {"splitter": self.splitter, "storyboard": self.right_splitter, "board": self.board_splitter,
                "bottom": self.bottom_splitter}

    def play(self, path: str) -> None:
        """Play a clip or an export in the preview, bringing the preview's tab to the front."""
        self.bottom_tabs.setCurrentWidget(self.preview)
        self.preview.play(path)

    def shutdown(self) -> None:
        if self.controller.is_running():
            self.controller.cancel(None)
        self.controller.shutdown()
        self.export_group.shutdown()
        self.preview.stop()
        self.thumbnails.shutdown()
        self.inspector.shutdown()
        self.images.shutdown()


def _splitter(orientation, name: str, *parts: tuple[QWidget, int], sizes: Optional[list[int]] = None,
              collapsible: bool = False) -> QSplitter:
    """A splitter of (widget, stretch) parts whose sides do not collapse unless `collapsible`."""
    splitter = QSplitter(orientation, objectName=name)
    for i, (widget, stretch) in enumerate(parts):
        splitter.addWidget(widget)
        splitter.setStretchFactor(i, stretch)
    if not collapsible:
        splitter.setChildrenCollapsible(False)
    if sizes:
        splitter.setSizes(sizes)
    return splitter


def _event_text(event: RenderEvent, number, detail: str) -> str:
    text = {"queued": "queued", "submitted": "submitted", "done": "done", "failed": "FAILED",
            "cancelled": "cancelled", "skipped": "skipped", "retry": "retrying", "log": ""}.get(event.kind, event.kind)
    if event.kind == "done" and event.cost is not None:
        detail = f"{detail} (${event.cost:.2f})"
    if event.error_kind:
        detail = f"[{event.error_kind}] {detail}"
    return f"Scene {number}: {text} {detail}".rstrip()


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
