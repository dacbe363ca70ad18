"""Runs image runs for the GUI: the plan (every scene's `prepare`, which decodes input images) on a worker thread
from a snapshot of the project, the run (core.images.run.ImageQueue) on the app's asyncio loop thread; plans,
events and the end come back through Qt signals, delivered on the GUI thread."""
from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional

from PySide6.QtCore import QObject, Qt, Signal

from core.config import Settings
from core.images.run import ImageQueue
from core.images.takes import ImageRunPlan, plan_images
from gui.async_runner import AsyncRunner
from gui.video.plan_worker import snapshot_store
from gui.video.project_session import ProjectSession
from providers.video_offers import video_models

log = logging.getLogger(__name__)


@dataclass
class ImagePlanResult:
    token: int
    purpose: str  # "estimate" or "generate"
    revision: int
    plan: Optional[ImageRunPlan] = None
    error: Optional[BaseException] = None


class ImageController(QObject):
    #: an ImagePlanResult
    planned = Signal(object)
    #: one core.images.run.ImageEvent
    event = Signal(object)
    started = Signal(object)
    #: ImageSummary, or the exception of a run that could not start or broke
    finished = Signal(object)
    _plan_done = Signal(object)
    _run_done = Signal(object)

    def __init__(self, session: ProjectSession, runner: AsyncRunner, settings: Settings,
                 parent: Optional[QObject] = None):
        super().__init__(parent)
        self.session, self.runner, self.settings = session, runner, settings
        self.queue: Optional[ImageQueue] = None
        self.future: Optional[Future] = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="image-plan")
        self._tokens = 0
        self._closed = False
        self._plan_done.connect(self._deliver_plan, Qt.QueuedConnection)
        self._run_done.connect(self._on_finished, Qt.QueuedConnection)

    def provider(self, name: str):
        from providers.images import registry
        return registry.get_image(name, self.settings)

    def is_running(self) -> bool:
        return self.future is not None and not self.future.done()

    def plan_async(self, scene_ids: Optional[list[str]], role: str, purpose: str = "estimate", *,
                   provider: Optional[str] = None, model: Optional[str] = None,
                   variants: Optional[int] = None) -> int:
        """Plan images for these scenes (None: those without that frame); unset choices: the project's.
        `planned` delivers it with the returned token."""
        self._tokens += 1
        token, store, revision = self._tokens, self.session.store, self.session.revision
        if self._closed or store is None:
            return token

        def work() -> ImagePlanResult:
            result = ImagePlanResult(token, purpose, revision)
            try:
                snap = snapshot_store(store)
                ids = None if scene_ids is None else [s for s in scene_ids if any(x.id == s for x in
                                                                                  snap.project.scenes)]
                # each scene's video model is asked first (the render's own prepare): a frame it cannot take is
                # refused before anything is bought
                result.plan = plan_images(snap, self.provider, ids, role=role, provider=provider, model=model,
                                          variants=variants, videos=video_models(self.settings))
            except Exception as exc:  # the typed error (or a bug) is shown where the estimate is
                if not hasattr(exc, "kind"):
                    log.exception("planning images failed")
                result.error = exc
            return result

        future = self._executor.submit(work)
        future.add_done_callback(self._plan_finished)
        return token

    def _plan_finished(self, future: Future) -> None:
        try:
            self._plan_done.emit(future)
        except RuntimeError:  # the window closed while planning
            pass

    def _deliver_plan(self, future: Future) -> None:
        if not self._closed and not future.cancelled():
            self.planned.emit(future.result())

    def start(self, plan: ImageRunPlan) -> None:
        """Run exactly this plan (the one whose cost the user saw)."""
        if self.is_running():
            raise RuntimeError("images are already being generated")
        self.queue = ImageQueue(self.session.store, self.settings, provider_getter=self.provider,
                                on_event=self.event.emit)
        self.started.emit(plan)
        self.future = self.runner.submit(self.queue.run(plan))
        self.future.add_done_callback(self._run_done.emit)

    def cancel(self, scene_id: Optional[str] = None) -> None:
        if self.queue is not None and self.is_running():
            self.runner.call_soon(self.queue.cancel, scene_id)

    def _on_finished(self, future: Future) -> None:
        if future is not self.future:
            return
        try:
            result: object = future.result()
        except Exception as exc:  # a run that could not start (no key) or broke: the window shows it
            if not hasattr(exc, "kind"):
                log.exception("image run failed")
            result = exc
        self.future, self.queue = None, None
        self.finished.emit(result)

    def shutdown(self) -> None:
        self._closed = True
        if self.is_running():
            self.cancel(None)
        self._executor.shutdown(wait=False, cancel_futures=True)
