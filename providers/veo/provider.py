"""Google Veo 3.1: one provider ("veo") over two deployments, the Gemini API and Vertex AI (google-genai 2.34).

`prepare` (providers/veo/plan.py) turns a request into a plan once, against the catalog. `submit` starts the first
call and returns its operation name, the job id the render queue saves at once. `wait` follows it; a plan of
several calls (a long scene: a base clip plus extensions; or extensions of the user's clip) submits each next call
when the previous one is done, recording every operation beside the output (providers/veo/chain.py), so a resumed
render follows what was already submitted and starts only the calls that never were. Polls run every
settings.veo_poll_interval_s (10 s). Veo operations cannot be cancelled at the service: cancel stops following the
job and submits nothing more.
"""
from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from core.config import Settings
from core.errors import (BadOutputError, CancelledError, ImageAIError, InvalidRequestError, TransientError,
                         UnavailableError)
from core.render.contract import (Capabilities, ProgressCallback, ProgressEvent, RenderPlan, RenderRequest,
                                  RenderResult, VideoProvider, no_progress)
from core.video.leftovers import owner_tag
from core.video.media import check_playable_clip
from providers.veo import catalog, chain
from providers.veo.plan import VeoOptions, VeoPlan, prepare

if TYPE_CHECKING:  # the backends (httpx, google-genai) load on first use: listing providers stays cheap
    from providers.veo.backend import VeoBackend

log = logging.getLogger(__name__)


class VeoProvider(VideoProvider):
    name = "veo"
    options_model = VeoOptions

    def __init__(self, settings: Optional[Settings] = None, *, credentials: Any = None):
        self.settings = settings or Settings()
        self.poll_interval = self.settings.veo_poll_interval_s
        self.credentials = credentials  # Vertex with a project: google-auth credentials (None: ADC)
        self._backends: dict[str, VeoBackend] = {}
        self._cancelled: set[str] = set()

    def backend(self, deployment: str) -> "VeoBackend":
        if deployment not in self._backends:
            if deployment == "gemini":
                from providers.veo.gemini_backend import GeminiBackend as cls
            elif deployment == "vertex":
                from providers.veo.vertex_backend import VertexBackend as cls  # type: ignore[assignment]
            else:
                raise InvalidRequestError(f"Veo has no {deployment!r} deployment", field="deployment",
                                          allowed=catalog.DEPLOYMENTS)
            self._backends[deployment] = cls(self.settings, credentials=self.credentials)
        return self._backends[deployment]

    # ---- what it offers ----
    def capabilities(self) -> Capabilities:
        return Capabilities(name=self.name, display_name="Veo 3.1", models=catalog.models(),
                            deployments=list(catalog.DEPLOYMENTS), needs_key="google")

    def deployment_status(self) -> dict[str, Optional[str]]:
        return {dep: self.backend(dep).unavailable_reason() for dep in catalog.DEPLOYMENTS}

    def unavailable_reason(self) -> Optional[str]:
        reasons = self.deployment_status()
        if any(r is None for r in reasons.values()):
            return None
        return "; ".join(dict.fromkeys(r for r in reasons.values() if r))  # each reason names its deployment

    # ---- the contract ----
    def prepare(self, request: RenderRequest) -> RenderPlan:
        return prepare(request)

    def check_available(self, plan: RenderPlan) -> None:
        reason = self.backend(plan.deployment or catalog.DEFAULT_DEPLOYMENT).unavailable_reason()
        if reason:
            raise UnavailableError(reason)

    @staticmethod
    def _veo(plan: RenderPlan) -> VeoPlan:
        if not isinstance(plan.detail, VeoPlan):  # a plan restored from elsewhere: make it again
            plan.detail = prepare(plan.request).detail
        return plan.detail

    async def submit(self, plan: RenderPlan, progress: ProgressCallback = no_progress) -> str:
        veo = self._veo(plan)
        backend = self.backend(veo.deployment)
        progress(ProgressEvent(stage="uploading", message="sending the prompt and images to Veo"))
        video = backend.user_video(backend.types(), veo.extend_video) if veo.mode == "extend" else None
        name = await backend.start(veo, 0, video)
        if veo.calls > 1:
            chain.save(veo.chain_file, chain.ChainState(job=name, ops=[name]))
        progress(ProgressEvent(stage="submitted", message=f"Veo operation {name}"))
        return name

    async def wait(self, job_id: str, plan: RenderPlan, progress: ProgressCallback = no_progress) -> RenderResult:
        veo = self._veo(plan)
        backend = self.backend(veo.deployment)
        state = chain.load(veo.chain_file, job_id) if veo.calls > 1 else chain.ChainState(job=job_id, ops=[job_id])
        index = 0
        while True:
            op = await self._follow(backend, job_id, state.ops[index], index, veo, progress)
            video = backend.video_of(op)
            if index + 1 >= veo.calls:
                break
            index += 1
            if index < len(state.ops):
                continue  # submitted before a restart: follow it
            self._check_cancel(job_id)
            name = await backend.start(veo, index, backend.video_input(backend.types(), video))
            state.ops.append(name)
            chain.save(veo.chain_file, state)
            progress(ProgressEvent(stage="submitted", fraction=index / veo.calls,
                                   message=f"Veo extension {index} of {veo.extensions}: operation {name}"))
        self._check_cancel(job_id)
        progress(ProgressEvent(stage="downloading", message="downloading the clip"))
        info = await self._save(backend, video, veo)
        chain.clear(veo.chain_file)
        progress(ProgressEvent(stage="done", fraction=1.0, message=str(veo.output_path)))
        return RenderResult(clip_path=veo.output_path, duration=info.duration, width=info.width, height=info.height,
                            fps=info.fps, has_audio=info.has_audio, cost=veo.cost(), remote_job_id=job_id,
                            seed=veo.seed)

    def _check_cancel(self, job_id: str) -> None:
        if job_id in self._cancelled:
            raise CancelledError(f"Veo job {job_id} was cancelled")

    async def _follow(self, backend: "VeoBackend", job_id: str, name: str, index: int, veo: VeoPlan,
                      progress: ProgressCallback) -> Any:
        what = "the clip" if veo.calls == 1 else (f"call {index + 1} of {veo.calls}")
        while True:
            self._check_cancel(job_id)
            op = await backend.poll(name)
            if op.done:
                return op
            progress(ProgressEvent(stage="running", fraction=index / veo.calls, message=f"Veo is rendering {what}"))
            await asyncio.sleep(self.poll_interval)

    async def _save(self, backend: "VeoBackend", video: Any, veo: VeoPlan):
        """The clip into the output path through a temp file beside it, checked to play at the expected length."""
        dest = veo.output_path
        dest.parent.mkdir(parents=True, exist_ok=True)
        # tagged with this process, so the leftovers cleaner never removes it while we write it
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.{owner_tag()}-", suffix=".part", dir=dest.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            await backend.save(video, tmp)
            try:
                info = await asyncio.to_thread(check_playable_clip, tmp, None)
            except ImageAIError as exc:
                if backend.refetch_helps:  # a download cut short: fetching it again is free
                    raise TransientError(f"Veo: the downloaded clip is not playable ({exc})",
                                         not_created=False) from exc
                raise BadOutputError(f"Veo: the clip the service returned is not playable ({exc})",
                                     path=dest) from exc
            if abs(info.duration - veo.expected_seconds) > max(0.6, veo.expected_seconds * 0.15):
                raise BadOutputError(f"the Veo clip is {info.duration:.2f} s, expected about "
                                     f"{veo.expected_seconds:.2f} s", path=dest)
            os.replace(tmp, dest)
            return info.model_copy(update={"path": dest})
        finally:
            if tmp.exists():
                tmp.unlink()

    async def cancel(self, job_id: str, plan: Optional[RenderPlan] = None) -> None:
        # google-genai offers no cancel for Veo operations: stop following and submit no further extension
        self._cancelled.add(job_id)
        log.info("Veo job %s: the service cannot cancel a running operation; it is no longer followed", job_id)

    async def generate(self, request: RenderRequest, progress: ProgressCallback = no_progress) -> RenderResult:
        """Prepare, submit and follow one render (scripts; the render queue drives the steps itself)."""
        plan = self.prepare(request)
        self.check_available(plan)
        return await self.wait(await self.submit(plan, progress), plan, progress)

    async def aclose(self) -> None:
        for backend in self._backends.values():
            try:
                await backend.aclose()
            except Exception as exc:  # closing must never hide the error that ended a run
                log.warning("closing the Veo %s client: %s", backend.deployment, exc)
