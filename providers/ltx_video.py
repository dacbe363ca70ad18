"""LTX-Video: one provider ("ltx-video") over four deployments (fal, replicate, local, comfyui).

`prepare` (providers/ltx/plan.py) turns a request into a plan once, against the catalog (providers/ltx/catalog.py);
the backend of the plan's deployment then submits and follows it. Backends receive the LTX plan and never import
this module back.
"""
from __future__ import annotations

import logging
from typing import Optional

from core.config import Settings
from core.errors import ImageAIError, InvalidRequestError, UnavailableError
from core.render.contract import (Capabilities, ProgressCallback, RenderPlan, RenderRequest, RenderResult,
                                  VideoProvider, no_progress)
from core.video.ids import DEPLOYMENTS
from providers.lazy import load_target
from providers.ltx import catalog
from providers.ltx.backend import LTXBackend
from providers.ltx.plan import LTXGenerationConfig, LTXOptions, LTXPlan, prepare  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)

BACKENDS = {
    "fal": "providers.ltx.fal_backend:FalBackend",
    "replicate": "providers.ltx.replicate_backend:ReplicateBackend",
    "local": "providers.ltx.local_backend:LocalBackend",
    "comfyui": "providers.ltx.comfyui_backend:ComfyUIBackend",
}


def _load_backend(deployment: str, settings: Settings) -> LTXBackend:
    target = BACKENDS.get(deployment)
    if target is None:
        raise InvalidRequestError(f"unknown deployment {deployment!r}", field="deployment", allowed=list(BACKENDS))
    return load_target(target, f"the LTX-Video {deployment} deployment")(settings)


class LTXVideoProvider(VideoProvider):
    name = "ltx-video"
    options_model = LTXOptions

    def __init__(self, settings: Optional[Settings] = None):
        self.settings = settings or Settings()
        self.poll_interval = self.settings.poll_interval_s
        self._backends: dict[str, LTXBackend] = {}

    def backend(self, deployment: str) -> LTXBackend:
        if deployment not in self._backends:
            self._backends[deployment] = _load_backend(deployment, self.settings)
        return self._backends[deployment]

    # ---- what it offers ----
    def capabilities(self) -> Capabilities:
        models, seen = [], set()
        for dep in ("fal", "replicate", "local", "comfyui"):
            for info in catalog.models_for(dep):
                if info.id not in seen:
                    seen.add(info.id)
                    models.append(info)
        return Capabilities(name=self.name, display_name="LTX-Video", models=models, deployments=list(DEPLOYMENTS),
                            needs_key="fal")

    def deployment_status(self) -> dict[str, Optional[str]]:
        out: dict[str, Optional[str]] = {}
        for dep in DEPLOYMENTS:
            try:
                out[dep] = self.backend(dep).unavailable_reason()
            except ImageAIError as exc:
                out[dep] = str(exc)
        return out

    def unavailable_reason(self) -> Optional[str]:
        # stop at the first deployment that can run: the cloud ones are cheap to check, local imports torch
        reasons = []
        for dep in DEPLOYMENTS:
            try:
                reason = self.backend(dep).unavailable_reason()
            except ImageAIError as exc:
                reason = str(exc)
            if reason is None:
                return None
            reasons.append(f"{dep}: {reason}")
        return "; ".join(reasons)

    # ---- the contract ----
    def prepare(self, request: RenderRequest) -> RenderPlan:
        plan = prepare(request)
        self.backend(plan.deployment).check(plan.detail)
        return plan

    def check_available(self, plan: RenderPlan) -> None:
        reason = self.backend(plan.deployment).unavailable_reason()
        if reason:
            raise UnavailableError(reason)

    def _ltx(self, plan: RenderPlan) -> LTXPlan:
        if not isinstance(plan.detail, LTXPlan):  # a plan restored from elsewhere: make it again
            plan.detail = prepare(plan.request).detail
        return plan.detail

    async def submit(self, plan: RenderPlan, progress: ProgressCallback = no_progress) -> str:
        return await self.backend(plan.deployment).submit(self._ltx(plan), progress)

    async def wait(self, job_id: str, plan: RenderPlan, progress: ProgressCallback = no_progress) -> RenderResult:
        return await self.backend(plan.deployment).wait(job_id, self._ltx(plan), progress)

    async def cancel(self, job_id: str, plan: Optional[RenderPlan] = None) -> None:
        candidates = [plan.deployment] if plan is not None and plan.deployment else ["fal", "replicate"]
        for dep in candidates:
            try:
                await self.backend(dep).cancel(job_id)
            except ImageAIError as exc:
                log.info("cancel of %s on %s: %s", job_id, dep, exc)

    async def generate(self, request: RenderRequest, progress: ProgressCallback = no_progress) -> RenderResult:
        """Prepare, submit and follow one render (scripts; the render queue drives the steps itself)."""
        plan = self.prepare(request)
        self.check_available(plan)
        return await self.wait(await self.submit(plan, progress), plan, progress)

    async def aclose(self) -> None:
        for b in self._backends.values():
            try:
                await b.aclose()
            except Exception as exc:  # closing must never hide the error that ended a run
                log.warning("closing the %s backend: %s", b.deployment, exc)
