"""LTX on Replicate through the replicate client: create a prediction (no `Prefer: wait`, which can hand back a
"processing" prediction as if it were final), poll it ourselves at the configured interval, cancel, resume by
prediction id, uploads through /v1/files, download into the project.

Service address: settings.replicate_url / IMAGEAI_REPLICATE_URL is the API root (plain http allowed).
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import httpx

from core.errors import CancelledError, ImageAIError, TransientError, UnavailableError
from core.secrets import get_key
from providers.base import ProgressCallback, ProgressEvent, RenderResult, no_progress
from providers.ltx import catalog, errors_map, transfer
from providers.ltx.cloud_backend import CloudBackend

if TYPE_CHECKING:
    from providers.ltx.plan import LTXPlan

log = logging.getLogger(__name__)
SERVICE = "replicate"
# our resolution ids -> Replicate's LTX-2 values
RESOLUTION_VALUES = {"1080p": "1080p", "1440p": "2k", "2160p": "4k"}

try:
    import replicate
    from replicate.exceptions import ReplicateError
except ImportError as _exc:  # pragma: no cover - only where the SDK is absent
    replicate = None
    ReplicateError = None  # type: ignore[assignment,misc]
    _IMPORT_ERROR: Optional[ImportError] = _exc
else:
    _IMPORT_ERROR = None


class _RetryAfterSpy(httpx.AsyncBaseTransport):
    """Remembers the Retry-After of the last 429 (ReplicateError drops the response headers)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.retry_after: Optional[str] = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if response.status_code == 429:
            self.retry_after = response.headers.get("retry-after")
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class ReplicateBackend(CloudBackend):
    deployment = "replicate"

    def __init__(self, settings):
        super().__init__(settings)
        self._client: Optional[Any] = None
        self._spy = _RetryAfterSpy()

    def unavailable_reason(self) -> Optional[str]:
        if replicate is None:
            return f"the replicate package is not installed (pip install replicate): {_IMPORT_ERROR}"
        if not get_key("replicate"):
            return "Replicate needs an API token: set REPLICATE_API_TOKEN or save a key for 'replicate'"
        return None

    def _rep(self):
        reason = self.unavailable_reason()
        if reason:
            raise UnavailableError(reason)
        if self._client is None:
            self._client = replicate.Client(api_token=get_key("replicate"),
                                            base_url=self.settings.effective("replicate_url") or None,
                                            transport=self._spy)
        return self._client

    def _map(self, exc: BaseException, *, on_submit: bool = False) -> ImageAIError:
        if isinstance(exc, ImageAIError):
            return exc
        if ReplicateError is not None and isinstance(exc, ReplicateError):
            status = exc.status or 500
            headers = {"Retry-After": self._spy.retry_after} if status == 429 and self._spy.retry_after else None
            message = exc.detail or exc.title or str(exc)
            return errors_map.from_status(SERVICE, status, message, headers=headers, on_submit=on_submit,
                                          ingress=status in (502, 503))
        if isinstance(exc, httpx.TransportError):
            return errors_map.from_transport(SERVICE, exc, on_submit=on_submit)
        if isinstance(exc, (ValueError, KeyError, TypeError)):  # malformed JSON, or a reply the client rejects
            return errors_map.malformed(SERVICE, "a request", on_submit=on_submit)
        return TransientError(f"{SERVICE}: {type(exc).__name__}: {exc}", not_created=False)

    # ---- inputs ----
    async def _upload(self, path: Path) -> str:
        try:
            f = await self._rep().files.async_create(Path(path))
            return f.urls["get"]
        except Exception as exc:
            raise self._map(exc, on_submit=True) from exc

    async def _url(self, path: Optional[Path]) -> Optional[str]:
        return None if path is None else await transfer.to_url(Path(path), self._upload)

    async def _input(self, plan) -> dict:
        c = plan.config
        schema, mode = plan.schema, plan.mode
        if schema == "r_ltxv":
            args: dict = {"prompt": plan.prompt, "length": catalog.frames_for(c.duration, 24, snap8=True),
                          "aspect_ratio": c.aspect_ratio, "target_size": 640, "model": "0.9.1"}
            if c.negative_prompt:
                args["negative_prompt"] = c.negative_prompt
            if c.guidance_scale is not None:
                args["cfg"] = c.guidance_scale
            if c.num_inference_steps is not None:
                args["steps"] = c.num_inference_steps
            if c.seed is not None:
                args["seed"] = c.seed
            if plan.start_image is not None:
                args["image"] = await self._url(plan.start_image)
            return args
        args = {"prompt": plan.prompt, "duration": int(c.duration),
                "resolution": RESOLUTION_VALUES.get(c.resolution, c.resolution), "fps": int(c.fps),
                "generate_audio": bool(c.include_audio)}
        if schema in ("r_ltx23", "r_ltx23_pro", "r_ltx25"):
            args["aspect_ratio"] = c.aspect_ratio
        if schema in ("r_ltx23", "r_ltx23_pro"):
            args["camera_motion"] = plan.camera_lora or "none"
        if plan.start_image is not None:
            args["image"] = await self._url(plan.start_image)
        if mode == "first-last-frame":
            args["last_frame_image"] = await self._url(c.end_image)
        if schema == "r_ltx23_pro":
            args["task"] = {"extend": "extend", "video-to-video": "retake"}.get(
                mode, "image_to_video" if plan.start_image is not None else "text_to_video")
            if mode == "extend":
                args["video"] = await self._upload(c.extend_video)
            if mode == "video-to-video":
                args["video"] = await self._upload(c.source_video)
                args["retake_start_time"] = 0
                args["retake_duration"] = round(plan.source_seconds or c.duration, 2)
                args.pop("duration", None)
        return args

    # ---- the job ----
    async def submit(self, plan: "LTXPlan", progress: ProgressCallback = no_progress) -> str:
        client = self._rep()
        progress(ProgressEvent(stage="uploading", message="preparing inputs"))
        payload = await self._input(plan)
        extra = {}
        if plan.config.webhook_url:
            extra = {"webhook": plan.config.webhook_url, "webhook_events_filter": ["completed"]}
        # Replicate never retries a POST; a 429 it answered means no prediction exists, which the error says
        # (not_created) so the render queue may submit again after Retry-After
        try:
            prediction = await client.models.predictions.async_create(model=plan.endpoint, input=payload, **extra)
        except Exception as exc:
            raise self._map(exc, on_submit=True) from exc
        progress(ProgressEvent(stage="submitted", message=f"replicate prediction {prediction.id}"))
        return prediction.id

    async def wait(self, job_id: str, plan: "LTXPlan", progress: ProgressCallback = no_progress) -> RenderResult:
        client = self._rep()
        seen_lines = 0
        # a failed poll raises at once: the render queue's retry policy follows the job again (core/render/retry.py)
        while True:
            if job_id in self._cancelled:
                raise CancelledError(f"replicate prediction {job_id} was cancelled")
            try:
                prediction = await client.predictions.async_get(job_id)
            except Exception as exc:
                err = self._map(exc)
                if "aborted" in str(exc):
                    # terminal (replicate 1.0.7 cannot even parse it): following it again changes nothing
                    err = TransientError(f"replicate prediction {job_id} was aborted by the service")
                    err.retryable = False
                    err.job_failed = True
                    raise err from exc
                raise err from exc
            status = prediction.status
            if status == "starting":
                progress(ProgressEvent(stage="queued", message="starting"))
            elif status == "processing":
                lines = (prediction.logs or "").splitlines()
                pct = prediction.progress.percentage if prediction.progress else None
                for line in lines[seen_lines:]:  # logs grow on every poll: report each line once
                    progress(ProgressEvent(stage="running", message=line,
                                           fraction=min(1.0, pct) if pct is not None else None))
                seen_lines = max(seen_lines, len(lines))
            elif status == "succeeded":
                break
            elif status == "canceled":
                raise CancelledError(f"replicate prediction {job_id} was cancelled")
            elif status == "failed":
                message = str(prediction.error or "the prediction failed")
                err = errors_map.from_status(SERVICE, 422 if errors_map.is_content(message) else 500, message)
                err.retryable = False  # a failed prediction stays failed
                err.job_failed = True  # the service's final word (core/render/outcome.py)
                raise err
            await asyncio.sleep(self.poll_interval)
        output = prediction.output
        url = output[-1] if isinstance(output, list) and output else output
        progress(ProgressEvent(stage="downloading", message="downloading the clip"))
        try:  # the prediction succeeded (and is paid for): whatever fails from here is fetched again by its id
            info = await self.download_result(SERVICE, url, plan, field="output")
        except ImageAIError as exc:
            exc.job_finished = True
            raise
        seconds = round(info.duration) if plan.expected_duration else plan.billed_seconds
        progress(ProgressEvent(stage="done", fraction=1.0, message=str(plan.config.output_path)))
        return RenderResult(clip_path=info.path, duration=info.duration, width=info.width, height=info.height,
                            fps=info.fps, has_audio=info.has_audio, cost=plan.cost(seconds), remote_job_id=job_id,
                            seed=plan.config.seed)

    async def _cancel_quietly(self, job_id: str) -> None:
        try:
            await self._rep().predictions.async_cancel(job_id)
        except Exception as exc:  # an ended prediction cannot be cancelled; that is fine
            log.info("replicate cancel of %s: %s", job_id, self._map(exc))

    async def cancel(self, job_id: str) -> None:
        self._cancelled.add(job_id)
        await self._cancel_quietly(job_id)

    async def aclose(self) -> None:
        await self._close_downloads()
        if self._client is not None:
            try:
                await self._client._async_client.aclose()
            except Exception as exc:  # closing must not hide the result
                log.debug("closing replicate client: %s", exc)
        self._client = None

