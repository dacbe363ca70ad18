"""Runs a comparison (core/video/compare_takes.TakeComparison, the same object `python main.py compare` uses) for
the GUI: planning on a worker thread of the app's asyncio loop (it runs both providers' `prepare`, which decodes
input images), the two renders on that loop under the project's render lock (as the tab's renders), then the
side-by-side video and the measures on a worker thread. Results and render events come back as Qt signals, which Qt
delivers on the GUI thread."""
from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject, Qt, Signal

from core.config import Settings
from core.render.events import RunPlan
from core.video.compare_takes import CompareResult, TakeComparison, TakeFacts, TakeSpec
from gui.async_runner import AsyncRunner
from gui.video.project_session import ProjectSession

log = logging.getLogger(__name__)


class RunOutcome:
    """How a comparison run ended: the result (both takes done, side by side written), or what failed."""

    def __init__(self, result: Optional[CompareResult] = None, failed: Optional[dict[str, str]] = None,
                 error: Optional[BaseException] = None, facts: Optional[list[TakeFacts]] = None):
        self.result, self.failed, self.error = result, failed or {}, error
        self.facts = facts if facts is not None else (result.takes if result is not None else [])

    @property
    def ok(self) -> bool:
        return self.result is not None


class CompareRunner(QObject):
    #: planning ended: the list of Sides, or the exception (every problem of both sides at once)
    planned = Signal(object)
    #: (side number 1 or 2, RenderEvent) on the GUI thread
    event = Signal(int, object)
    #: the run ended: a RunOutcome
    finished = Signal(object)
    #: the run waits for another process's render lock: the holder's words
    waiting = Signal(str)
    _planned_raw = Signal(object)
    _finished_raw = Signal(object)

    def __init__(self, session: ProjectSession, runner: AsyncRunner, settings: Settings,
                 parent: Optional[QObject] = None):
        super().__init__(parent)
        self.session, self.runner, self.settings = session, runner, settings
        self.comparison: Optional[TakeComparison] = None
        self.future: Optional[Future] = None
        self._cancel = threading.Event()
        # queued even when emitted on this thread: a future done before its callback is added
        self._planned_raw.connect(self._deliver_plan, Qt.QueuedConnection)
        self._finished_raw.connect(self._deliver_run, Qt.QueuedConnection)

    def is_busy(self) -> bool:
        return self.future is not None and not self.future.done()

    # --- planning: no network, no money ----------------------------------------------------------------------
    def plan(self, scene_number: int, specs: list[TakeSpec]) -> None:
        from providers import registry

        store = self.session.store
        self.comparison = None

        def make() -> TakeComparison:
            comparison = TakeComparison(store, scene_number, specs, settings=self.settings,
                                        provider_getter=registry.get,
                                        events_for=lambda n, _spec: (lambda e, n=n: self._emit_event(n, e)))
            comparison.plan()
            return comparison

        self.future = self.runner.submit(asyncio.to_thread(make))
        self.future.add_done_callback(self._planned_raw.emit)

    def _deliver_plan(self, future: Future) -> None:
        if future is not self.future:
            return
        self.future = None
        try:
            self.comparison = future.result()
        except Exception as exc:  # a refused plan: shown in the dialog
            if not hasattr(exc, "kind"):
                log.exception("planning the comparison failed")
            self.planned.emit(exc)
            return
        self.planned.emit(self.comparison.sides)

    def run_plan(self) -> RunPlan:
        """The two sides as one RunPlan: what the cost confirmation shows."""
        return RunPlan(items=[s.item for s in self.comparison.sides])

    # --- running ---------------------------------------------------------------------------------------------
    def start(self, output: Path) -> None:
        if self.is_busy() or self.comparison is None:
            raise RuntimeError("nothing planned, or a comparison already runs")
        self._cancel.clear()
        self.future = self.runner.submit(self._run(self.comparison, Path(output)))
        self.future.add_done_callback(self._finished_raw.emit)

    async def _run(self, comparison: TakeComparison, output: Path) -> RunOutcome:
        store = comparison.store

        def on_wait(holder) -> None:
            from core.video.project_lock import holder_text
            self.waiting.emit(f"waiting for {holder_text(holder)}, which is rendering this project")

        lock = store.render_lock(self.settings.project_lock_wait_s, on_wait)
        await asyncio.to_thread(lock.__enter__)  # taking it may wait for another process
        try:
            failed = await comparison.run()
        finally:
            lock.__exit__(None, None, None)
        if failed:
            facts = await asyncio.to_thread(comparison.facts, measure=False)  # probes the side that finished
            return RunOutcome(failed=failed, facts=facts)
        result = await asyncio.to_thread(comparison.result, output, cancel=self._cancel)
        return RunOutcome(result=result)

    def cancel(self) -> None:
        if self.comparison is not None and self.is_busy():
            self._cancel.set()
            self.runner.call_soon(self.comparison.cancel)

    def _deliver_run(self, future: Future) -> None:
        if future is not self.future:
            return
        self.future = None
        try:
            outcome = future.result()
        except Exception as exc:  # a run that could not start or broke: the dialog shows the error
            if not hasattr(exc, "kind"):
                log.exception("the comparison failed")
            outcome = RunOutcome(error=exc)
        self.finished.emit(outcome)

    def _emit_event(self, side: int, event) -> None:
        try:
            self.event.emit(side, event)
        except RuntimeError:  # the dialog closed while the render ran
            pass
