"""Runs the render queue for the GUI. Plans (validation, cost, adjustments, ignored settings) are made off the GUI
thread by a PlanWorker; a run takes the project's render lock (so a CLI render of the same project cannot run at the
same time) and runs exactly the plan the user confirmed on the app's asyncio loop thread. Queue events arrive on that
thread and are re-emitted through Qt signals, which Qt delivers on the GUI thread (queued connections)."""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from typing import Optional

from PySide6.QtCore import QObject, Qt, Signal

from core.config import Settings
from core.render.events import RenderEvent, RenderSummary, RunPlan
from core.render.queue import RenderQueue
from gui.async_runner import AsyncRunner
from gui.video.plan_worker import PlanWorker
from gui.video.project_session import ProjectSession

log = logging.getLogger(__name__)


class RenderController(QObject):
    #: one queue event (on the GUI thread)
    event = Signal(object)
    #: a run started: the RunPlan it follows
    started = Signal(object)
    #: a run ended: RenderSummary, or an exception for a run that could not start or broke
    finished = Signal(object)
    #: overall progress of the current run, 0..1
    overall = Signal(float)
    #: a plan asked for with plan_async is ready: a PlanResult (gui.video.plan_worker)
    planned = Signal(object)
    #: the run waits for another process's render lock: the holder's words
    waiting = Signal(object)

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
        self.planner = PlanWorker(self._planning_provider, lambda: self.settings, self)
        self.planner.done.connect(self.planned)
        self._finished_raw = _Relay(self)
        # queued even when fired on this thread (a future already done when its callback is added)
        self._finished_raw.fired.connect(self._on_finished, Qt.QueuedConnection)
        self._waiting_raw = _Relay(self)
        self._waiting_raw.fired.connect(self.waiting, Qt.QueuedConnection)
        self.event.connect(self._track)

    def is_running(self) -> bool:
        return self.future is not None and not self.future.done()

    # --- planning (off the GUI thread) -----------------------------------------------------------------------
    def plan_async(self, scene_ids: Optional[list[str]] = None, force: bool = False,
                   purpose: str = "estimate") -> int:
        """Ask for a plan of these scenes (None: all); `planned` delivers it with the returned token."""
        return self.planner.request(self.session.store, purpose, scene_ids, force, self.session.revision)

    def _planning_provider(self, name: str, settings: Settings):
        # called on the plan worker only; looking a provider up scans the installed plugins, so keep them
        if name not in self._plan_providers:
            from providers import registry
            self._plan_providers[name] = registry.get(name, settings)
        return self._plan_providers[name]

    def forget_providers(self) -> None:
        """After the settings changed (keys, addresses): plan with newly made providers."""
        self._plan_providers = {}

    # --- running ---------------------------------------------------------------------------------------------
    def start(self, plan: RunPlan) -> None:
        """Run exactly this plan (made by plan_async and shown to the user): nothing is prepared again."""
        if self.is_running():
            raise RuntimeError("a render is already running")
        from providers import registry

        # the queue calls on_event on the loop thread; emitting a signal there hands the event to the GUI thread
        self.queue = RenderQueue(self.session.store, self.settings, provider_getter=registry.get,
                                 on_event=self.event.emit)
        self.fractions = {item.scene_id: 0.0 for item in plan.to_render}
        self.started.emit(plan)
        self.overall.emit(0.0)
        self.future = self.runner.submit(self._run_locked(self.queue, plan))
        self.future.add_done_callback(self._finished_raw.fired.emit)

    async def _run_locked(self, queue: RenderQueue, plan: RunPlan) -> RenderSummary:
        store = self.session.store
        render_lock = getattr(store, "render_lock", None)
        if render_lock is None:
            return await queue.run(plan=plan)

        def on_wait(holder) -> None:
            from core.video.project_lock import holder_text
            self._waiting_raw.fired.emit(f"waiting for {holder_text(holder)}, which is rendering this project")

        lock = render_lock(self.settings.project_lock_wait_s, on_wait)
        # taking it may wait for another process: on a worker thread, so the loop (and other jobs) run meanwhile
        await asyncio.to_thread(lock.__enter__)
        try:
            return await queue.run(plan=plan)
        finally:
            lock.__exit__(None, None, None)

    def cancel(self, scene_id: Optional[str] = None) -> None:
        if self.queue is not None and self.is_running():
            self.runner.call_soon(self.queue.cancel, scene_id)

    def shutdown(self) -> None:
        self.planner.shutdown()

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
        except Exception as exc:  # a run that broke or could not start: the window shows the error
            if not hasattr(exc, "kind"):
                log.exception("render run failed")
            result = exc
        self.future = None
        self.queue = None
        if isinstance(result, RenderSummary):
            self.overall.emit(1.0)
        self.finished.emit(result)


class _Relay(QObject):
    """Carries a value from another thread to the GUI thread."""

    fired = Signal(object)
