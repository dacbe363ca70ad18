"""One scene rendered by two providers as two takes of that scene, then compared: a side-by-side video and a facts
table per take (provider, model, cost, wall time to render, resolution, fps, length, audio, and the objective
measures of core/video/take_measures.py).

The takes go through the render queue (one queue per take, run together on one loop), so everything a render has
applies: the intent saved before the submit, the job id the moment it exists, retries, the decode check, the
ledger. Planning happens once, up front, before anything is spent. A comparison records its two takes beside the
clips (clips/.compare-<scene id>.json) before the first submit, so one that was interrupted continues where it
stopped: a side whose take is done is reused, a side whose job is still running (or finished unfetched) is
followed, never paid again, and only a side that never started or failed is rendered anew (priced). The record is
removed once the side-by-side video is written.

The queue selects every take it finishes; a comparison is not a choice, so afterwards the scene keeps the take it
had selected (or, when it had none, the first side's take) and the user keeps either with `project select-take`.
"""
from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from pydantic import BaseModel, Field

from core.atomic import atomic_write_text
from core.config import Settings
from core.errors import ImageAIError, InvalidRequestError, invalid_requests
from core.render import journal
from core.render.events import PlanItem, RenderEvent, RunPlan
from core.render.planner import resume_item
from core.render.queue import ProviderGetter, RenderQueue
from core.render.requests import scene_request, staging_rel_path
from core.video.project import ACTIVE_STATUSES, Scene, Take, new_id
from core.video.project_io import ProjectStore
from core.video.render_settings import RenderSettings
from core.video.take_measures import MEANINGS, analysis_height, measure_clip

SPEC_HELP = "PROVIDER:MODEL[@DEPLOYMENT], e.g. veo:veo-3.1-fast-generate-preview,ltx-video:ltx-2-fast@fal"


class TakeSpec(BaseModel):
    """One side of a comparison: a provider and, optionally, its model and deployment (unset: the scene's, else
    the provider's default)."""

    provider: str
    model: Optional[str] = None
    deployment: Optional[str] = None

    @property
    def label(self) -> str:
        return " ".join(p for p in (self.provider, self.model, f"on {self.deployment}" if self.deployment else "")
                        if p)

    def settings(self) -> RenderSettings:
        return RenderSettings(provider=self.provider, model=self.model, deployment=self.deployment)

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.model or ''}@{self.deployment or ''}"

    def matches(self, take: Take) -> bool:
        return take.provider == self.provider and self.model in (None, take.model) and \
            self.deployment in (None, take.deployment)


def parse_specs(text: str) -> list[TakeSpec]:
    """'veo:MODEL,ltx-video:MODEL@fal' -> two specs; anything else is one InvalidRequestError saying the form."""
    specs = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        rest, _, deployment = part.partition("@")
        provider, _, model = rest.partition(":")
        if not provider.strip() or (":" in rest and not model.strip()) or ("@" in part and not deployment.strip()):
            raise InvalidRequestError(f"{part!r} is not a provider", field="--providers", allowed=[SPEC_HELP])
        try:
            specs.append(TakeSpec(provider=provider.strip(), model=model.strip() or None,
                                  deployment=deployment.strip() or None))
        except ValueError as exc:
            raise InvalidRequestError(f"{part!r}: {exc}", field="--providers") from None
    if len(specs) != 2:
        raise InvalidRequestError(f"{len(specs)} provider(s) given; a comparison takes exactly two",
                                  field="--providers", allowed=[SPEC_HELP])
    if specs[0] == specs[1]:
        raise InvalidRequestError(f"both sides are {specs[0].label}; name two different providers or models",
                                  field="--providers", allowed=[SPEC_HELP])
    return specs


def unfinished_takes(scene: Scene) -> list[Take]:
    """Takes whose paid job is still followed, newest first: submitted or running, or finished at the service but
    not fetched (the planner's resumable_take, which returns only the newest)."""
    return [t for t in reversed(scene.takes)
            if t.remote_job_id and (t.status in ACTIVE_STATUSES or (t.status in ("failed", "cancelled") and
                                                                    t.refetch))]


@dataclass
class Side:
    spec: TakeSpec
    queue: RenderQueue
    item: PlanItem

    @property
    def take_id(self) -> str:
        return self.item.resume_take_id or self.item.take_id

    @property
    def resumed(self) -> bool:
        """Its job was submitted before (followed now, or already done): nothing new is paid."""
        return bool(self.item.resume_take_id or self.item.skip_reason)

    @property
    def new_cost(self) -> float:
        return 0.0 if self.resumed else self.item.estimated_cost


class TakeFacts(BaseModel):
    side: int
    take_id: str
    provider: str
    model: Optional[str] = None
    deployment: Optional[str] = None
    status: str
    error: Optional[str] = None
    estimated_cost: float = 0.0
    cost: float = 0.0
    render_seconds: Optional[float] = None  # wall time at the service: submitted .. finished
    clip: Optional[str] = None
    width: Optional[int] = None
    height: Optional[int] = None
    fps: Optional[float] = None
    duration: Optional[float] = None
    has_audio: Optional[bool] = None
    sharpness: Optional[float] = None
    motion: Optional[float] = None
    flicker: Optional[float] = None


class CompareResult(BaseModel):
    project: str
    scene: int
    scene_id: str
    output: Optional[str] = None
    selected_take_id: Optional[str] = None
    total_cost: float = 0.0
    takes: list[TakeFacts] = Field(default_factory=list)
    measures: dict[str, str] = Field(default_factory=lambda: dict(MEANINGS))
    analysis_height: Optional[int] = None


#: (side number 1 or 2, its spec) -> the listener of that side's render events (or None)
EventsFor = Callable[[int, TakeSpec], Optional[Callable[[RenderEvent], None]]]


class TakeComparison:
    def __init__(self, store: ProjectStore, scene_number: int, specs: list[TakeSpec], *, settings: Settings,
                 provider_getter: ProviderGetter, events_for: Optional[EventsFor] = None):
        scenes = store.project.scenes
        if not scenes:
            raise InvalidRequestError("the project has no scenes; add one with project add-scene", field="--scene")
        if not 1 <= scene_number <= len(scenes):
            raise InvalidRequestError(f"no scene {scene_number}", field="--scene", allowed=[f"1-{len(scenes)}"])
        self.store, self.number, self.specs = store, scene_number, specs
        self.scene = scenes[scene_number - 1]
        self.settings, self._getter, self._events_for = settings, provider_getter, events_for
        self.sides: list[Side] = []
        self.record_path = store.folder / "clips" / f".compare-{self.scene.id}.json"
        self._record = self._load_record()
        self._kept: Optional[str] = self._record.get("kept", self.scene.selected_take_id)

    # --- the record of an unfinished comparison ----------------------------------------------------------------
    def _load_record(self) -> dict:
        try:
            data = json.loads(self.record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and isinstance(data.get("takes"), dict) else {}

    def _save_record(self) -> None:
        data = {"kept": self._kept, "takes": {s.spec.key: s.take_id for s in self.sides}}
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.record_path, json.dumps(data, indent=1))

    def _recorded_take(self, spec: TakeSpec) -> Optional[Take]:
        take_id = self._record.get("takes", {}).get(spec.key)
        return next((t for t in self.scene.takes if t.id == take_id), None) if take_id else None

    # --- planning: no network, no money ----------------------------------------------------------------------
    def plan(self) -> list[Side]:
        """Each side as a new take (priced, with its adjustments and ignored settings) or the unfinished take of
        that provider an interrupted comparison left. One InvalidRequestError lists every problem of both."""
        problems: list[InvalidRequestError] = []
        # job ids an earlier run could not save come back first, so they are followed and never paid again
        journal.apply(self.store)
        unfinished = unfinished_takes(self.scene)
        sides = []
        for number, spec in enumerate(self.specs, 1):
            listener = self._events_for(number, spec) if self._events_for else None
            queue = RenderQueue(self.store, self.settings, provider_getter=self._getter, on_event=listener)
            recorded = self._recorded_take(spec)
            if recorded is not None and recorded.status == "done" and recorded.clip_path and \
                    self.store.resolve(recorded.clip_path).is_file():
                sides.append(Side(spec=spec, queue=queue, item=PlanItem(
                    scene_id=self.scene.id, index=self.number, provider=recorded.provider, model=recorded.model,
                    deployment=recorded.deployment, take_id=recorded.id, estimated_cost=recorded.estimated_cost,
                    skip_reason="rendered by this comparison before it was interrupted")))
                continue
            take = recorded if recorded in unfinished else next((t for t in unfinished if spec.matches(t)), None)
            try:
                item = self._resume_item(queue, take) if take else self._new_item(queue, spec)
            except InvalidRequestError as exc:
                problems += [InvalidRequestError(f"{spec.label}: {p}")
                             for p in getattr(exc, "problems", None) or [exc]]
                continue
            if take:
                unfinished.remove(take)
            sides.append(Side(spec=spec, queue=queue, item=item))
        if problems:
            raise invalid_requests(problems)
        self.sides = sides
        return sides

    def _new_item(self, queue: RenderQueue, spec: TakeSpec) -> PlanItem:
        # the planner's new-take branch (plan_run(force=True, run=...)), without its rule that a scene with an
        # unfinished take can only be resumed: the other side of a comparison is planned beside that take
        take_id = new_id()
        request = scene_request(self.store, self.scene, spec.settings(),
                                output_rel=staging_rel_path(self.scene, take_id))
        plan = queue.provider(spec.provider).prepare(request)
        return PlanItem(scene_id=self.scene.id, index=self.number, provider=plan.provider, model=plan.model,
                        deployment=plan.deployment, take_id=take_id, estimated_cost=plan.cost,
                        render_seconds=plan.render_seconds, cut_seconds=plan.cut_seconds,
                        adjustments=[str(a) for a in plan.adjustments], ignored=[str(i) for i in plan.ignored],
                        plan=plan)

    def _resume_item(self, queue: RenderQueue, take: Take) -> PlanItem:
        return resume_item(self.store, queue.provider, self.scene, self.number, take)

    @property
    def new_cost(self) -> float:
        return round(sum(s.new_cost for s in self.sides), 4)

    @property
    def renders_new(self) -> bool:
        return any(not s.resumed for s in self.sides)

    # --- running ---------------------------------------------------------------------------------------------
    async def run(self) -> dict[str, str]:
        """Both sides at once (each through its own queue); {take id: error} for the sides that did not finish."""
        if not self.sides:
            self.plan()
        for side in self.sides:
            side.queue.check_available(RunPlan(items=[side.item]))  # both, before either is paid for
        self._save_record()  # before the first submit: an interrupted comparison continues from here
        summaries = await asyncio.gather(*(s.queue.run(plan=RunPlan(items=[s.item])) for s in self.sides))
        failed = {}
        for side, summary in zip(self.sides, summaries):
            message = summary.failed.get(self.scene.id) or ("cancelled" if summary.cancelled else None)
            if message:
                failed[side.take_id] = message
        self._keep_selection()
        return failed

    def cancel(self) -> None:
        for side in self.sides:
            side.queue.cancel()

    def _keep_selection(self) -> None:
        """The take selected before the comparison stays selected; with none, the first side's take if done."""
        takes = {t.id: t for t in self.scene.takes}
        kept = self._kept if self._kept in takes else None
        if kept is None:
            first = takes.get(self.sides[0].take_id)
            kept = first.id if first is not None and first.status == "done" else self.scene.selected_take_id
        if kept != self.scene.selected_take_id:
            self.scene.selected_take_id = kept
            self.store.save()

    # --- the result ------------------------------------------------------------------------------------------
    def facts(self, *, measure: bool = True, cancel: Optional[threading.Event] = None) -> list[TakeFacts]:
        from core.video.media import probe
        rows = []
        for i, side in enumerate(self.sides):
            take = self.scene.take(side.take_id)
            row = TakeFacts(side=i + 1, take_id=take.id, provider=take.provider, model=take.model,
                            deployment=take.deployment, status=take.status, error=take.error,
                            estimated_cost=take.estimated_cost, cost=take.cost, render_seconds=take.render_seconds)
            if take.status == "done" and take.clip_path:
                info = probe(self.store.resolve(take.clip_path))
                row = row.model_copy(update=dict(clip=take.clip_path, width=info.width, height=info.height,
                                                 fps=info.fps, duration=info.duration, has_audio=info.has_audio))
            rows.append(row)
        if measure and all(r.clip for r in rows):
            height = analysis_height(*(r.height or 0 for r in rows))
            for r in rows:
                m = measure_clip(self.store.resolve(r.clip), height=height, cancel=cancel)
                r.sharpness, r.motion, r.flicker = m.sharpness, m.motion, m.flicker
        return rows

    def result(self, output: Path, *, cancel: Optional[threading.Event] = None) -> CompareResult:
        """The side-by-side video at `output` and the facts of both takes (both must be done)."""
        from core.video.compare import compare_clips
        rows = self.facts(cancel=cancel)
        missing = [r for r in rows if not r.clip]
        if missing:
            raise ImageAIError("nothing to put side by side: " + "; ".join(
                f"take {r.take_id} ({r.provider}) is {r.status}" + (f": {r.error}" if r.error else "")
                for r in missing))
        labels = [" ".join(p for p in (r.provider, r.model) if p) for r in rows]
        clips = [self.store.resolve(r.clip) for r in rows]
        compare_clips(clips[0], clips[1], Path(output), labels, cancel=cancel)
        self.record_path.unlink(missing_ok=True)  # done: the next comparison of this scene renders anew
        return CompareResult(project=str(self.store.folder), scene=self.number, scene_id=self.scene.id,
                             output=str(Path(output).resolve()), selected_take_id=self.scene.selected_take_id,
                             total_cost=round(sum(r.cost for r in rows), 4), takes=rows,
                             analysis_height=analysis_height(*(r.height or 0 for r in rows)))


def default_output(store: ProjectStore, scene_number: int) -> Path:
    return store.output_path(f"exports/compare-scene-{scene_number}.mp4")


def _money(value: Optional[float]) -> str:
    return "-" if value is None else f"${value:.2f}"


def _fixed(value: Optional[float], unit: str = "", digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


FACT_ROWS: list[tuple[str, Callable[[TakeFacts], str]]] = [
    ("provider", lambda r: r.provider),
    ("model", lambda r: r.model or "-"),
    ("deployment", lambda r: r.deployment or "-"),
    ("cost", lambda r: _money(r.cost)),
    ("render time", lambda r: _fixed(r.render_seconds, " s", 1)),
    ("resolution", lambda r: f"{r.width}x{r.height}" if r.width else "-"),
    ("fps", lambda r: f"{r.fps:g}" if r.fps else "-"),
    ("length", lambda r: _fixed(r.duration, " s")),
    ("audio", lambda r: "-" if r.has_audio is None else ("yes" if r.has_audio else "no")),
    ("sharpness", lambda r: _fixed(r.sharpness)),
    ("motion", lambda r: _fixed(r.motion)),
    ("flicker", lambda r: _fixed(r.flicker)),
]


def format_facts(rows: list[TakeFacts]) -> str:
    """One column per take, one line per fact, then what each measure means."""
    cells = [["", *(f"take {r.side} ({r.take_id})" for r in rows)]]
    cells += [[name, *(fn(r) for r in rows)] for name, fn in FACT_ROWS]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.append("")
    lines += [f"{name}: {meaning}" for name, meaning in MEANINGS.items()]
    return "\n".join(lines)
