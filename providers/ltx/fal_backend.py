"""LTX on fal.ai through fal-client's queue API: submit, poll (queue position, logs without duplicates), result,
cancel, resume by request id, uploads through fal storage, download into the project.

Service address: settings.fal_url / IMAGEAI_FAL_URL points the queue, the synchronous run and storage at one base
URL (plain http allowed). fal-client 1.0.3 has no constructor argument for its hosts, only module constants read at
call time (RUN_URL_FORMAT, QUEUE_URL_FORMAT, REST_URL, CDN_URL), so they are set here; tests/test_ltx_fal.py pins
that they exist.
"""
from __future__ import annotations

import asyncio
import logging
import re
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import httpx

from core.errors import (CancelledError, ImageAIError, InvalidRequestError, TransientError,
                         UnavailableError)
from core.redaction import redact
from core.secrets import get_key
from core.video.render_settings import frame_size
from providers.base import ProgressCallback, ProgressEvent, RenderResult, no_progress
from providers.ltx import catalog, errors_map, transfer
from providers.ltx.cloud_backend import CloudBackend

if TYPE_CHECKING:
    from providers.ltx.plan import LTXPlan

log = logging.getLogger(__name__)
SERVICE = "fal"
REFERENCE_STRENGTH = 0.3       # references are soft conditioning, the start frame stays in charge

try:  # imported lazily by the provider, so a missing SDK only disables this deployment
    import fal_client
    import fal_client.client as _fc
    from asyncstdlib import cached_property as _async_cached_property
except ImportError as _exc:  # pragma: no cover - exercised only where fal-client is absent
    fal_client = None
    _IMPORT_ERROR: Optional[ImportError] = _exc
else:
    _IMPORT_ERROR = None
    _DEFAULT_URLS = {"RUN_URL_FORMAT": _fc.RUN_URL_FORMAT, "QUEUE_URL_FORMAT": _fc.QUEUE_URL_FORMAT,
                     "REST_URL": _fc.REST_URL, "CDN_URL": _fc.CDN_URL}


def apply_base_url(base: Optional[str]) -> None:
    """Point every fal address (queue, run, storage) at `base`, or back at fal's own hosts for None."""
    if base:
        b = base.rstrip("/")
        urls = {"RUN_URL_FORMAT": b + "/", "QUEUE_URL_FORMAT": b + "/", "REST_URL": b, "CDN_URL": b}
    else:
        urls = _DEFAULT_URLS
    for name, value in urls.items():
        setattr(_fc, name, value)


class _SubmitMayExist(Exception):
    """A POST whose connection broke after the request went out: the job may exist, so fal-client must not
    resend it (it retries every transport error, POST included). Not an httpx error, so it is not retried."""


class _GuardTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self.inner.handle_async_request(request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.LocalProtocolError):
            raise  # never reached the service (a bad header is refused before a byte is sent): safe to retry
        except httpx.TransportError as exc:
            if request.method == "POST":
                raise _SubmitMayExist(f"{type(exc).__name__}: {exc}") from exc
            raise

    async def aclose(self) -> None:
        await self.inner.aclose()


if fal_client is not None:
    class _FalClient(fal_client.AsyncClient):
        """fal-client's AsyncClient whose HTTP client never resends a POST that may have been accepted."""

        @_async_cached_property(asyncio.Lock)
        async def _client(self) -> httpx.AsyncClient:
            auth = await self._auth
            # the one cached TLS context (transfer.ssl_context): httpx builds a new one per client otherwise, which
            # reads the CA bundle holding the interpreter lock (~65 ms each, a stall of the app's window)
            inner = httpx.AsyncHTTPTransport(verify=transfer.ssl_context())
            return httpx.AsyncClient(
                transport=_GuardTransport(_fc.AsyncBackupDomainTransport(transport=inner)),
                headers={"Authorization": auth.header_value, "User-Agent": _fc.USER_AGENT},
                timeout=self.default_timeout)

        @asynccontextmanager
        async def _cdn_client(self):
            # fal-client opens one client per upload: with the cached TLS context, not a new one each time
            async with httpx.AsyncClient(headers={"User-Agent": _fc.USER_AGENT}, timeout=self.default_timeout,
                                         verify=transfer.ssl_context()) as client:
                yield client


def _map(exc: BaseException, *, on_submit: bool = False) -> ImageAIError:
    err = _map_one(exc, on_submit=on_submit)
    if _sdk_retried(exc):
        # fal-client already tried this request up to 10 times with backoff: the queue's policy must not multiply
        # those tries (core/render/retry.py), so the error is final here
        err.retryable = False
    return err


def _sdk_retried(exc: BaseException) -> bool:
    if isinstance(exc, _SubmitMayExist):
        return False
    if isinstance(exc, httpx.TransportError):
        return True
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    return status in (408, 409, 429)


def _map_one(exc: BaseException, *, on_submit: bool = False) -> ImageAIError:
    if isinstance(exc, ImageAIError):
        return exc
    if fal_client is not None and isinstance(exc, _fc.FalClientHTTPError):
        ingress = exc.status_code in (502, 503, 504) and not any(
            k.lower() == "x-fal-request-id" for k in exc.response_headers)
        return errors_map.from_status(SERVICE, exc.status_code, errors_map.detail_text(exc.message),
                                      headers=exc.response_headers, error_type=exc.error_type,
                                      on_submit=on_submit, ingress=ingress)
    if isinstance(exc, httpx.HTTPStatusError):
        return errors_map.from_status(SERVICE, exc.response.status_code, exc.response.text[:300],
                                      headers=dict(exc.response.headers), on_submit=on_submit)
    if isinstance(exc, _SubmitMayExist):
        return TransientError(f"{SERVICE}: the connection broke after the request was sent ({redact(str(exc))}); the job "
                              "may exist, so it is not sent again", not_created=False)
    if isinstance(exc, httpx.TransportError):
        return errors_map.from_transport(SERVICE, exc, on_submit=on_submit)
    if isinstance(exc, (ValueError, KeyError, TypeError)):  # malformed JSON or a missing field
        return errors_map.malformed(SERVICE, "a request", on_submit=on_submit)
    return TransientError(redact(f"{SERVICE}: {type(exc).__name__}: {exc}"), not_created=False)


class FalBackend(CloudBackend):
    deployment = "fal"

    def __init__(self, settings):
        super().__init__(settings)
        self._client: Optional[Any] = None
        self._endpoints: dict[str, str] = {}  # request id -> endpoint, for cancel

    # ---- availability ----
    def unavailable_reason(self) -> Optional[str]:
        if fal_client is None:
            return f"fal-client is not installed (pip install fal-client): {_IMPORT_ERROR}"
        if not get_key("fal"):
            return "Fal needs an API key: set FAL_KEY or save a key for 'fal' in the settings"
        return None

    def _fal(self):
        reason = self.unavailable_reason()
        if reason:
            raise UnavailableError(reason)
        if self._client is None:
            apply_base_url(self.settings.effective("fal_url"))
            self._client = _FalClient(key=get_key("fal"), default_timeout=120.0)
        return self._client

    # ---- uploads ----
    async def _upload(self, path: Path) -> str:
        try:
            return await self._fal().upload_file(path)
        except Exception as exc:
            raise _map(exc, on_submit=True) from exc

    async def _url(self, path: Optional[Path]) -> Optional[str]:
        return None if path is None else await transfer.to_url(Path(path), self._upload)

    # ---- request bodies, one per endpoint family ----
    async def _arguments(self, plan) -> dict:
        c = plan.config
        mode, schema = plan.mode, plan.schema
        if schema in ("ltx2", "ltx23", "ltx25"):
            if mode == "extend":
                return {"video_url": await self._upload(c.extend_video), "prompt": plan.prompt,
                        "duration": int(c.duration), "mode": "end" if c.extend_direction == "forward" else "start"}
            if mode == "video-to-video":
                return {"video_url": await self._upload(c.source_video), "prompt": plan.prompt, "start_time": 0,
                        "duration": round(plan.source_seconds or c.duration, 2),
                        "retake_mode": "replace_audio_and_video" if c.include_audio else "replace_video"}
            args = {"prompt": plan.prompt, "duration": int(c.duration), "resolution": c.resolution,
                    "fps": int(c.fps), "generate_audio": bool(c.include_audio)}
            if schema in ("ltx23", "ltx25"):
                args["aspect_ratio"] = c.aspect_ratio
            if schema == "ltx25" and plan.camera_lora:
                args["camera_motion"] = plan.camera_lora  # LTX-2.5's native field takes the camera-LoRA names
            if plan.start_image is not None:
                args["image_url"] = await self._url(plan.start_image)
            if mode == "first-last-frame":
                args["end_image_url"] = await self._url(c.end_image)
            return args
        if schema == "ltx2_19b":
            w, h = frame_size(c.resolution, c.aspect_ratio)
            args = {"prompt": plan.prompt, "num_frames": catalog.frames_for(c.duration, c.fps, max_frames=481),
                    "fps": int(c.fps), "generate_audio": bool(c.include_audio),
                    "video_size": {"width": w, "height": h}}
            if plan.camera_lora:
                args["camera_lora"] = plan.camera_lora
                args["camera_lora_scale"] = plan.camera_scale
            self._common_params(args, c, guidance="guidance_scale", steps="num_inference_steps")
            if c.lora_path:
                args["loras"] = [{"path": await self._lora_url(c.lora_path), "scale": c.lora_scale}]
            if plan.start_image is not None:
                args["image_url"] = await self._url(plan.start_image)
            if mode == "first-last-frame":
                args["end_image_url"] = await self._url(c.end_image)
            if mode == "extend":
                args["video_url"] = await self._upload(c.extend_video)
                args["extend_direction"] = c.extend_direction
            if mode == "video-to-video":
                args["video_url"] = await self._upload(c.source_video)
                args["match_video_length"] = True
            return args
        if schema == "ltxv13b":
            return await self._ltxv13b(plan)
        if schema == "ltxv2b":
            args = {"prompt": plan.prompt}
            self._common_params(args, c, guidance="guidance_scale", steps="num_inference_steps")
            if plan.start_image is not None:
                args["image_url"] = await self._url(plan.start_image)
            return args
        raise InvalidRequestError(f"no fal request builder for {schema!r}", field="model")

    @staticmethod
    def _common_params(args: dict, c, *, guidance: Optional[str], steps: Optional[str]) -> None:
        if c.seed is not None:
            args["seed"] = c.seed
        if c.negative_prompt:
            args["negative_prompt"] = c.negative_prompt
        if guidance and c.guidance_scale is not None:
            args[guidance] = c.guidance_scale
        if steps and c.num_inference_steps is not None:
            args[steps] = c.num_inference_steps

    async def _lora_url(self, lora: str) -> str:
        return lora if lora.startswith("https://") else await self._upload(Path(lora))

    async def _ltxv13b(self, plan) -> dict:
        c = plan.config
        frames = catalog.frames_for(c.duration, c.fps, snap8=True)
        args = {"prompt": plan.prompt, "resolution": c.resolution, "aspect_ratio": c.aspect_ratio,
                "num_frames": frames, "frame_rate": int(c.fps)}
        self._common_params(args, c, guidance=None, steps="first_pass_num_inference_steps")
        if c.lora_path:
            args["loras"] = [{"path": await self._lora_url(c.lora_path), "scale": c.lora_scale}]
        mode = plan.mode

        def frame_at(seconds: float) -> int:
            return min(int(round(seconds * c.fps / 8)) * 8, frames - 1)

        if mode == "extend":
            src = plan.source_seconds or 0.0
            src_frames = catalog.frames_for(src, c.fps, snap8=True)
            args["num_frames"] = catalog.frames_for(src + c.duration, c.fps, snap8=True)
            start = 0 if c.extend_direction == "forward" else args["num_frames"] - src_frames
            args["video"] = {"video_url": await self._upload(c.extend_video), "start_frame_num": max(0, start)}
            return args
        images = []
        if plan.start_image is not None:
            images.append({"image_url": await self._url(plan.start_image), "start_frame_num": 0, "strength": 1.0})
        if mode == "first-last-frame":
            images.append({"image_url": await self._url(c.end_image), "start_frame_num": frames - 1,
                           "strength": 1.0})
        for seconds, img in c.keyframes:
            images.append({"image_url": await self._url(img), "start_frame_num": frame_at(seconds), "strength": 1.0})
        for ref in plan.references:
            images.append({"image_url": await self._url(ref), "start_frame_num": 0, "strength": REFERENCE_STRENGTH})
        if mode == "video-to-video":
            args["videos"] = [{"video_url": await self._upload(c.source_video), "start_frame_num": 0,
                               "strength": 1.0, "conditioning_type": "rgb"}]
        if plan.endpoint.endswith("/multiconditioning"):
            args["images"] = images
        elif images:
            args["image_url"] = images[0]["image_url"]
        return args

    # ---- the job ----
    async def submit(self, plan: "LTXPlan", progress: ProgressCallback = no_progress) -> str:
        client = self._fal()
        progress(ProgressEvent(stage="uploading", message="preparing inputs"))
        arguments = await self._arguments(plan)
        webhook = plan.config.webhook_url
        # fal-client itself retries 429s and ingress errors (no job was made); anything else is reported, and the
        # render queue repeats a submit only when the error says the job was not created
        try:
            handle = await client.submit(plan.endpoint, arguments, webhook_url=webhook)
        except Exception as exc:
            raise _map(exc, on_submit=True) from exc
        self._endpoints[handle.request_id] = plan.endpoint
        progress(ProgressEvent(stage="submitted", message=f"fal request {handle.request_id}"))
        return handle.request_id

    async def wait(self, job_id: str, plan: "LTXPlan", progress: ProgressCallback = no_progress) -> RenderResult:
        client = self._fal()
        self._endpoints[job_id] = plan.endpoint
        handle = await client.get_handle(plan.endpoint, job_id)
        seen_logs: set[tuple] = set()
        # a failed poll raises at once: the render queue's retry policy follows the job again (core/render/retry.py)
        while True:
            if job_id in self._cancelled:
                raise CancelledError(f"fal request {job_id} was cancelled")
            try:
                status = await handle.status(with_logs=True)
            except Exception as exc:
                if job_id in self._cancelled:
                    raise CancelledError(f"fal request {job_id} was cancelled") from exc
                raise _map(exc) from exc
            if isinstance(status, _fc.Queued):
                progress(ProgressEvent(stage="queued", queue_position=status.position,
                                       message=f"position {status.position} in the fal queue"))
            else:
                self._report_logs(getattr(status, "logs", None), seen_logs, progress)
            if isinstance(status, _fc.Completed):
                if job_id in self._cancelled:
                    raise CancelledError(f"fal request {job_id} was cancelled")
                if status.error:
                    err = errors_map.from_status(SERVICE, 422 if status.error_type else 500, str(status.error),
                                                 error_type=status.error_type)
                    err.retryable = False  # the job ended in failure: following it again changes nothing
                    err.job_failed = True  # the service's final word (core/render/outcome.py)
                    raise err
                break
            await asyncio.sleep(self.poll_interval)
        # the job finished (and is paid for) at the service: whatever fails from here is fetched again by its id
        try:
            try:
                output = await handle.get(interval=self.poll_interval)
            except Exception as exc:
                if job_id in self._cancelled:
                    raise CancelledError(f"fal request {job_id} was cancelled") from exc
                err = _map(exc)
                status = getattr(getattr(exc, "response", None), "status_code", None)
                if status in (404, 410):
                    err.result_gone = True  # the service no longer has the result
                raise err from exc
            video = output.get("video") if isinstance(output, dict) else None
            url = video.get("url") if isinstance(video, dict) else video
            progress(ProgressEvent(stage="downloading", message="downloading the clip"))
            info = await self.download_result(SERVICE, url, plan, field="video.url")
        except ImageAIError as exc:
            exc.job_finished = True
            raise
        seconds = round(info.duration) if plan.expected_duration else plan.billed_seconds
        progress(ProgressEvent(stage="done", fraction=1.0, message=str(plan.config.output_path)))
        return RenderResult(clip_path=info.path, duration=info.duration, width=info.width, height=info.height,
                            fps=info.fps, has_audio=info.has_audio, cost=plan.cost(seconds), remote_job_id=job_id,
                            seed=output.get("seed") if isinstance(output.get("seed"), int) else plan.config.seed)

    @staticmethod
    def _report_logs(logs, seen: set, progress: ProgressCallback) -> None:
        # fal returns the whole log list on every poll: report each line once
        for item in logs or []:
            key = (item.get("timestamp"), item.get("message")) if isinstance(item, dict) else (None, str(item))
            if key in seen:
                continue
            seen.add(key)
            message = key[1] or ""
            m = re.search(r"(\d{1,3})\s*%", message)
            fraction = min(1.0, int(m.group(1)) / 100) if m else None
            progress(ProgressEvent(stage="running", message=message, fraction=fraction))

    async def _cancel_quietly(self, handle) -> None:
        try:
            await handle.cancel()
        except Exception as exc:  # a job that already ended cannot be cancelled; that is fine
            log.info("fal cancel: %s", _map(exc))

    async def cancel(self, job_id: str) -> None:
        client = self._fal()
        self._cancelled.add(job_id)
        endpoint = self._endpoints.get(job_id)
        # without the endpoint (a fresh process) try each LTX queue family: unknown ids answer 404
        for app in [endpoint] if endpoint else catalog.endpoint_families("fal"):
            try:
                handle = await client.get_handle(app, job_id)
                await handle.cancel()
                return
            except Exception as exc:
                log.info("fal cancel of %s on %s: %s", job_id, app, _map(exc))

    async def aclose(self) -> None:
        await self._close_downloads()
        if self._client is not None and "_client" in vars(self._client):
            try:
                http = await self._client._client
                await http.aclose()
            except Exception as exc:  # closing must not hide the result
                log.debug("closing fal client: %s", exc)
        self._client = None

