"""Runs the render queue for the GUI: plans (cost estimate, validation) on the GUI thread — it is quick and needs no
network — then runs the queue on the app's asyncio loop thread. Queue events arrive on that thread and are re-emitted
through Qt signals, which Qt delivers on the GUI thread (queued connections)."""
from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import Optional

from PySide6.QtCore import QObject, Signal

from core.config import Settings
from core.render.events import RenderEvent, RenderPlan, RenderSummary
from core.render.queue import RenderQueue
from gui.async_runner import AsyncRunner
from gui.video.project_session import ProjectSession

log = logging.getLogger(__name__)


class RenderController(QObject):
    #: one queue event (on the GUI thread)
    event = Signal(object)
    #: a run started: the plan it follows
    started = Signal(object)
    #: a run ended: RenderSummary, or an exception for a run that could not start or broke
    finished = Signal(object)
    #: overall progress of the current run, 0..1
    overall = Signal(float)

    def __init__(self, session: ProjectSession, runner: AsyncRunner, settings: Settings,
                 parent: Optional[QObject] = None):
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.settings = settings
        self.queue: Optional[RenderQueue] = None
        self.future: Optional[Future] = None
        self.fractions: dict[str, float] = {}
        self._plan_providers: dict = {}
        self._finished_raw = _Relay(self)
        self._finished_raw.fired.connect(self._on_finished)
        self.event.connect(self._track)

    def is_running(self) -> bool:
        return self.future is not None and not self.future.done()

    def plan(self, scene_ids: Optional[list[str]] = None, force: bool = False) -> RenderPlan:
        """Validate and price the scenes; raises the typed error of the first invalid scene. Planning reuses its
        provider instances (looking one up in the registry scans the installed plugins); a run gets fresh ones."""
        queue = RenderQueue(self.session.store, self.settings, provider_getter=self._planning_provider)
        return queue.plan(scene_ids, force)

    def _planning_provider(self, name: str, settings: Settings):
        if name not in self._plan_providers:
            from providers import registry
            self._plan_providers[name] = registry.get(name, settings)
        return self._plan_providers[name]

    def forget_providers(self) -> None:
        """After the settings changed (keys, addresses): plan with newly made providers."""
        self._plan_providers.clear()

    def _new_queue(self) -> RenderQueue:
        # the queue calls on_event on the loop thread; emitting a signal there hands the event to the GUI thread
        return RenderQueue(self.session.store, self.settings, on_event=self.event.emit)

    def start(self, plan: RenderPlan, scene_ids: Optional[list[str]] = None, force: bool = False) -> None:
        if self.is_running():
            raise RuntimeError("a render is already running")
        self.queue = self._new_queue()
        self.fractions = {item.scene_id: 0.0 for item in plan.to_render}
        self.started.emit(plan)
        self.overall.emit(0.0)
        self.future = self.runner.submit(self.queue.run(scene_ids, force))
        self.future.add_done_callback(self._finished_raw.fired.emit)

    def cancel(self, scene_id: Optional[str] = None) -> None:
        if self.queue is not None and self.is_running():
            self.runner.call_soon(self.queue.cancel, scene_id)

    # --- progress ---------------------------------------------------------------------------------------------
    def _track(self, event: RenderEvent) -> None:
        if event.scene_id not in self.fractions:
            return
        if event.kind in ("done", "failed", "cancelled", "skipped"):
            self.fractions[event.scene_id] = 1.0
        elif event.kind == "progress" and event.fraction is not None:
            self.fractions[event.scene_id] = max(self.fractions[event.scene_id], min(event.fraction, 0.99))
        if self.fractions:
            self.overall.emit(sum(self.fractions.values()) / len(self.fractions))

    def _on_finished(self, future: Future) -> None:
        if future is not self.future:
            return
        try:
            result: object = future.result()
        except Exception as exc:  # a run that broke: the window shows the error; the project file stays valid
            log.exception("render run failed")
            result = exc
        self.future = None
        self.queue = None
        if isinstance(result, RenderSummary):
            self.overall.emit(1.0)
        self.finished.emit(result)


class _Relay(QObject):
    """Carries a finished Future from the loop thread to the GUI thread."""

    fired = Signal(object)

