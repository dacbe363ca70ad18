"""The image queue: runs a planned image run (core/images/takes.py) on one asyncio loop.

- a concurrency limit per provider (the settings' render_concurrency, as for video);
- each request goes through the one retry policy (core/images/retry.py): one whose answer was lost may have been
  charged and is never sent again on its own;
- every image is an image take the moment it arrives: added to its scene, charged into the ledger once, chosen as
  the scene's start (or end) frame when the scene has none, written to the job journal (core/render/journal.py) and
  then saved (merge-on-save); a save that works removes the journal entries, one that fails leaves them for the next
  open, render, `project info` or `project images` (so a paid image outlives a full disk and a killed process);
- an image paid for that cannot be written (a full disk) is an error naming it and what it cost; its charge still
  goes into the ledger (and the journal);
- the user can cancel one scene or all; images already made stay.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Callable, Literal, Optional, Sequence

from pydantic import BaseModel, Field

from core.config import Settings
from core.errors import ImageAIError
from core.images.contract import ImageProvider, ImageResult, ProgressEvent
from core.images.output import ImageWriteError
from core.images.retry import run_call
from core.images.takes import ImageItem, ImageProviderGetter, ImageRunPlan
from core.render import journal
from core.render.events import QueueEvent
from core.render.open_providers import OpenProviders
from core.render.outcome import SaveFailed, describe
from core.video.project import ImageTake, LedgerEntry, Scene
from core.video.project_io import ProjectStore

log = logging.getLogger(__name__)

ImageEventKind = Literal["queued", "progress", "retry", "image", "done", "failed", "cancelled"]


class ImageEvent(QueueEvent):  # take_id of "image": the new image take
    kind: ImageEventKind


class ImageSummary(BaseModel):
    done: list[str] = Field(default_factory=list)  # scenes whose every variant arrived
    takes: list[str] = Field(default_factory=list)  # image take ids, in arrival order
    failed: dict[str, str] = Field(default_factory=dict)
    cancelled: list[str] = Field(default_factory=list)
    total_cost: float = 0.0  # every image charged in this run, also one paid for that could not be written

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled


class ImageQueue:
    def __init__(self, store: ProjectStore, settings: Settings, *, provider_getter: ImageProviderGetter,
                 on_event: Optional[Callable[[ImageEvent], None]] = None):
        self.store = store
        self.settings = settings
        self._on_event = on_event
        self._providers: OpenProviders[ImageProvider] = OpenProviders(provider_getter)
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self._cancel_all = False
        self._journaled: list[Path] = []  # journal entries project.json does not hold yet (under store.lock)
        self._spent: dict[str, float] = {}  # scene id -> charged in this run

    def provider(self, name: str) -> ImageProvider:
        return self._providers.get(name)

    def check_available(self, plan: ImageRunPlan) -> None:
        if plan.items:
            self.provider(plan.provider).check_available(plan.items[0].plan)  # key, SDK, GPU: one per provider
            self.store.check_writable("images")  # before anything is paid for

    def apply_journal(self) -> int:
        """Bring back the images (and charges) an earlier run could not save into project.json; how many."""
        with self.store.lock:
            return journal.apply(self.store)

    async def run(self, plan: ImageRunPlan) -> ImageSummary:
        self.apply_journal()  # also: project.json that cannot be written fails here, before anything is paid
        self.check_available(plan)
        summary = ImageSummary()
        self._cancel_all = False
        self._spent.clear()
        try:
            for item in plan.items:
                self._tasks[item.scene_id] = asyncio.ensure_future(self._scene(item, summary))
            if self._tasks:
                await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        finally:
            self._tasks.clear()
            await self.aclose()
        summary.total_cost = round(summary.total_cost, 4)
        return summary

    def cancel(self, scene_id: Optional[str] = None) -> None:
        """Cancel one scene's images, or all (call on the loop's thread)."""
        if scene_id is None:
            self._cancel_all = True
        for sid, task in list(self._tasks.items()):
            if scene_id is None or sid == scene_id:
                task.cancel()

    async def aclose(self) -> None:
        await self._providers.aclose()

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
                    try:
                        results = await run_call(provider, plan, call, self._progress(item, call.index, total),
                                                 retries=self.settings.render_retries,
                                                 timeout_s=self.settings.render_timeout_s,
                                                 on_retry=self._on_retry(item.scene_id))
                    except ImageWriteError as exc:  # paid, not on disk: what was written and the charge stay
                        in_flight = False
                        self._emit_images(item, await asyncio.to_thread(self._keep, item, exc.written, summary,
                                                                        exc.lost))
                        raise ImageWriteError(f"{exc}; the charge is in the project's ledger (this scene's images "
                                              f"cost ${self._spent.get(item.scene_id, 0.0):.2f} in this run)",
                                              written=exc.written, lost=exc.lost,
                                              cost_per_image=exc.cost_per_image) from exc
                    in_flight = False
                    self._emit_images(item, await asyncio.to_thread(self._keep, item, results, summary))
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

    def _emit_images(self, item: ImageItem, kept: list[ImageTake]) -> None:
        for take in kept:  # on the loop's thread: a listener may cancel from here
            self._emit("image", item.scene_id, take_id=take.id, cost=take.cost, message=take.path)

    def _keep(self, item: ImageItem, results: list[ImageResult], summary: ImageSummary,
              lost: Sequence[Path] = ()) -> list[ImageTake]:
        """Images that arrived: takes, ledger, the frame when the scene has none; journalled, then saved (worker
        thread). `lost`: outputs paid for that could not be written: only their charge."""
        plan = item.plan
        with self.store.lock:
            scene = self.store.project.scene(item.scene_id)
            kept, unjournalled = [], []
            for result in results:
                take = ImageTake(id=item.take_ids[result.index], role=item.role,
                                 path=self.store.relative(result.path), provider=result.provider,
                                 model=result.model, prompt=plan.request.prompt, seed=result.seed, width=result.width,
                                 height=result.height, settings=plan.sent, settings_hash=plan.settings_hash,
                                 references=self._names(plan), estimated_cost=plan.cost_per_image, cost=result.cost)
                scene.image_takes.append(take)
                chosen = journal.fill_empty_frame(scene, take)
                unjournalled += self._journal(scene, take, self._charge(scene, take.id, take.cost, plan, summary),
                                              chosen)
                kept.append(take)
                summary.takes.append(take.id)
            for path in lost:
                take_id = item.take_ids[plan.outputs.index(path)]
                unjournalled += self._journal(scene, None, self._charge(scene, take_id, plan.cost_per_image, plan,
                                                                        summary), False)
            try:
                self.store.save()  # merged with what another process saved meanwhile
            except Exception as exc:  # a full disk, a read-only folder, a lock held too long
                raise self._save_failed(exc, kept, lost, plan.cost_per_image, unjournalled) from exc
            journal.forget(self._journaled)  # project.json holds them now: this run's earlier ones too
            self._journaled.clear()
        return kept

    def _charge(self, scene: Scene, take_id: str, cost: float, plan, summary: ImageSummary) -> LedgerEntry:
        entry = LedgerEntry(take_id=take_id, scene_id=scene.id, provider=plan.provider, model=plan.model,
                            estimated=plan.cost_per_image, cost=cost, kind="image")
        self.store.project.ledger.append(entry)
        summary.total_cost += cost
        self._spent[scene.id] = self._spent.get(scene.id, 0.0) + cost
        return entry

    def _journal(self, scene: Scene, take: Optional[ImageTake], charge: LedgerEntry, chosen: bool) -> list[str]:
        """The image into the job journal before the save; the reason it could not be, as a list (empty: it is)."""
        try:
            self._journaled.append(journal.record_image(self.store.folder, scene.id, take, charge, chosen=chosen))
            return []
        except OSError as exc:  # the save right after still tries; its failure then says both
            log.warning("journalling image %s: %s", charge.take_id, exc)
            return [exc.strerror or str(exc)]

    def _save_failed(self, exc: Exception, kept: list[ImageTake], lost: Sequence[Path], cost_per_image: float,
                     unjournalled: list[str]) -> SaveFailed:
        reason = describe(exc)[0]
        paid = sum(t.cost for t in kept) + len(lost) * cost_per_image
        parts = ([f"the image(s) {', '.join(t.path for t in kept)}"] if kept else []) + \
            [f"the charge of {Path(p).name} (not written)" for p in lost]
        what = " and ".join(parts) + (f" (${paid:.2f} paid)" if paid else "")
        if unjournalled:
            return SaveFailed(f"project.json could not be written ({reason}) and neither could the job journal "
                              f"({unjournalled[0]}): {what} are only in this window until its next save; keep it "
                              f"open, free room and save")
        return SaveFailed(f"project.json could not be written ({reason}); {what} are kept in the job journal "
                          f"({journal.journal_path(self.store.folder)}) and come back into the project on its next "
                          f"open, render, `project info` or `project images`")

    @staticmethod
    def _names(plan) -> list[str]:
        names = plan.request.input_names
        used = len(plan.references)
        return (list(names.get("reference_images", [])) + list(names.get("project_reference_images", [])))[:used]

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
