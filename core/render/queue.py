"""The render queue: renders many scenes on one asyncio loop.

- a concurrency limit per provider (or deployment), from the settings;
- every state change of a take is saved at once; the remote job id the moment the job is submitted, so a restart
  follows the job it already paid for (`wait` only) instead of submitting again;
- a submit is retried only when the service said the job was not created; following a job (`wait`) is retried on
  transient errors and rate limits, honouring Retry-After;
- a timeout cancels the remote job; the user can cancel one scene or all;
- a scene whose selected take was rendered with identical settings is skipped unless forced;
- each take's cost goes into the project's ledger.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable, Optional

from core.config import Settings, load_settings
from core.errors import CancelledError, ImageAIError
from core.render.job import cancel_job, follow_job, submit_job
from core.render.events import PlanItem, RenderEvent, RenderPlan, RenderSummary
from core.render.requests import build_request, check_inputs, clip_rel_path, request_hash, scene_settings
from core.video.project import ACTIVE_STATUSES, LedgerEntry, Scene, Take, now
from core.video.project_io import ProjectStore
from core.video.render_settings import RenderSettings
from providers.base import ProgressEvent, RenderRequest, VideoProvider

log = logging.getLogger(__name__)

ProviderGetter = Callable[[str, Settings], VideoProvider]
EventCallback = Callable[[RenderEvent], None]


def _default_getter(name: str, settings: Settings) -> VideoProvider:
    from providers import registry  # imported late: the registry is the provider layer's entry point
    return registry.get(name, settings)


class RenderQueue:
    def __init__(self, store: ProjectStore, settings: Optional[Settings] = None, *,
                 provider_getter: Optional[ProviderGetter] = None, on_event: Optional[EventCallback] = None):
        self.store = store
        self.settings = settings or load_settings()
        self._get_provider = provider_getter or _default_getter
        self._on_event = on_event
        self._providers: dict[str, VideoProvider] = {}
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self._cancel_all = False

    # --- planning (no network, no money) ---------------------------------------------------------------------
    def provider(self, name: str) -> VideoProvider:
        if name not in self._providers:
            self._providers[name] = self._get_provider(name, self.settings)
        return self._providers[name]

    def _scenes(self, scene_ids: Optional[list[str]]) -> list[Scene]:
        if scene_ids is None:
            return list(self.store.project.scenes)
        return [self.store.project.scene(sid) for sid in scene_ids]

    def plan(self, scene_ids: Optional[list[str]] = None, force: bool = False,
             overrides: Optional[dict] = None) -> RenderPlan:
        """Validate every scene and estimate the cost. Raises the first invalid scene's error (InvalidRequestError
        names the scene) before anything is spent."""
        plan = RenderPlan()
        index = {s.id: i + 1 for i, s in enumerate(self.store.project.scenes)}
        for scene in self._scenes(scene_ids):
            active = next((t for t in reversed(scene.takes) if t.status in ACTIVE_STATUSES and t.remote_job_id), None)
            if active is not None:
                plan.items.append(PlanItem(scene_id=scene.id, index=index[scene.id], provider=active.provider,
                                           model=active.model, resume_take_id=active.id,
                                           estimated_cost=active.estimated_cost))
                continue
            settings = scene_settings(self.store, scene, overrides)
            request = build_request(self.store, scene, settings)
            item = PlanItem(scene_id=scene.id, index=index[scene.id], provider=settings.provider,
                            model=settings.model)
            item.skip_reason = None if force else self._skip_reason(scene, request)
            if item.skip_reason is None:
                provider = self.provider(settings.provider)
                try:
                    check_inputs(request)
                    provider.validate(request)
                except ImageAIError as exc:
                    exc.args = (f"scene {index[scene.id]}: {exc}",)
                    exc.message = exc.args[0]
                    raise
                item.estimated_cost = provider.estimate_cost(request)
            plan.items.append(item)
        return plan

    def _skip_reason(self, scene: Scene, request: RenderRequest) -> Optional[str]:
        selected = scene.selected_take
        if selected is None or selected.status != "done" or not selected.clip_path:
            return None
        if not self.store.resolve(selected.clip_path).is_file():
            return None
        if selected.provider == "import":
            return "uses an imported clip"
        if selected.settings_hash == request_hash(self.store, request):
            return "already rendered with these settings"
        return None

    # --- running ---------------------------------------------------------------------------------------------
    async def run(self, scene_ids: Optional[list[str]] = None, force: bool = False,
                  overrides: Optional[dict] = None) -> RenderSummary:
        plan = self.plan(scene_ids, force, overrides)
        summary = RenderSummary()
        self._cancel_all = False
        jobs = []
        for item in plan.items:
            scene = self.store.project.scene(item.scene_id)
            if item.skip_reason:
                summary.skipped.append(scene.id)
                self._emit("skipped", scene, scene.selected_take, message=item.skip_reason)
            elif item.resume_take_id:
                jobs.append((scene, self._follow(scene, scene.take(item.resume_take_id), summary)))
            else:
                settings = scene_settings(self.store, scene, overrides)
                jobs.append((scene, self._render_new(scene, settings, item.estimated_cost, summary)))
        try:
            for scene, coro in jobs:
                self._tasks[scene.id] = asyncio.ensure_future(coro)
            if self._tasks:
                await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        finally:
            self._tasks.clear()
            await self.aclose()
        summary.total_cost = round(sum(self.store.project.scene(sid).selected_take.cost for sid in summary.done
                                       if self.store.project.scene(sid).selected_take), 4)
        return summary

    def cancel(self, scene_id: Optional[str] = None) -> None:
        """Cancel one scene's render, or all (call on the loop's thread)."""
        if scene_id is None:
            self._cancel_all = True
            targets = list(self._tasks.values())
        else:
            targets = [self._tasks[scene_id]] if scene_id in self._tasks else []
        for task in targets:
            task.cancel()

    async def aclose(self) -> None:
        for provider in self._providers.values():
            try:
                await provider.aclose()
            except Exception as exc:  # closing must not hide the render's own outcome
                log.warning("closing %s: %s", provider.name, exc)
        self._providers.clear()

    # --- one scene -------------------------------------------------------------------------------------------
    async def _render_new(self, scene: Scene, settings: RenderSettings, estimate: float,
                          summary: RenderSummary) -> None:
        take = Take(provider=settings.provider, deployment=settings.deployment, model=settings.model,
                    settings=settings.model_dump(mode="json"), seed=settings.seed, estimated_cost=estimate)
        request = self._request_for(scene, take)
        take.settings_hash = request_hash(self.store, request)
        scene.takes.append(take)
        self._save()
        self._emit("queued", scene, take, cost=estimate)
        provider = self.provider(take.provider)
        try:
            async with self._slot(take):
                job_id = await self._submit(provider, scene, take, request)
                take.remote_job_id = job_id
                take.status = "submitted"
                take.submitted_at = now()
                self._save()  # the job is paid for from here on: persist its id before anything else
                self._emit("submitted", scene, take, message=f"job {job_id}")
                await self._wait(provider, scene, take, request, summary)
        except asyncio.CancelledError:
            await self._cancelled(provider, scene, take, summary)
        except ImageAIError as exc:
            self._failed(scene, take, exc, summary)

    async def _follow(self, scene: Scene, take: Take, summary: RenderSummary) -> None:
        request = self._request_for(scene, take)
        provider = self.provider(take.provider)
        self._emit("submitted", scene, take, message=f"resuming job {take.remote_job_id}")
        try:
            async with self._slot(take):
                await self._wait(provider, scene, take, request, summary)
        except asyncio.CancelledError:
            await self._cancelled(provider, scene, take, summary)
        except ImageAIError as exc:
            self._failed(scene, take, exc, summary)

    def _request_for(self, scene: Scene, take: Take) -> RenderRequest:
        return build_request(self.store, scene, RenderSettings.model_validate(take.settings),
                             output_rel=clip_rel_path(scene, take))

    def _slot(self, take: Take) -> asyncio.Semaphore:
        key = take.deployment if take.deployment in ("local", "comfyui") else take.provider
        if key not in self._semaphores:
            self._semaphores[key] = asyncio.Semaphore(self.settings.concurrency_for(key))
        return self._semaphores[key]

    def _on_retry(self, scene: Scene, take: Take):
        def report(exc: ImageAIError, attempt: int, delay: float, what: str) -> None:
            self._emit("retry", scene, take, message=f"{what}: {exc} (retry {attempt} in {delay:g} s)",
                       error_kind=exc.kind)
        return report

    async def _submit(self, provider: VideoProvider, scene: Scene, take: Take, request: RenderRequest) -> str:
        if self._cancel_all:
            raise asyncio.CancelledError()
        return await submit_job(provider, request, self._progress(scene, take), retries=self.settings.render_retries,
                                on_retry=self._on_retry(scene, take))

    async def _wait(self, provider: VideoProvider, scene: Scene, take: Take, request: RenderRequest,
                    summary: RenderSummary) -> None:
        result = await follow_job(provider, take.remote_job_id, request, self._progress(scene, take),
                                  retries=self.settings.render_retries, timeout_s=self.settings.render_timeout_s,
                                  on_retry=self._on_retry(scene, take))
        take.status = "done"
        take.error = take.error_kind = None
        take.clip_path = self.store.relative(result.clip_path)
        take.cost = result.cost
        take.seed = result.seed if result.seed is not None else take.seed
        take.finished_at = now()
        scene.selected_take_id = take.id
        self.store.project.ledger.append(LedgerEntry(take_id=take.id, scene_id=scene.id, provider=take.provider,
                                                     model=take.model, estimated=take.estimated_cost,
                                                     cost=result.cost))
        self._save()
        summary.done.append(scene.id)
        self._emit("done", scene, take, fraction=1.0, cost=result.cost, message=take.clip_path)

    async def _cancelled(self, provider: VideoProvider, scene: Scene, take: Take, summary: RenderSummary) -> None:
        await cancel_job(provider, take.remote_job_id)
        take.status = "cancelled"
        take.error, take.error_kind = "cancelled by the user", CancelledError.kind
        take.finished_at = now()
        self._save()
        summary.cancelled.append(scene.id)
        self._emit("cancelled", scene, take, message="cancelled")

    def _failed(self, scene: Scene, take: Take, exc: ImageAIError, summary: RenderSummary) -> None:
        take.status = "failed"
        take.error, take.error_kind = str(exc), exc.kind
        take.finished_at = now()
        self._save()
        summary.failed[scene.id] = str(exc)
        self._emit("failed", scene, take, message=str(exc), error_kind=exc.kind)

    # --- plumbing --------------------------------------------------------------------------------------------
    def _progress(self, scene: Scene, take: Take) -> Callable[[ProgressEvent], None]:
        def on_progress(event: ProgressEvent) -> None:
            if event.stage == "running" and take.status == "submitted":
                take.status = "running"
                self._save()
            self._emit("progress", scene, take, fraction=event.fraction,
                       message=event.message or event.stage)
        return on_progress

    def _save(self) -> None:
        self.store.save()

    def _emit(self, kind: str, scene: Scene, take: Optional[Take], **fields) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(RenderEvent(kind=kind, scene_id=scene.id, take_id=take.id if take else None, **fields))
        except Exception:  # a listener's bug must not break a paid render
            log.exception("render event listener failed")
