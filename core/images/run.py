"""The image queue: runs a planned image run (core/images/takes.py) on one asyncio loop.

- a concurrency limit per provider (the settings' render_concurrency, as for video);
- each request goes through the one retry policy (core/images/retry.py): one whose answer was lost may have been
  charged and is never sent again on its own;
- every image is an image take the moment it arrives: added to its scene, charged into the ledger once, saved
  (merge-on-save), and chosen as the scene's start (or end) frame when the scene has none;
- the user can cancel one scene or all; images already made stay.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Callable, Literal, Optional

from pydantic import BaseModel, Field

from core.config import Settings
from core.errors import ImageAIError, ProjectFileError
from core.images.contract import ImageProvider, ImageResult, ProgressEvent
from core.images.retry import run_call
from core.images.takes import ImageItem, ImageProviderGetter, ImageRunPlan
from core.render.outcome import describe
from core.video.project import ImageTake, LedgerEntry, Scene, now
from core.video.project_io import ProjectStore

log = logging.getLogger(__name__)

ImageEventKind = Literal["queued", "progress", "retry", "image", "done", "failed", "cancelled"]


class ImageEvent(BaseModel):
    kind: ImageEventKind
    scene_id: str
    take_id: Optional[str] = None  # "image": the new image take
    fraction: Optional[float] = None
    message: str = ""
    cost: Optional[float] = None
    error_kind: Optional[str] = None
    at: datetime = Field(default_factory=now)


class ImageSummary(BaseModel):
    done: list[str] = Field(default_factory=list)  # scenes whose every variant arrived
    takes: list[str] = Field(default_factory=list)  # image take ids, in arrival order
    failed: dict[str, str] = Field(default_factory=dict)
    cancelled: list[str] = Field(default_factory=list)
    total_cost: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled


class ImageQueue:
    def __init__(self, store: ProjectStore, settings: Settings, *, provider_getter: ImageProviderGetter,
                 on_event: Optional[Callable[[ImageEvent], None]] = None):
        self.store = store
        self.settings = settings
        self._get_provider = provider_getter
        self._on_event = on_event
        self._providers: dict[str, ImageProvider] = {}
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self._cancel_all = False

    def provider(self, name: str) -> ImageProvider:
        if name not in self._providers:
            self._providers[name] = self._get_provider(name)
        return self._providers[name]

    def check_available(self, plan: ImageRunPlan) -> None:
        if plan.items:
            self.provider(plan.provider).check_available(plan.items[0].plan)  # key, SDK, GPU: one per provider
            self.store.check_writable("images")  # before anything is paid for

    async def run(self, plan: ImageRunPlan) -> ImageSummary:
        self.check_available(plan)
        summary = ImageSummary()
        self._cancel_all = False
        try:
            for item in plan.items:
                self._tasks[item.scene_id] = asyncio.ensure_future(self._scene(item, summary))
            if self._tasks:
                await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        finally:
            self._tasks.clear()
            await self.aclose()
        summary.total_cost = round(sum(self.store.project.scene(i.scene_id).image_take(t).cost
                                       for i in plan.items for t in i.take_ids if t in summary.takes), 4)
        return summary

    def cancel(self, scene_id: Optional[str] = None) -> None:
        """Cancel one scene's images, or all (call on the loop's thread)."""
        if scene_id is None:
            self._cancel_all = True
        for sid, task in list(self._tasks.items()):
            if scene_id is None or sid == scene_id:
                task.cancel()

    async def aclose(self) -> None:
        for provider in self._providers.values():
            try:
                await provider.aclose()
            except Exception as exc:  # closing must not hide the run's own outcome
                log.warning("closing %s: %s", provider.name, exc)
        self._providers.clear()

    # --- one scene -------------------------------------------------------------------------------------------
    async def _scene(self, item: ImageItem, summary: ImageSummary) -> None:
        plan = item.plan
        provider = self.provider(plan.provider)
        total = len(plan.calls)
        self._emit("queued", item.scene_id, cost=plan.cost, message=f"{plan.request.variants} image(s), {plan.model}")
        in_flight = False
        try:
            async with self._slot(plan.provider):
                if self._cancel_all:
                    raise asyncio.CancelledError()
                for call in plan.calls:
                    self._emit("progress", item.scene_id, fraction=call.index / total,
                               message=f"request {call.index + 1} of {total} to {plan.model}")
                    in_flight = True
                    results = await run_call(provider, plan, call, self._progress(item, call.index, total),
                                             retries=self.settings.render_retries,
                                             timeout_s=self.settings.render_timeout_s,
                                             on_retry=self._on_retry(item.scene_id))
                    in_flight = False
                    kept = await asyncio.to_thread(self._keep, item, results, summary)
                    for take in kept:  # on the loop's thread: a listener may cancel from here
                        self._emit("image", item.scene_id, take_id=take.id, cost=take.cost, message=take.path)
        except asyncio.CancelledError:
            why = "cancelled by the user" + ("; the request in flight may still be charged by the service"
                                             if in_flight and provider.charges else "")
            summary.cancelled.append(item.scene_id)
            self._emit("cancelled", item.scene_id, message=why)
            return
        except Exception as exc:  # a typed error (or a bug): the scene ends, the images already made stay
            if not isinstance(exc, ImageAIError):
                log.error("images of scene %s failed", item.scene_id, exc_info=exc)
            message, kind = describe(exc)
            summary.failed[item.scene_id] = message
            self._emit("failed", item.scene_id, message=message, error_kind=kind)
            return
        summary.done.append(item.scene_id)
        self._emit("done", item.scene_id, fraction=1.0, message=f"{len(item.take_ids)} image(s)")

    def _keep(self, item: ImageItem, results: list[ImageResult], summary: ImageSummary) -> list[ImageTake]:
        """Images that arrived: takes, ledger, the frame when the scene has none; saved at once (worker thread)."""
        plan = item.plan
        with self.store.lock:
            scene = self.store.project.scene(item.scene_id)
            kept = []
            for result in results:
                take = ImageTake(id=item.take_ids[result.index], role=item.role,
                                 path=self.store.relative(result.path), provider=result.provider,
                                 model=result.model, prompt=plan.request.prompt, seed=result.seed, width=result.width,
                                 height=result.height, settings=plan.sent, settings_hash=plan.settings_hash,
                                 references=self._names(plan), estimated_cost=plan.cost_per_image, cost=result.cost)
                scene.image_takes.append(take)
                self.store.project.ledger.append(LedgerEntry(
                    take_id=take.id, scene_id=scene.id, provider=take.provider, model=take.model,
                    estimated=take.estimated_cost, cost=take.cost, kind="image"))
                self._choose_if_empty(scene, take)
                kept.append(take)
                summary.takes.append(take.id)
            try:
                self.store.save()  # merged with what another process saved meanwhile
            except Exception as exc:  # a full disk, a read-only folder, a lock held too long
                raise ProjectFileError(f"project.json could not be written ({describe(exc)[0]}); the image(s) "
                                       f"{', '.join(t.path for t in kept)} are on disk and go into the next save"
                                       ) from exc
        return kept

    @staticmethod
    def _names(plan) -> list[str]:
        names = plan.request.input_names
        used = len(plan.references)
        return (list(names.get("reference_images", [])) + list(names.get("project_reference_images", [])))[:used]

    @staticmethod
    def _choose_if_empty(scene: Scene, take: ImageTake) -> None:
        frame = f"{take.role}_frame"
        if getattr(scene, frame) is None:
            setattr(scene, frame, take.path)
            setattr(scene, f"{take.role}_image_take_id", take.id)

    # --- plumbing --------------------------------------------------------------------------------------------
    def _slot(self, provider: str) -> asyncio.Semaphore:
        if provider not in self._semaphores:
            key = "local" if provider == "local-sd" else provider  # the GPU is shared with local video
            self._semaphores[provider] = asyncio.Semaphore(self.settings.concurrency_for(key))
        return self._semaphores[provider]

    def _on_retry(self, scene_id: str):
        def report(exc: ImageAIError, attempt: int, delay: float, what: str) -> None:
            self._emit("retry", scene_id, message=f"{what}: {exc} (retry {attempt} in {delay:g} s)",
                       error_kind=exc.kind)
        return report

    def _progress(self, item: ImageItem, index: int, total: int):
        def on_progress(event: ProgressEvent) -> None:
            inner = event.fraction if event.fraction is not None else 0.0
            self._emit("progress", item.scene_id, fraction=min(0.99, (index + inner) / total),
                       message=event.message or event.stage)
        return on_progress

    def _emit(self, kind: str, scene_id: str, **fields) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(ImageEvent(kind=kind, scene_id=scene_id, **fields))
        except Exception:  # a listener's bug must not break a paid run
            log.exception("image event listener failed")
