"""Plans renders off the GUI thread. A plan (`RenderQueue.plan`) runs every scene's `prepare`, which decodes input
images and probes input videos with FFmpeg: far too slow for the GUI thread on a long project. Plans are made on one
worker thread, from a snapshot of the project taken there under the store's lock (edits on the GUI thread wait for
the copy only, never for the plan), and come back through a Qt signal.

Estimates coalesce: while one is being made, only the newest waiting request is kept. A plan for a run (Generate,
Retry, resume) is never dropped; the run then uses that very plan (`RenderQueue.run(plan=...)`).
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Optional

from PySide6.QtCore import QObject, Qt, Signal

from core.config import Settings
from core.render.events import RunPlan
from core.render.queue import RenderQueue
from core.video.project_io import ProjectStore

log = logging.getLogger(__name__)


@dataclass
class PlanRequest:
    token: int
    purpose: str  # "estimate", "generate" or "resume"
    scene_ids: Optional[list[str]]
    force: bool
    revision: int  # the session's edit count when it was asked for


@dataclass
class PlanResult:
    request: PlanRequest
    plan: Optional[RunPlan] = None
    error: Optional[BaseException] = None
    seconds: float = 0.0  # how long planning took (on the worker)
    missing: list[str] = field(default_factory=list)  # asked-for scenes deleted before the plan was made

    @property
    def token(self) -> int:
        return self.request.token

    @property
    def purpose(self) -> str:
        return self.request.purpose


def snapshot_store(store: ProjectStore, attempts: int = 3) -> ProjectStore:
    """A store over a deep copy of the project, for planning while the GUI edits and the render queue updates
    takes. The copy is taken under the store's lock (the GUI's edits take it too); a take changed by the render
    loop in the middle of the copy makes the copy fail, and it is simply taken again."""
    for attempt in range(attempts):
        try:
            with store.lock:
                project = store.project.model_copy(deep=True)
            return ProjectStore(store.folder, project, lock_wait_s=store.lock_wait_s)
        except RuntimeError:  # "changed size during iteration": the render loop touched a take
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


class PlanWorker(QObject):
    #: a PlanResult, delivered on the GUI thread
    done = Signal(object)
    _finished = Signal(object)  # (request, future) from the worker thread

    def __init__(self, provider_getter: Callable, settings: Callable[[], Settings], parent: Optional[QObject] = None):
        super().__init__(parent)
        self._provider_getter = provider_getter
        self._settings = settings
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render-plan")
        self._tokens = 0
        self._estimate_busy = False
        self._estimate_next: Optional[tuple[PlanRequest, ProjectStore]] = None
        self._closed = False
        # always queued: a plan done before add_done_callback returns would otherwise be delivered inside
        # request(), before the caller knows its token
        self._finished.connect(self._deliver, Qt.QueuedConnection)

    def request(self, store: ProjectStore, purpose: str, scene_ids: Optional[list[str]], force: bool,
                revision: int) -> int:
        """Ask for a plan; returns its token (the PlanResult carries it)."""
        self._tokens += 1
        req = PlanRequest(self._tokens, purpose, list(scene_ids) if scene_ids is not None else None, force, revision)
        if purpose == "estimate":
            if self._estimate_busy:
                self._estimate_next = (req, store)  # replaces an older waiting estimate
                return req.token
            self._estimate_busy = True
        self._submit(req, store)
        return req.token

    def _submit(self, req: PlanRequest, store: ProjectStore) -> None:
        if self._closed:  # the window is closing: nobody waits for this plan
            return
        future = self._executor.submit(self._plan, req, store)
        future.add_done_callback(lambda f, r=req: self._emit_finished(r, f))

    def _emit_finished(self, req: PlanRequest, future: Future) -> None:
        try:
            self._finished.emit((req, future))
        except RuntimeError:  # the window closed while planning
            pass

    def _plan(self, req: PlanRequest, store: ProjectStore) -> PlanResult:
        started = time.perf_counter()
        result = PlanResult(req)
        try:
            snap = snapshot_store(store)
            ids = req.scene_ids
            if ids is not None:
                present = {s.id for s in snap.project.scenes}
                result.missing = [sid for sid in ids if sid not in present]
                ids = [sid for sid in ids if sid in present]
            queue = RenderQueue(snap, self._settings(), provider_getter=self._provider_getter)
            result.plan = queue.plan(ids, req.force)
        except Exception as exc:  # the typed error (or a bug) is shown where the estimate is
            if not hasattr(exc, "kind"):
                log.exception("planning failed")
            result.error = exc
        result.seconds = time.perf_counter() - started
        return result

    def _deliver(self, payload) -> None:
        req, future = payload
        if req.purpose == "estimate":
            self._estimate_busy = False
            if self._estimate_next is not None:
                nxt, store = self._estimate_next
                self._estimate_next = None
                self._estimate_busy = True
                self._submit(nxt, store)
        if self._closed:
            return
        try:
            result = future.result()
        except Exception as exc:  # _plan catches everything; this is only a guard
            result = PlanResult(req, error=exc)
        self.done.emit(result)

    def shutdown(self) -> None:
        self._closed = True
        self._estimate_next = None
        self._executor.shutdown(wait=False, cancel_futures=True)
