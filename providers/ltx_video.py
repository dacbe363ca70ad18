"""LTX-Video: one provider ("ltx-video") over four deployments (fal, replicate, local, comfyui).

LTXGenerationConfig is what a user sets; LTXVideoClient checks it against the catalog (providers/ltx/catalog.py)
before any network or GPU work and hands it to the backend of its deployment; LTXVideoProvider wraps both in the
provider contract the render queue, the CLI and the GUI use.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

from core.config import Settings
from core.errors import ImageAIError, InvalidRequestError, UnavailableError
from core.video.media import is_image, probe
from core.video.render_settings import DEPLOYMENTS, RenderSettings
from providers.base import (Capabilities, ProgressCallback, RenderRequest, RenderResult, VideoProvider,
                            no_progress)
from providers.ltx import camera, catalog
from providers.ltx.backend import LTXBackend
from providers.lazy import load_target

log = logging.getLogger(__name__)

BACKENDS = {
    "fal": "providers.ltx.fal_backend:FalBackend",
    "replicate": "providers.ltx.replicate_backend:ReplicateBackend",
    "local": "providers.ltx.local_backend:LocalBackend",
    "comfyui": "providers.ltx.comfyui_backend:ComfyUIBackend",
}


class LTXGenerationConfig(BaseModel):
    """Everything a user sets for one LTX render (ids, not labels; paths absolute)."""

    model_config = ConfigDict(extra="forbid")

    model: str = catalog.DEFAULT_MODEL
    deployment: str = catalog.DEFAULT_DEPLOYMENT
    prompt: str
    negative_prompt: Optional[str] = None
    resolution: str = "1080p"
    aspect_ratio: str = "16:9"
    fps: int = 25
    duration: float = 6.0
    include_audio: bool = True
    audio_prompt: Optional[str] = None
    start_image: Optional[Path] = None
    end_image: Optional[Path] = None
    keyframes: list[tuple[float, Path]] = Field(default_factory=list)
    reference_images: list[Path] = Field(default_factory=list)
    source_video: Optional[Path] = None
    extend_video: Optional[Path] = None
    extend_direction: str = "forward"
    camera_motion: str = "none"
    camera_speed: float = Field(1.0, ge=0.5, le=2.0)
    lora_path: Optional[str] = None
    lora_scale: float = 1.0
    seed: Optional[int] = None
    guidance_scale: Optional[float] = None
    num_inference_steps: Optional[int] = None
    webhook_url: Optional[str] = None
    output_path: Optional[Path] = None
    # local / ComfyUI only: exact size and frame count instead of resolution and duration
    width: Optional[int] = None
    height: Optional[int] = None
    frames: Optional[int] = None

    @classmethod
    def from_request(cls, req: RenderRequest) -> "LTXGenerationConfig":
        s: RenderSettings = req.settings
        return cls(
            model=s.model or catalog.DEFAULT_MODEL, deployment=s.deployment or catalog.DEFAULT_DEPLOYMENT,
            prompt=req.prompt, negative_prompt=req.negative_prompt, resolution=s.resolution,
            aspect_ratio=s.aspect_ratio, fps=s.fps, duration=s.duration, include_audio=s.include_audio,
            audio_prompt=s.audio_prompt, start_image=req.start_image, end_image=req.end_image,
            keyframes=list(req.keyframes), reference_images=list(req.reference_images),
            source_video=req.source_video, extend_video=req.extend_video, extend_direction=s.extend_direction,
            camera_motion=s.camera_motion, camera_speed=s.camera_speed, lora_path=s.lora_path,
            lora_scale=s.lora_scale, seed=s.seed, guidance_scale=s.guidance_scale,
            num_inference_steps=s.num_inference_steps, webhook_url=s.webhook_url, output_path=req.output_path,
            width=s.width, height=s.height, frames=s.frames)

    def generation_mode(self) -> str:
        if self.extend_video:
            return "extend"
        if self.source_video:
            return "video-to-video"
        if self.keyframes:
            return "multi-keyframe"
        if self.end_image:
            return "first-last-frame"
        if self.start_image:
            return "image-to-video"
        return "text-to-video"


@dataclass
class LTXPlan:
    """A validated config and what it turns into on its endpoint (the backends build requests from this)."""

    config: LTXGenerationConfig
    entry: dict
    mode: str
    endpoint: str
    prompt: str                      # with the camera wording and the audio prompt folded in where needed
    start_image: Optional[Path]      # the start image, or the reference standing in for it
    references: list[Path]           # references passed as conditioning (13B multiconditioning)
    camera_lora: Optional[str]
    camera_scale: Optional[float]
    source_seconds: Optional[float]  # length of the source / extended video
    expected_duration: Optional[float]
    min_duration: Optional[float]
    billed_seconds: float

    @property
    def schema(self) -> str:
        return self.entry["schema"]

    def cost(self, seconds: Optional[float] = None) -> float:
        c = self.config
        return catalog.price(self.entry, resolution=c.resolution, aspect_ratio=c.aspect_ratio, fps=c.fps,
                             seconds=self.billed_seconds if seconds is None else seconds, mode=self.mode)


def _check_image(path: Optional[Path], field: str) -> None:
    if path is None:
        return
    if not Path(path).is_file():
        raise InvalidRequestError(f"{path}: no such file; give an image file (PNG, JPEG or WebP)", field=field)
    if not is_image(Path(path)):
        raise InvalidRequestError(f"{Path(path).name} is not an image (allowed: PNG, JPEG, WebP)", field=field)


def _video_seconds(path: Optional[Path], field: str) -> Optional[float]:
    if path is None:
        return None
    if not Path(path).is_file():
        raise InvalidRequestError(f"{path}: no such file; give a video file (MP4, MOV or WebM)", field=field)
    try:
        info = probe(Path(path))
    except InvalidRequestError:
        raise InvalidRequestError(f"{Path(path).name} is not a video FFmpeg can read", field=field) from None
    if not info.has_video:
        raise InvalidRequestError(f"{Path(path).name} holds no video stream", field=field)
    return info.duration


def _allowed_models(deployment: str, mode: str) -> list[str]:
    return [m.id for m in catalog.models_for(deployment) if mode in m.modes]


def plan_for(c: LTXGenerationConfig) -> LTXPlan:
    """Validate a config against the catalog (no network) and work out its endpoint and request shape."""
    if c.deployment not in DEPLOYMENTS:
        raise InvalidRequestError(f"unknown deployment {c.deployment!r}", field="deployment", allowed=DEPLOYMENTS)
    e = catalog.entry(c.model, c.deployment)
    modes = catalog.modes_of(e)
    mode = c.generation_mode()
    if mode not in modes:
        raise InvalidRequestError(f"{c.model} on {c.deployment} has no {mode} mode", field="mode",
                                  allowed=[m for m in modes if m in catalog.GENERATION_MODES])
    if mode == "first-last-frame" and c.start_image is None:
        raise InvalidRequestError("an end image needs a start image (--image) too", field="end_image")
    res_allowed = e.get("mode_resolutions", {}).get(mode, e["resolutions"])
    exact_size = e["schema"] == "open" and bool(c.width and c.height)  # the local backends snap exact sizes
    if not exact_size and c.resolution not in res_allowed:
        raise InvalidRequestError(f"{c.resolution} is not offered by {c.model} on {c.deployment} for {mode}",
                                  field="resolution", allowed=res_allowed)
    if not exact_size and c.aspect_ratio not in e["aspect_ratios"]:
        raise InvalidRequestError(f"{c.aspect_ratio} is not offered by {c.model} on {c.deployment}",
                                  field="aspect_ratio", allowed=e["aspect_ratios"])
    if c.fps not in e["fps"]:
        raise InvalidRequestError(f"{c.fps} fps is not offered by {c.model} on {c.deployment}", field="fps",
                                  allowed=e["fps"])
    durations = e.get("durations")
    if e["schema"] == "open" and c.frames:
        pass  # an exact frame count: the local backends check and snap it
    elif durations:
        if float(c.duration) not in [float(d) for d in durations]:
            raise InvalidRequestError(f"{c.duration:g} s is not offered by {c.model} on {c.deployment}",
                                      field="duration", allowed=[f"{d:g}" for d in durations])
    elif not e.get("min_duration", 0) <= c.duration <= e.get("max_duration", 1e9):
        raise InvalidRequestError(f"{c.duration:g} s is out of range for {c.model} on {c.deployment}",
                                  field="duration", allowed=[f"{e['min_duration']:g}-{e['max_duration']:g} s"])
    rule = e.get("long_duration")
    if rule and c.duration > rule["above"]:
        if c.resolution not in rule["resolutions"] or c.fps not in rule["fps"]:
            raise InvalidRequestError(
                f"clips longer than {rule['above']} s need {'/'.join(rule['resolutions'])} at "
                f"{'/'.join(str(f) for f in rule['fps'])} fps", field="duration",
                allowed=[f"{d:g}" for d in (durations or []) if d <= rule["above"]])

    # inputs: files must exist and be what they claim, before anything is uploaded
    _check_image(c.start_image, "start_image")
    _check_image(c.end_image, "end_image")
    for i, ref in enumerate(c.reference_images):
        _check_image(ref, f"reference_images[{i}]")
    for seconds, img in c.keyframes:
        _check_image(img, "keyframes")
        if not 0 <= seconds <= c.duration:
            raise InvalidRequestError(f"a keyframe at {seconds:g} s is past the clip's end", field="keyframes",
                                      allowed=[f"0-{c.duration:g} s"])
    source_seconds = _video_seconds(c.source_video, "source_video") or _video_seconds(c.extend_video,
                                                                                       "extend_video")
    if mode == "video-to-video" and e["schema"] in ("ltx2", "ltx23", "r_ltx23_pro") and source_seconds is not None:
        if not 2 <= source_seconds <= 20:
            raise InvalidRequestError(f"the source video is {source_seconds:.1f} s; retake takes 2-20 s",
                                      field="source_video", allowed=["2-20 s"])

    refs = list(c.reference_images)
    max_refs = int(e.get("max_reference_images", 0))
    if refs and "reference-images" not in modes:
        raise InvalidRequestError(f"{c.model} on {c.deployment} takes no reference images", field="reference_images",
                                  allowed=_allowed_models(c.deployment, "reference-images"))
    if len(refs) > max_refs:
        raise InvalidRequestError(f"{len(refs)} reference images given; {c.model} on {c.deployment} takes at most "
                                  f"{max_refs}", field="reference_images", allowed=[f"0-{max_refs} images"])
    start_image = c.start_image
    conditioning_refs: list[Path] = []
    if refs and e.get("reference_endpoint") is None and e["schema"] != "open":
        # no reference field on this API: the reference becomes the start frame (see Docs/ltx-models.md)
        if start_image is not None or mode not in ("text-to-video", "image-to-video"):
            raise InvalidRequestError(
                f"{c.model} has no reference-image input; a reference stands in for the start frame, so give "
                f"either --image or one --reference", field="reference_images", allowed=["0-1 images, no --image"])
        start_image = refs[0]
        if mode == "text-to-video":
            mode = "image-to-video"
    else:
        conditioning_refs = refs

    if c.extend_video is not None and c.extend_direction not in e.get("extend_directions", []):
        raise InvalidRequestError(f"{c.model} on {c.deployment} cannot extend {c.extend_direction}",
                                  field="extend_direction", allowed=e.get("extend_directions", []))
    if c.lora_path:
        if "lora" not in modes:
            raise InvalidRequestError(f"{c.model} on {c.deployment} takes no LoRA", field="lora",
                                      allowed=[f"models with LoRA on {c.deployment}: " +
                                               ", ".join(_allowed_models(c.deployment, "lora"))])
        if not c.lora_path.startswith("https://") and not Path(c.lora_path).is_file():
            raise InvalidRequestError(f"{c.lora_path}: no such LoRA file", field="lora",
                                      allowed=["a .safetensors file", "an https:// URL"])
    params = e.get("params", [])
    if c.guidance_scale is not None and "guidance" not in params:
        raise InvalidRequestError(f"{c.model} on {c.deployment} has no guidance scale", field="guidance_scale",
                                  allowed=_param_models(c.deployment, "guidance"))
    if c.num_inference_steps is not None and "steps" not in params:
        raise InvalidRequestError(f"{c.model} on {c.deployment} has no inference-steps setting",
                                  field="num_inference_steps", allowed=_param_models(c.deployment, "steps"))
    has_audio = "audio" in modes
    if c.audio_prompt:
        if not has_audio:
            raise InvalidRequestError(f"{c.model} on {c.deployment} generates no audio", field="audio_prompt",
                                      allowed=_allowed_models(c.deployment, "audio"))
        if not c.include_audio:
            raise InvalidRequestError("an audio prompt needs audio turned on (--audio)", field="audio_prompt")
    if c.webhook_url is not None and not c.webhook_url.startswith("https://"):
        raise InvalidRequestError(f"webhook URL {c.webhook_url!r} is not https", field="webhook_url",
                                  allowed=["https://..."])
    if c.output_path is None:
        raise InvalidRequestError("no output path", field="output_path")

    prompt, lora, scale = camera.apply(c.prompt, c.camera_motion, c.camera_speed, e.get("camera", "prompt"))
    if c.audio_prompt and has_audio:
        # no API has an audio-prompt field: LTX-2 reads sound cues from the prompt itself
        prompt = f"{prompt.rstrip()} Audio: {c.audio_prompt.strip()}"
    endpoint = ("" if e["schema"] == "open" else
                catalog.endpoint_for(e, mode, lora=bool(c.lora_path), references=bool(conditioning_refs)))
    pinned_duration = e.get("pinned", {}).get("duration")
    expected: Optional[float] = float(pinned_duration or c.duration)
    min_duration = None
    billed = float(c.duration)
    if mode == "extend":
        expected, min_duration = None, float(c.duration)
    elif mode == "video-to-video" and e["schema"] != "ltxv13b":
        expected = source_seconds
        billed = float(source_seconds or c.duration)
    return LTXPlan(config=c, entry=e, mode=mode, endpoint=endpoint, prompt=prompt, start_image=start_image,
                   references=conditioning_refs, camera_lora=lora, camera_scale=scale,
                   source_seconds=source_seconds, expected_duration=expected, min_duration=min_duration,
                   billed_seconds=billed)


def _param_models(deployment: str, param: str) -> list[str]:
    return [m for m in catalog.model_ids()
            if deployment in catalog.deployments_of(m) and param in catalog.entry(m, deployment).get("params", [])]


def _load_backend(deployment: str, settings: Settings) -> LTXBackend:
    target = BACKENDS.get(deployment)
    if target is None:
        raise InvalidRequestError(f"unknown deployment {deployment!r}", field="deployment", allowed=list(BACKENDS))
    return load_target(target, f"the LTX-Video {deployment} deployment")(settings)


class LTXVideoClient:
    """Validates configs against the catalog and dispatches them to the backend of their deployment."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._backends: dict[str, LTXBackend] = {}

    def backend(self, deployment: str) -> LTXBackend:
        if deployment not in self._backends:
            self._backends[deployment] = _load_backend(deployment, self.settings)
        return self._backends[deployment]

    def plan(self, config: LTXGenerationConfig) -> LTXPlan:
        return plan_for(config)

    def validate(self, request: RenderRequest) -> LTXPlan:
        """Catalog checks, the backend's own checks, then availability (no key, SDK, GPU): no network."""
        plan = plan_for(LTXGenerationConfig.from_request(request))
        backend = self.backend(plan.config.deployment)
        backend.validate(request)
        reason = backend.unavailable_reason()
        if reason:
            raise UnavailableError(reason)
        return plan

    async def submit(self, request: RenderRequest, progress: ProgressCallback = no_progress) -> str:
        plan = self.validate(request)
        return await self.backend(plan.config.deployment).submit(request, progress)

    async def wait(self, job_id: str, request: RenderRequest,
                   progress: ProgressCallback = no_progress) -> RenderResult:
        deployment = LTXGenerationConfig.from_request(request).deployment
        return await self.backend(deployment).wait(job_id, request, progress)

    async def generate(self, request: RenderRequest, progress: ProgressCallback = no_progress) -> RenderResult:
        """Submit and follow one render (scripts; the render queue calls submit and wait itself)."""
        return await self.wait(await self.submit(request, progress), request, progress)

    def deployment_status(self) -> dict[str, Optional[str]]:
        out: dict[str, Optional[str]] = {}
        for dep in DEPLOYMENTS:
            try:
                out[dep] = self.backend(dep).unavailable_reason()
            except ImageAIError as exc:
                out[dep] = str(exc)
        return out

    async def aclose(self) -> None:
        for b in self._backends.values():
            try:
                await b.aclose()
            except Exception as exc:  # closing must never hide the error that ended a run
                log.warning("closing the %s backend: %s", b.deployment, exc)


class LTXVideoProvider(VideoProvider):
    name = "ltx-video"

    def __init__(self, settings: Optional[Settings] = None):
        self.settings = settings or Settings()
        self.poll_interval = self.settings.poll_interval_s
        self.client = LTXVideoClient(self.settings)
        self._job_deployment: dict[str, str] = {}

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
        return self.client.deployment_status()

    def unavailable_reason(self) -> Optional[str]:
        # stop at the first deployment that can run: the cloud ones are cheap to check, local imports torch
        reasons = []
        for dep in DEPLOYMENTS:
            try:
                reason = self.client.backend(dep).unavailable_reason()
            except ImageAIError as exc:
                reason = str(exc)
            if reason is None:
                return None
            reasons.append(f"{dep}: {reason}")
        return "; ".join(reasons)

    # ---- the contract ----
    def _plan(self, request: RenderRequest) -> LTXPlan:
        return plan_for(LTXGenerationConfig.from_request(request))

    def validate(self, request: RenderRequest) -> None:
        self.client.validate(request)

    def estimate_cost(self, request: RenderRequest) -> float:
        return self._plan(request).cost()

    async def submit(self, request: RenderRequest, progress: ProgressCallback = no_progress) -> str:
        job_id = await self.client.submit(request, progress)
        self._job_deployment[job_id] = request.settings.deployment or catalog.DEFAULT_DEPLOYMENT
        return job_id

    async def wait(self, job_id: str, request: RenderRequest,
                   progress: ProgressCallback = no_progress) -> RenderResult:
        self._job_deployment[job_id] = request.settings.deployment or catalog.DEFAULT_DEPLOYMENT
        return await self.client.wait(job_id, request, progress)

    async def cancel(self, job_id: str) -> None:
        deployment = self._job_deployment.get(job_id)
        candidates = [deployment] if deployment else ["fal", "replicate"]
        for dep in candidates:
            try:
                await self.client.backend(dep).cancel(job_id)
            except ImageAIError as exc:
                log.info("cancel of %s on %s: %s", job_id, dep, exc)

    async def aclose(self) -> None:
        await self.client.aclose()
