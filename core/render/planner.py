"""Planning a run (no network, no money): for each scene, one `prepare` of its provider, then whether it is
rendered anew, resumed (its submitted job followed, or its finished result fetched again) or skipped. Every
problem of every scene is reported at once, before anything is spent."""
from __future__ import annotations

from typing import Callable, Optional

from core.errors import ImageAIError, InvalidRequestError, invalid_requests
from core.render.contract import RenderPlan, VideoProvider
from core.render.events import PlanItem, RunPlan
from core.render.requests import build_request, scene_request, staging_rel_path, take_covers
from core.video.project import ACTIVE_STATUSES, Scene, Take, new_id
from core.video.project_io import ProjectStore
from core.video.render_settings import LayeredSettings, RenderSettings

ProviderFor = Callable[[str], VideoProvider]


def resumable_take(scene: Scene) -> Optional[Take]:
    """The take whose job is still followed: submitted or running, or finished at the service (paid) but not
    fetched (a failed download or check, or a cancel that came after the job finished)."""
    for take in reversed(scene.takes):
        if take.remote_job_id and (take.status in ACTIVE_STATUSES or
                                   (take.status in ("failed", "cancelled") and take.refetch)):
            return take
    return None


def resume_item(store: ProjectStore, provider_for: ProviderFor, scene: Scene, index: int,
                take: Take) -> PlanItem:
    """The plan item that follows `take`'s job (or fetches its finished result) instead of paying again."""
    item = PlanItem(scene_id=scene.id, index=index, provider=take.provider, model=take.model,
                    deployment=take.deployment, resume_take_id=take.id, refetch=take.refetch,
                    estimated_cost=take.estimated_cost)
    try:
        item.plan = resume_plan(store, provider_for, scene, take)
    except ImageAIError as exc:  # the job is still followed by id; the take says why it could not be
        item.error = str(exc)
    return item


def plan_run(store: ProjectStore, provider_for: ProviderFor, scene_ids: Optional[list[str]] = None, *,
             force: bool = False, run: Optional[RenderSettings] = None, pay_again: bool = False) -> RunPlan:
    project = store.project
    index = {s.id: i + 1 for i, s in enumerate(project.scenes)}
    scenes = project.scenes if scene_ids is None else [project.scene(sid) for sid in scene_ids]
    out = RunPlan()
    problems: list[InvalidRequestError] = []
    for scene in scenes:
        try:
            item = _plan_scene(store, provider_for, scene, index[scene.id], force, run, pay_again)
        except InvalidRequestError as exc:
            for p in getattr(exc, "problems", None) or [exc]:
                problems.append(InvalidRequestError(f"scene {index[scene.id]}: {p}"))
            continue
        except ImageAIError as exc:
            exc.message = f"scene {index[scene.id]}: {exc}"
            exc.args = (exc.message,)
            raise
        out.items.append(item)
    if problems:
        raise invalid_requests(problems)
    return out


def _plan_scene(store: ProjectStore, provider_for: ProviderFor, scene: Scene, index: int, force: bool,
                run: Optional[RenderSettings], pay_again: bool) -> PlanItem:
    active = resumable_take(scene)
    replaces = None
    if active is not None and pay_again and active.refetch and active.error_kind == "bad_output":
        replaces = active.id  # its paid result keeps failing its check: the user chose to pay for a new one
    elif active is not None:
        return resume_item(store, provider_for, scene, index, active)
    selected = scene.selected_take
    if not force and selected is not None and selected.provider == "import" and selected.clip_path and \
            store.resolve(selected.clip_path).is_file():
        return PlanItem(scene_id=scene.id, index=index, provider="import", skip_reason="uses an imported clip")
    take_id = new_id()
    request = scene_request(store, scene, run, output_rel=staging_rel_path(scene, take_id))
    provider = provider_for(request.settings.provider or "animatic")
    plan = provider.prepare(request)
    item = PlanItem(scene_id=scene.id, index=index, provider=plan.provider, model=plan.model,
                    deployment=plan.deployment, take_id=take_id, estimated_cost=plan.cost,
                    render_seconds=plan.render_seconds, cut_seconds=plan.cut_seconds,
                    adjustments=[str(a) for a in plan.adjustments], ignored=[str(i) for i in plan.ignored], plan=plan,
                    replaces_take_id=replaces)
    if not force and not replaces:
        item.skip_reason = _skip_reason(store, scene, plan, pay_again)
    return item


def resume_plan(store: ProjectStore, provider_for: ProviderFor, scene: Scene, take: Take) -> RenderPlan:
    """The plan a take was submitted with, made again from its recorded settings (nothing is submitted)."""
    layered = LayeredSettings.model_validate(take.request) if take.request else store.project.scene_settings(scene)
    request = build_request(store, scene, layered, staging_rel_path(scene, take.id))
    return provider_for(take.provider).prepare(request)


def _skip_reason(store: ProjectStore, scene: Scene, plan: RenderPlan, pay_again: bool) -> Optional[str]:
    selected = scene.selected_take
    if selected is not None and selected.status == "done" and selected.clip_path and \
            store.resolve(selected.clip_path).is_file():
        if take_covers(selected, plan, scene, store.project):
            return "already rendered with these settings"
    latest = scene.latest_take()
    if latest is not None and latest.result_gone and not pay_again and plan.cost > 0:
        return (f"its paid job {latest.remote_job_id} finished but the service no longer has the result; "
                f"render it again (and pay again) with --pay-again")
    return None
