"""A provider plugin for the GUI tests, registered through IMAGEAI_PROVIDER_PLUGINS (the real plugin mechanism).
It renders like Animatic (real FFmpeg, real clips) but has a price and takes a seed, and refuses any prompt
containing "forbidden" with the typed ContentRejectedError after the job was submitted, as a cloud service's content
filter does. Its catalog says it takes a negative prompt, but without a start frame it ignores one (as some real
endpoints do in one mode): the plan, not the catalog, says so."""
from __future__ import annotations

from core.errors import ContentRejectedError
from core.render.planning import PlanBuilder, finish_plan
from core.video.render_settings import frame_size
from providers.animatic import AnimaticProvider
from providers.base import Capabilities, ModelInfo, ProgressCallback, RenderPlan, RenderRequest, RenderResult, \
    no_progress

MODEL = ModelInfo(id="picky-1", label="Picky", resolutions=["480p", "720p"], aspect_ratios=["16:9"], fps=[24],
                  min_duration=0.5, max_duration=20, price_per_second={"*": 0.25}, params=["seed", "negative_prompt"],
                  defaults={"resolution": "720p", "aspect_ratio": "16:9", "fps": 24, "duration": 4.0})
PRICE = 0.25


class PickyProvider(AnimaticProvider):
    name = "picky"

    def capabilities(self) -> Capabilities:
        return Capabilities(name=self.name, display_name="Picky", models=[MODEL])

    def prepare(self, request: RenderRequest) -> RenderPlan:
        s = request.settings
        b = PlanBuilder(request, "picky-1")
        if s.model not in (None, MODEL.id):
            b.problem(f"unknown model {s.model!r}", field="model", allowed=[MODEL.id])
        d = MODEL.defaults
        resolution = b.choose("resolution", MODEL.resolutions, d["resolution"])
        aspect = b.choose("aspect_ratio", MODEL.aspect_ratios, d["aspect_ratio"])
        fps = b.choose("fps", MODEL.fps, d["fps"])
        cut = request.cut_seconds if request.cut_seconds is not None else s.duration
        length = b.render_length(cut, [], MODEL.min_duration, MODEL.max_duration, d["duration"])
        for field in ("audio_prompt", "camera_motion", "camera_speed"):
            b.not_taken(field, "picky-1 takes no such setting")
        if request.start_image is None:
            b.not_taken("negative_prompt", "picky-1 reads a negative prompt only with a start frame")
        b.raise_problems()
        sent = {"resolution": resolution, "aspect_ratio": aspect, "fps": fps, "duration": length}
        if s.seed is not None:
            sent["seed"] = s.seed
        if s.negative_prompt and request.start_image is not None:
            sent["negative_prompt"] = s.negative_prompt
        width, height = frame_size(resolution, aspect)
        plan = RenderPlan(provider=self.name, model=MODEL.id, request=request, sent=sent, adjustments=b.adjustments,
                          ignored=b.ignored, cost=round(PRICE * length, 4), render_seconds=length,
                          cut_seconds=request.cut_seconds, expected_seconds=length, width=width, height=height,
                          fps=fps)
        return finish_plan(plan)

    async def wait(self, job_id: str, plan: RenderPlan, progress: ProgressCallback = no_progress) -> RenderResult:
        if "forbidden" in plan.request.prompt:
            raise ContentRejectedError("the service refused the prompt (content policy)")
        result = await super().wait(job_id, plan, progress)
        return result.model_copy(update={"cost": plan.cost})
