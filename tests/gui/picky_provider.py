"""A provider plugin for the GUI tests, registered through IMAGEAI_PROVIDER_PLUGINS (the real plugin mechanism).
It renders like Animatic (real FFmpeg, real clips) but has a price, and refuses any prompt containing "forbidden"
with the typed ContentRejectedError after the job was submitted, as a cloud service's content filter does."""
from __future__ import annotations

from core.errors import ContentRejectedError, InvalidRequestError
from providers.animatic import AnimaticProvider
from providers.base import Capabilities, ModelInfo, ProgressCallback, RenderRequest, RenderResult, VideoProvider, \
    no_progress

MODEL = ModelInfo(id="picky-1", label="Picky", resolutions=["480p", "720p"], aspect_ratios=["16:9"], fps=[24],
                  min_duration=0.5, max_duration=20, price_per_second={"*": 0.25})


class PickyProvider(AnimaticProvider):
    name = "picky"

    def capabilities(self) -> Capabilities:
        return Capabilities(name=self.name, display_name="Picky", models=[MODEL])

    def validate(self, request: RenderRequest) -> None:
        if request.settings.model not in (None, MODEL.id):
            raise InvalidRequestError(f"unknown model {request.settings.model!r}", field="model", allowed=[MODEL.id])

    def estimate_cost(self, request: RenderRequest) -> float:
        return VideoProvider.estimate_cost(self, request)

    async def wait(self, job_id: str, request: RenderRequest,
                   progress: ProgressCallback = no_progress) -> RenderResult:
        if "forbidden" in request.prompt:
            raise ContentRejectedError("the service refused the prompt (content policy)")
        result = await super().wait(job_id, request, progress)
        return result.model_copy(update={"cost": self.estimate_cost(request)})
