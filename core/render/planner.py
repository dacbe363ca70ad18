"""Planning a run (no network, no money): for each scene, one `prepare` of its provider, then whether it is
rendered anew, resumed (its submitted job followed, or its finished result fetched again) or skipped. Every
problem of every scene is reported at once, before anything is spent.

Chains: a scene that extends another (`Scene.extend_scene_id`) is planned after it. When the parent renders in the
same run, the child waits for it (`PlanItem.after_scene_id`) and is priced against the facts of the clip the parent's
plan makes (core/render/chains.py: no file is made); otherwise it extends the parent's selected clip, and a parent
without one is a problem."""
from __future__ import annotations

from typing import Callable, Optional

from core.errors import ImageAIError, InvalidRequestError, invalid_requests
from core.render.chains import pending_clip
from core.render.contract import RenderPlan, VideoProvider
from core.render.events import PlanItem, RunPlan
from core.render.requests import (ChainInput, build_request, parent_clip, scene_request, staging_rel_path,
                                  take_covers)
from core.video.chains import in_chain_order, link_problem, parent_of
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
    planned: dict[str, PlanItem] = {}
    problems: list[InvalidRequestError] = []
    for scene in in_chain_order(project, scenes):  # parents first: a child is priced from its parent's plan
        try:
            chain, after = _chain_input(store, scene, index, {s.id for s in scenes}, planned, pay_again)
            item = _plan_scene(store, provider_for, scene, index[scene.id], force, run, pay_again, chain)
            item.after_scene_id = after  # never skipped then: its hash names the parent's new take
        except ChainProblem as exc:
            problems.append(exc)
            continue
        except InvalidRequestError as exc:
            for p in getattr(exc, "problems", None) or [exc]:
                problems.append(InvalidRequestError(f"scene {index[scene.id]}: {p}"))
            continue
        except ImageAIError as exc:
            exc.message = f"scene {index[scene.id]}: {exc}"
            exc.args = (exc.message,)
            raise
        planned[scene.id] = item
    if problems:
        raise invalid_requests(problems)
    return RunPlan(items=sorted(planned.values(), key=lambda i: i.index))


class ChainProblem(InvalidRequestError):
    """A chain that cannot render; its message names both scenes already."""


def _chain_input(store: ProjectStore, scene: Scene, index: dict[str, int], in_run: set[str],
                 planned: dict[str, PlanItem], pay_again: bool) -> tuple[Optional[ChainInput], Optional[str]]:
    """What a chained scene extends in this run, and the scene it waits for (None: its parent's clip exists)."""
    if scene.extend_scene_id is None:
        return None, None
    active = resumable_take(scene)
    if active is not None and not (pay_again and active.refetch and active.error_kind == "bad_output"):
        return None, None  # its job is followed: it was submitted with the parent's clip
    n = index[scene.id]
    parent = parent_of(store.project, scene)
    if parent is None:
        raise ChainProblem(f"scene {n} extends a scene that was removed ({scene.extend_scene_id}): choose another "
                           f"scene or none", field="extend_scene_id")
    loop = link_problem(store.project, scene.id, parent.id)
    if loop:
        raise ChainProblem(loop, field="extend_scene_id", allowed=["break the loop: clear a link"])
    m = index[parent.id]
    if parent.id in in_run:
        item = planned.get(parent.id)
        if item is None:
            raise ChainProblem(f"scene {n} extends scene {m}, which cannot be rendered (see its problems)",
                               field="extend_scene_id")
        if not item.skip_reason:  # the parent renders (or its job is followed): wait for its clip
            take_id = item.take_id or item.resume_take_id
            return pending_clip(store, parent, take_id, item.plan, parent.duration), parent.id
    clip = parent_clip(store, scene)
    if clip is None:
        raise ChainProblem(f"scene {n} extends scene {m}, which has no clip: render scene {m} first or include it",
                           field="extend_scene_id", allowed=[f"render scene {m} in the same run", "clear the link"])
    return clip, None


def chained_plan(store: ProjectStore, provider_for: ProviderFor, item: PlanItem) -> PlanItem:
    """A waiting child planned again once its parent's clip exists: the same layered settings and take id, the
    parent's selected clip as the video to extend. InvalidRequestError when the clip does not fit the child."""
    scene = store.project.scene(item.scene_id)
    chain = parent_clip(store, scene)
    if chain is None:
        raise InvalidRequestError("the clip of the scene it extends is gone", field="extend_scene_id")
    layered = item.plan.request.layered
    plan = provider_for(item.provider).prepare(build_request(store, scene, layered,
                                                             staging_rel_path(scene, item.take_id), chain))
    return _new_item(scene, item.index, item.take_id, plan, item.replaces_take_id)


def _plan_scene(store: ProjectStore, provider_for: ProviderFor, scene: Scene, index: int, force: bool,
                run: Optional[RenderSettings], pay_again: bool, chain: Optional[ChainInput] = None) -> PlanItem:
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
    request = scene_request(store, scene, run, output_rel=staging_rel_path(scene, take_id), chain=chain)
    provider = provider_for(request.settings.provider or "animatic")
    plan = provider.prepare(request)
    item = _new_item(scene, index, take_id, plan, replaces)
    if not force and not replaces:
        item.skip_reason = _skip_reason(store, scene, plan, pay_again)
    return item


def _new_item(scene: Scene, index: int, take_id: str, plan: RenderPlan, replaces: Optional[str]) -> PlanItem:
    return PlanItem(scene_id=scene.id, index=index, provider=plan.provider, model=plan.model,
                    deployment=plan.deployment, take_id=take_id, estimated_cost=plan.cost,
                    render_seconds=plan.render_seconds, cut_seconds=plan.cut_seconds,
                    adjustments=[str(a) for a in plan.adjustments], ignored=[str(i) for i in plan.ignored], plan=plan,
                    replaces_take_id=replaces)


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
