"""What every image provider shares: its catalog as capabilities, `prepare` through the shared planner, the key
check, and writing what a request delivered (decoded, cropped and scaled to the asked size, through a temp file).
A provider supplies `deliver(plan, call, progress)`: one request, returning the images' bytes."""
from __future__ import annotations

import abc
import asyncio
from dataclasses import dataclass
from typing import Optional

from core.config import Settings
from core.errors import BadOutputError
from core.images.contract import (ImageCall, ImageCapabilities, ImageModelInfo, ImagePlan, ImageProvider,
                                  ImageRequest, ImageResult, ProgressCallback, ProgressEvent, no_progress)
from core.images.output import decode, save_image, write_failed
from core.images.planning import ImagePlanBuilder, plan_image
from core.secrets import get_key
from providers.images import catalog


@dataclass
class Delivered:
    """One image as a service returned it."""

    data: bytes
    seed: Optional[int] = None
    revised_prompt: Optional[str] = None


class CatalogImageProvider(ImageProvider):
    #: providers/images/catalogs/<catalog_name>.py
    catalog_name: str = ""
    #: core.secrets service of the key (None: no key)
    key_service: Optional[str] = None
    key_hint: str = ""

    def __init__(self, settings: Optional[Settings] = None):
        self.settings = settings or Settings()

    def capabilities(self) -> ImageCapabilities:
        return catalog.capabilities(self.catalog_name, self.name)

    def label(self, m: ImageModelInfo, request: ImageRequest) -> str:
        return f"{m.id} on {self.display_name}"

    #: the provider options it takes (ImageRequest.options)
    option_names: tuple[str, ...] = ()

    def prepare(self, request: ImageRequest) -> ImagePlan:
        def finish(b: ImagePlanBuilder, m: ImageModelInfo, plan: ImagePlan) -> None:
            for key in request.options:
                if key not in self.option_names:
                    b.problem(f"{self.display_name} takes no option {key!r}", field=f"options.{key}",
                              allowed=self.option_names or ["none"])
            self.finish(b, m, plan)

        return plan_image(self.name, self.capabilities(), request, label_of=lambda m: self.label(m, request),
                          finish=finish)

    def finish(self, b: ImagePlanBuilder, m: ImageModelInfo, plan: ImagePlan) -> None:
        """The provider's own wire rules on a plan (before its problems are raised)."""

    def unavailable_reason(self) -> Optional[str]:
        if self.key_service and not get_key(self.key_service):
            return f"{self.display_name} needs an API key: {self.key_hint}"
        return None

    def key(self) -> str:
        return get_key(self.key_service) or "" if self.key_service else ""

    @abc.abstractmethod
    async def deliver(self, plan: ImagePlan, call: ImageCall, progress: ProgressCallback) -> list[Delivered]:
        """Send one request; the images it returned, in order."""

    async def generate_call(self, plan: ImagePlan, call: ImageCall,
                            progress: ProgressCallback = no_progress) -> list[ImageResult]:
        delivered = await self.deliver(plan, call, progress)
        if len(delivered) < len(call.outputs):
            raise BadOutputError(f"{plan.model} returned {len(delivered)} image(s) for {len(call.outputs)} asked")
        progress(ProgressEvent(stage="downloading", message=f"writing {len(call.outputs)} image(s)"))
        results = []
        for i, (item, path) in enumerate(zip(delivered, call.outputs)):
            image = decode(item.data, f"{self.display_name} ({plan.model})")
            try:
                rendered = await asyncio.to_thread(save_image, image, path, plan.width, plan.height)
            except OSError as exc:  # delivered, so paid: the caller keeps the charge (and what was written)
                raise write_failed(f"{self.display_name} ({plan.model})", path, list(call.outputs[i:]), results,
                                   plan.cost_per_image, exc) from exc
            seed = item.seed if item.seed is not None else (call.seed + i if call.seed is not None else None)
            results.append(ImageResult(path=path, width=plan.width, height=plan.height, provider=self.name,
                                       model=plan.model, index=plan.outputs.index(path), seed=seed,
                                       cost=plan.cost_per_image, rendered=rendered,
                                       revised_prompt=item.revised_prompt))
        return results
