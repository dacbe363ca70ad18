"""Events the render queue emits (the CLI prints them, the GUI shows them, tests read them), and the run plan."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from core.video.project import now

RenderEventKind = Literal["queued", "skipped", "submitted", "progress", "retry", "done", "failed", "cancelled", "log"]


class QueueEvent(BaseModel):
    """What a queue (render or image run) says about one scene; each queue names its own kinds."""

    kind: str
    scene_id: str
    take_id: Optional[str] = None
    fraction: Optional[float] = None
    message: str = ""
    cost: Optional[float] = None
    error_kind: Optional[str] = None
    at: datetime = Field(default_factory=now)


class RenderEvent(QueueEvent):
    kind: RenderEventKind


class PlanItem(BaseModel):
    """One scene of a run: rendered anew, resumed (its job followed or its result fetched again) or skipped."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    scene_id: str
    index: int  # 1-based position in the storyboard
    provider: str
    model: Optional[str] = None
    deployment: Optional[str] = None
    take_id: Optional[str] = None  # the new take's id (chosen when planning: it names the output file)
    estimated_cost: float = 0.0
    render_seconds: Optional[float] = None
    cut_seconds: Optional[float] = None
    adjustments: list[str] = Field(default_factory=list)
    ignored: list[str] = Field(default_factory=list)
    skip_reason: Optional[str] = None  # set when the scene will not be rendered (already done with these settings)
    resume_take_id: Optional[str] = None  # set when a take's job will be followed (or fetched) instead of paid again
    refetch: bool = False
    #: a paid take whose result kept failing its check, given up for this new one (--pay-again)
    replaces_take_id: Optional[str] = None
    error: Optional[str] = None  # a resumed take whose plan cannot be made again
    #: a chain: the scene (in this run) whose new clip this one extends; it waits for it and is planned again then
    after_scene_id: Optional[str] = None
    plan: Any = Field(default=None, exclude=True)  # the provider's RenderPlan (core.render.contract)


class RunPlan(BaseModel):
    items: list[PlanItem] = Field(default_factory=list)

    @property
    def total_cost(self) -> float:
        return round(sum(i.estimated_cost for i in self.items if not i.skip_reason and not i.resume_take_id), 4)

    @property
    def to_render(self) -> list[PlanItem]:
        return [i for i in self.items if not i.skip_reason]


class RenderSummary(BaseModel):
    done: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)
    skipped: list[str] = Field(default_factory=list)
    cancelled: list[str] = Field(default_factory=list)
    total_cost: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled
