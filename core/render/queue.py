"""The render queue: renders many scenes on one asyncio loop.

- one plan per scene, made once (core/render/planner.py); nothing is submitted until every scene planned and every
  provider it needs is available;
- a concurrency limit per provider (or deployment), from the settings;
- the take is saved before its job is submitted (the intent) and its job id the moment the job exists; when
  project.json cannot be written, the take goes to the journal (core/render/journal.py) and the run says so;
- one retry policy (core/render/retry.py); a timeout cancels the remote job; the user can cancel one scene or all;
- a clip becomes a done take only after its decode check; a job that finished at the service but whose result
  could not be fetched or checked is fetched again by its id on the next run, never paid again;
- every error ends its take (failed, or still submitted to resume); each charge goes into the ledger once;
- a chained scene waits for the scene it extends (holding no slot), is planned again against its new clip, and
  ends failed, without submitting, when that scene fails or is cancelled ("waiting for scene N, which failed").
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path
from typing import Callable, Optional

from core.config import Settings, load_settings
from core.errors import BadOutputError, CancelledError, ImageAIError, TransientError, UnavailableError
from core.render import journal
from core.render.chains import scene_start
from core.render.contract import ProgressEvent, RenderPlan, VideoProvider
from core.render.events import PlanItem, RenderEvent, RenderSummary, RunPlan
from core.render.open_providers import OpenProviders
from core.render.outcome import SaveFailed, describe, ending
from core.render.planner import chained_plan, plan_run, resumable_take, resume_item
from core.render.requests import clip_rel_path
from core.render.retry import cancel_job, follow_job, submit_job
from core.render.verify_step import verify_result
from core.video.chains import numbers
from core.video.project import LedgerEntry, Scene, Take, now
from core.video.project_io import ProjectStore
from core.video.render_settings import RenderSettings

log = logging.getLogger(__name__)

ProviderGetter = Callable[[str, Settings], VideoProvider]
EventCallback = Callable[[RenderEvent], None]


__all__ = ["RenderQueue", "SaveFailed"]

#: progress stages that come only once the job finished at the service (its result is being fetched)
FINISHED_STAGES = ("downloading", "done")


class RenderQueue:
    def __init__(self, store: ProjectStore, settings: Optional[Settings] = None, *,
                 provider_getter: ProviderGetter, on_event: Optional[EventCallback] = None):
        self.store = store
        self.settings = settings or load_settings()
        self._on_event = on_event
        self._providers: OpenProviders[VideoProvider] = OpenProviders(lambda name: provider_getter(name, self.settings))
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self._cancel_all = False
        self._finished: set[str] = set()  # takes whose job finished at the service (paid) in this run
        self._journaled: list[Path] = []  # journal entries that project.json does not hold yet
        self._journal_lock = threading.Lock()  # saves run on worker threads
        self._ends: dict[str, asyncio.Event] = {}  # per scene of the run: set when its render ended (chains wait)

    # --- planning (no network, no money) ---------------------------------------------------------------------
    def provider(self, name: str) -> VideoProvider:
        return self._providers.get(name)

    def apply_journal(self) -> int:
        """Bring back the takes (job ids, charges) an earlier run could not save into project.json; how many.
        Call it on the store that renders, before planning (the CLI does, under the render lock)."""
        return journal.apply(self.store)

    def plan(self, scene_ids: Optional[list[str]] = None, force: bool = False,
             run: Optional[RenderSettings] = None, pay_again: bool = False) -> RunPlan:
        """Prepare every scene once and price the run. Raises one InvalidRequestError listing every problem of
        every scene before anything is spent."""
        return plan_run(self.store, self.provider, scene_ids, force=force, run=run, pay_again=pay_again)

    def _follow_journalled(self, plan: RunPlan) -> RunPlan:
        """A plan made before the journal was applied: scenes whose paid job came back from it follow that job."""
        index = {s.id: i + 1 for i, s in enumerate(self.store.project.scenes)}
        for n, item in enumerate(plan.items):
            try:
                scene = self.store.project.scene(item.scene_id)
            except KeyError:
                continue
            active = resumable_take(scene)
            if active is not None and item.resume_take_id != active.id:
                plan.items[n] = resume_item(self.store, self.provider, scene, index[scene.id], active)
        return plan

    def check_available(self, plan: RunPlan) -> None:
        """Every provider a run submits to can run here (key, SDK, GPU, server); all reasons at once."""
        reasons: dict[str, str] = {}
        for item in plan.to_render:
            if item.plan is None:
                continue
            try:
                self.provider(item.provider).check_available(item.plan)
            except UnavailableError as exc:
                reasons.setdefault(str(exc), f"scene {item.index}")
        if reasons:
            raise UnavailableError("; ".join(f"{where}: {why}" for why, where in reasons.items()))

    # --- running ---------------------------------------------------------------------------------------------
    async def run(self, scene_ids: Optional[list[str]] = None, force: bool = False,
                  run: Optional[RenderSettings] = None, *, plan: Optional[RunPlan] = None,
                  pay_again: bool = False) -> RenderSummary:
        restored = self.apply_journal()
        if plan is None:
            plan = self.plan(scene_ids, force, run, pay_again)
        elif restored:
            plan = self._follow_journalled(plan)
        self.check_available(plan)
        if plan.to_render:
            self.store.check_writable("clips")  # an unwritable clips folder fails before anything is paid for
            self._clean_leftovers()
        self._close_stale_intents(plan)
        summary = RenderSummary()
        self._cancel_all = False
        self._finished.clear()
        touched: list[tuple[Scene, str]] = []
        jobs = []
        for item in plan.items:
            scene = self.store.project.scene(item.scene_id)
            if item.skip_reason:
                summary.skipped.append(scene.id)
                self._emit("skipped", scene, scene.selected_take, message=item.skip_reason)
            elif item.resume_take_id:
                touched.append((scene, item.resume_take_id))
                jobs.append((scene, self._follow(scene, scene.take(item.resume_take_id), item, summary)))
            elif item.after_scene_id:
                touched.append((scene, item.take_id))
                jobs.append((scene, self._render_after(scene, item, summary)))
            else:
                touched.append((scene, item.take_id))
                jobs.append((scene, self._render_new(scene, item, summary)))
        self._ends = {scene.id: asyncio.Event() for scene, _ in jobs}
        try:
            for scene, coro in jobs:
                self._tasks[scene.id] = asyncio.ensure_future(self._ending(scene.id, coro))
            if self._tasks:
                results = await asyncio.gather(*self._tasks.values(), return_exceptions=True)
                for (scene, _), result in zip(jobs, results):
                    if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                        log.error("render of scene %s ended by %r", scene.id, result)
                        summary.failed.setdefault(scene.id, describe(result)[0])
        finally:
            self._tasks.clear()
            self._settle(touched, summary)
            await self.aclose()
        summary.total_cost = round(sum(t.cost for sid in summary.done
                                       if (t := self.store.project.scene(sid).selected_take)), 4)
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
        await self._providers.aclose()

    # --- one scene -------------------------------------------------------------------------------------------
    async def _render_new(self, scene: Scene, item: PlanItem, summary: RenderSummary) -> None:
        plan: RenderPlan = item.plan
        take = Take(id=item.take_id, provider=plan.provider, deployment=plan.deployment, model=plan.model,
                    settings=plan.sent, settings_hash=plan.settings_hash, notes=plan.notes(), seed=plan.sent.get(
                        "seed"), estimated_cost=plan.cost, rendered_seconds=plan.render_seconds,
                    request=plan.request.layered.model_dump(mode="json"))
        scene.takes.append(take)
        provider = self.provider(take.provider)
        if item.replaces_take_id:  # its result is no longer fetched: this take pays for a new one
            old = scene.take(item.replaces_take_id)
            old.refetch = False
            old.error = f"{old.error or 'unusable result'}; rendered again (and paid again) as take {take.id}"
        try:
            await self._saved(scene, take)  # the intent, before any request that may create a paid job
            self._emit("queued", scene, take, cost=plan.cost)
            async with self._slot(take):
                if self._cancel_all:
                    raise asyncio.CancelledError()
                job_id = await submit_job(provider, plan, self._progress(scene, take),
                                          retries=self.settings.render_retries, on_retry=self._on_retry(scene, take))
                take.remote_job_id = job_id
                take.status = "submitted"
                take.submitted_at = now()
                self._note(scene, take)
                await self._saved(scene, take)  # the job is paid for from here on: its id is never only in memory
                self._emit("submitted", scene, take, message=f"job {job_id}")
                await self._wait(provider, scene, take, plan, summary)
        except asyncio.CancelledError:
            await self._cancelled(provider, scene, take, plan, summary)
        except BaseException as exc:  # every error ends its take, with its message
            self._ended(scene, take, exc, summary, plan)

    async def _ending(self, scene_id: str, coro) -> None:
        try:
            await coro
        finally:
            self._ends[scene_id].set()  # the scenes extending it go on (or stop) from here

    async def _render_after(self, scene: Scene, item: PlanItem, summary: RenderSummary) -> None:
        """A chained scene: wait (holding no slot) for the scene it extends, then render against its new clip."""
        parent = self.store.project.scene(item.after_scene_id)
        number = numbers(self.store.project)[parent.id]
        self._emit("queued", scene, None, message=f"waiting for scene {number}", cost=item.estimated_cost)
        try:
            ends = self._ends.get(parent.id)
            if ends is not None:
                await ends.wait()
        except asyncio.CancelledError:
            summary.cancelled.append(scene.id)
            self._emit("cancelled", scene, None, message=f"cancelled while waiting for scene {number}")
            return
        if parent.id not in summary.done:
            how = "was cancelled" if parent.id in summary.cancelled else "failed"
            self._stopped(scene, item, f"waiting for scene {number}, which {how}", summary)
            return
        try:
            ready = await asyncio.to_thread(chained_plan, self.store, self.provider, item)
        except ImageAIError as exc:
            self._stopped(scene, item, f"the new clip of scene {number} cannot be extended: {exc}", summary)
            return
        if abs(ready.estimated_cost - item.estimated_cost) > 1e-6:  # said: the run was confirmed at the estimate
            self._emit("log", scene, None, cost=ready.estimated_cost,
                       message=f"priced ${ready.estimated_cost:.2f} against scene {number}'s clip "
                               f"(estimated ${item.estimated_cost:.2f})")
        await self._render_new(scene, ready, summary)

    def _stopped(self, scene: Scene, item: PlanItem, message: str, summary: RenderSummary) -> None:
        """A chained scene that cannot render: a failed take says why; nothing was submitted or paid."""
        plan: RenderPlan = item.plan
        take = Take(id=item.take_id, provider=item.provider, deployment=item.deployment, model=item.model,
                    status="failed", error=message, error_kind="chain", estimated_cost=item.estimated_cost,
                    settings=plan.sent if plan is not None else {}, finished_at=now(),
                    request=plan.request.layered.model_dump(mode="json") if plan is not None else {})
        scene.takes.append(take)
        summary.failed[scene.id] = message
        self._save_quietly(scene, take, summary)
        self._emit("failed", scene, take, message=message, error_kind="chain")

    async def _follow(self, scene: Scene, take: Take, item: PlanItem, summary: RenderSummary) -> None:
        provider = self.provider(take.provider)
        what = "fetching the result of" if take.refetch else "resuming"
        self._emit("submitted", scene, take, message=f"{what} job {take.remote_job_id}")
        try:
            if item.error:  # the job is kept: the next render tries to follow it again
                raise UnavailableError(f"job {take.remote_job_id} cannot be followed: {item.error}")
            async with self._slot(take):
                await self._wait(provider, scene, take, item.plan, summary)
        except asyncio.CancelledError:
            await self._cancelled(provider, scene, take, item.plan, summary)
        except BaseException as exc:
            self._ended(scene, take, exc, summary, item.plan)

    async def _wait(self, provider: VideoProvider, scene: Scene, take: Take, plan: RenderPlan,
                    summary: RenderSummary) -> None:
        self._check_staging(plan)
        result = await follow_job(provider, take.remote_job_id, plan, self._progress(scene, take),
                                  retries=self.settings.render_retries, timeout_s=self.settings.render_timeout_s,
                                  on_retry=self._on_retry(scene, take))
        self._finished.add(take.id)
        self._charge(scene, take, result.cost)  # the service charged: recorded whatever the clip's fate
        try:
            self._check_inside(Path(result.clip_path))
            final = self.store.output_path(clip_rel_path(scene, take))
            await asyncio.to_thread(verify_result, result, plan, final)
        except ImageAIError as exc:
            exc.job_finished = True
            raise
        if plan.mode == "extend":  # an extension may come back with its source footage: where the scene is
            take.scene_start_s = await asyncio.to_thread(scene_start, plan, result.duration)
        take.status = "done"
        take.refetch = False
        take.error = take.error_kind = None
        take.clip_path = self.store.relative(final)
        take.cost = result.cost
        take.remote_job_id = result.remote_job_id or take.remote_job_id  # the job it finished as (a moved scene)
        take.seed = result.seed if result.seed is not None else take.seed
        take.finished_at = now()
        scene.selected_take_id = take.id
        await self._saved(scene, take)
        summary.done.append(scene.id)
        self._emit("done", scene, take, fraction=1.0, cost=result.cost, message=take.clip_path)

    def _check_staging(self, plan: RenderPlan) -> None:
        """The folder the provider writes the clip into still lies inside the project and can be written (checked
        before each wait: a folder swapped for a link out of the project since planning is refused)."""
        staged = Path(plan.request.output_path)
        try:
            self.store.check_writable(os.path.relpath(staged.parent, self.store.folder))
        except ImageAIError as exc:
            exc.local = True  # this machine's problem, not the job's: it is followed again once fixed
            raise

    def _check_inside(self, clip: Path) -> None:
        """A clip a provider wrote out of the project (through a link swapped in mid-job) is removed, never used."""
        if clip.resolve().is_relative_to(self.store.folder):
            return
        clip.unlink(missing_ok=True)
        raise BadOutputError(f"the clip was written to {clip.resolve()}, outside the project folder "
                             f"{self.store.folder} (a link out of the folder); it was removed")

    def _charge(self, scene: Scene, take: Take, cost: float) -> None:
        if any(e.take_id == take.id for e in self.store.project.ledger):
            return  # a result fetched again is not charged again
        take.cost = cost
        self.store.project.ledger.append(LedgerEntry(take_id=take.id, scene_id=scene.id, provider=take.provider,
                                                     model=take.model, estimated=take.estimated_cost, cost=cost))

    async def _cancelled(self, provider: VideoProvider, scene: Scene, take: Take, plan: Optional[RenderPlan],
                         summary: RenderSummary) -> None:
        take.status = "cancelled"
        take.error, take.error_kind = "cancelled by the user", CancelledError.kind
        if take.id in self._finished:  # paid already: charged, and its result can still be fetched
            self._charge(scene, take, plan.cost if plan is not None else take.estimated_cost)
            take.refetch = True
            take.error += f" after job {take.remote_job_id} finished; the next render fetches its result"
        else:
            await cancel_job(provider, take.remote_job_id, plan)
        take.finished_at = now()
        summary.cancelled.append(scene.id)
        self._save_quietly(scene, take, summary)
        self._emit("cancelled", scene, take, message="cancelled")

    def _ended(self, scene: Scene, take: Take, exc: BaseException, summary: RenderSummary,
               plan: Optional[RenderPlan]) -> None:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise exc
        if not isinstance(exc, ImageAIError):
            log.error("render of scene %s failed", scene.id, exc_info=exc)
        end = ending(take, exc, finished=take.id in self._finished)
        if end.charged:
            self._charge(scene, take, plan.cost if plan is not None else take.estimated_cost)
        take.status, take.error, take.error_kind = end.status, end.message, end.kind
        take.refetch, take.result_gone = end.refetch, end.result_gone
        if end.status == "failed":
            take.finished_at = now()
        summary.failed[scene.id] = end.message
        if not isinstance(exc, SaveFailed):
            self._save_quietly(scene, take, summary)
        self._emit("failed", scene, take, message=end.message, error_kind=end.kind)

    def _settle(self, touched: list[tuple[Scene, str]], summary: RenderSummary) -> None:
        """After the run: no take of it is left queued or running (a task that ended some other way)."""
        changed = None
        for scene, take_id in touched:
            take = next((t for t in scene.takes if t.id == take_id), None)
            if take is None or take.status not in ("queued", "running"):
                continue
            if take.remote_job_id:
                take.status = "submitted"  # followed again next time
            else:
                take.status, take.error, take.error_kind = "failed", "the render ended before its job was made", \
                    "internal"
            summary.failed.setdefault(scene.id, take.error or f"job {take.remote_job_id} is followed next time")
            changed = (scene, take)
        if changed:
            self._save_quietly(*changed, summary)

    def _close_stale_intents(self, plan: RunPlan) -> None:
        """Takes an earlier render left "queued" without a job id (it was killed while submitting): the service may
        have made a job this app cannot look up, so the take says so instead of looking pending forever."""
        planned = {i.take_id for i in plan.items}
        for scene in self.store.project.scenes:
            for take in scene.takes:
                if take.status == "queued" and not take.remote_job_id and take.id not in planned:
                    take.status, take.error_kind = "failed", TransientError.kind  # as a submit cut off mid-way
                    take.error = ("the render ended while this take was being submitted; if the service made the "
                                  "job, it is not known here (look for it in the service's dashboard)")
                    take.finished_at = now()

    def _clean_leftovers(self) -> None:
        """Partial downloads a killed render left (their process is gone) are removed before this one starts."""
        try:
            from core.render.staging import clean_staging
            from core.video.leftovers import clean_leftovers
            clean_leftovers(self.store.folder)
            clean_staging(self.store)
        except Exception as exc:  # cleaning up must never stop a render
            log.warning("cleaning leftovers of %s: %s", self.store.folder, exc)

    # --- saving ----------------------------------------------------------------------------------------------
    async def _saved(self, scene: Scene, take: Take) -> None:
        """Save on a worker thread: the loop meanwhile goes on with the other jobs (a submit that just answered
        notes its job id at once instead of waiting behind this save's fsync)."""
        await asyncio.to_thread(self._save, scene, take)

    def _save(self, scene: Scene, take: Take) -> None:
        try:
            with self._journal_lock:
                covered = list(self._journaled)  # written before this save's snapshot: in the file it writes
            self.store.save()
            if covered:  # project.json holds their newest state now
                journal.forget(covered)
                with self._journal_lock:
                    self._journaled = [p for p in self._journaled if p not in covered]
        except Exception as exc:  # a full disk, a read-only folder, a lock held too long, an unreadable file
            reason = describe(exc)[0]
            if not take.remote_job_id:
                raise SaveFailed(f"project.json could not be written ({reason}); nothing was submitted") from exc
            charges = [e for e in self.store.project.ledger if e.take_id == take.id]
            try:
                where = journal.record(self.store.folder, scene.id, take, charges,
                                       selected=scene.selected_take_id == take.id)
                with self._journal_lock:
                    self._journaled.append(where)
            except OSError as jexc:
                raise SaveFailed(f"job {take.remote_job_id} was submitted but neither project.json ({reason}) nor "
                                 f"the journal ({jexc}) could be written: note the job id",
                                 job_id=take.remote_job_id) from exc
            raise SaveFailed(f"job {take.remote_job_id} was submitted but project.json could not be written "
                             f"({reason}); its id is kept in {where} and the next render follows it",
                             job_id=take.remote_job_id) from exc

    def _note(self, scene: Scene, take: Take) -> None:
        """The new job id into the journal first (a fast write): a kill during the save of project.json that
        follows cannot take it along."""
        try:
            path = journal.note(self.store.folder, scene.id, take)
            with self._journal_lock:
                self._journaled.append(path)
        except OSError as exc:  # the save right after still tries (and journals properly if it fails)
            log.warning("noting job %s in the journal: %s", take.remote_job_id, exc)

    def _save_quietly(self, scene: Scene, take: Take, summary: RenderSummary) -> None:
        try:
            self._save(scene, take)
        except SaveFailed as exc:
            summary.failed[scene.id] = f"{summary.failed.get(scene.id, '')}; {exc}".strip("; ")

    # --- plumbing --------------------------------------------------------------------------------------------
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

    def _progress(self, scene: Scene, take: Take) -> Callable[[ProgressEvent], None]:
        def on_progress(event: ProgressEvent) -> None:
            if event.stage == "running" and take.status == "submitted":
                take.status = "running"  # saved with the next change (on disk both mean: follow this job)
            if event.stage in FINISHED_STAGES:
                self._finished.add(take.id)  # from here the job is paid: a failure is fetched again, not paid
            if event.message.startswith("warning: ") and event.fraction is None:
                # the provider retried on its own (a ComfyUI scene moved off a server that went down): said where
                # the CLI and the GUI console show retries
                self._emit("retry", scene, take, message=event.message[len("warning: "):])
                return
            self._emit("progress", scene, take, fraction=event.fraction, message=event.message or event.stage)
        return on_progress

    def _emit(self, kind: str, scene: Scene, take: Optional[Take], **fields) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(RenderEvent(kind=kind, scene_id=scene.id, take_id=take.id if take else None, **fields))
        except Exception:  # a listener's bug must not break a paid render
            log.exception("render event listener failed")

