"""The provider contract: every video provider (LTX-Video on any deployment, Veo, Animatic) implements it, so the
render queue, the CLI and the GUI never know which one they talk to.

Lifecycle of a render, as the render queue drives it:
    provider.validate(request)                 # no network, no GPU: bad input fails here, before money is spent
    cost = provider.estimate_cost(request)     # from the catalog's price table
    job_id = await provider.submit(request, on_progress)   # the queue saves job_id to the project at once
    result = await provider.wait(job_id, request, on_progress)  # poll (or resume after a restart) and download
    await provider.cancel(job_id)              # when the user cancels or the job times out

`submit` raises an error with `not_created=True` only when the service said the job was not created; anything else
after a request may have reached the service is never retried by submitting again.
"""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from core.errors import (  # noqa: F401  (re-exported: the typed error set is part of the contract)
    AuthError, CancelledError, ContentRejectedError, ImageAIError, InvalidRequestError, PaymentError,
    ProviderTimeoutError, RateLimitedError, TransientError, UnavailableError,
)
from core.video.render_settings import RenderSettings

MODES = ("text-to-video", "image-to-video", "first-last-frame", "multi-keyframe", "extend", "video-to-video",
         "audio", "camera-lora", "lora", "reference-images")


class ModelInfo(BaseModel):
    """What one model offers on one provider (or deployment): the values the GUI lists and validation allows."""

    model_config = ConfigDict(extra="forbid")

    id: str
    label: str
    resolutions: list[str]
    aspect_ratios: list[str]
    fps: list[int]
    durations: list[float] = Field(default_factory=list, description="allowed durations; empty = any in range")
    min_duration: float = 1.0
    max_duration: float = 10.0
    modes: list[str] = Field(default_factory=lambda: ["text-to-video"])
    max_reference_images: int = 0
    supports_audio: bool = False
    # price in USD per second of output by resolution id; "*" applies to any resolution
    price_per_second: dict[str, float] = Field(default_factory=dict)
    price_per_video: Optional[float] = None
    deployments: list[str] = Field(default_factory=list)

    def cost_per_second(self, resolution: str) -> Optional[float]:
        if resolution in self.price_per_second:
            return self.price_per_second[resolution]
        return self.price_per_second.get("*")


class Capabilities(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    display_name: str
    models: list[ModelInfo]
    deployments: list[str] = Field(default_factory=list)
    needs_key: Optional[str] = None  # service name in core.secrets, e.g. "fal"
    offline: bool = False

    def model(self, model_id: Optional[str]) -> ModelInfo:
        if model_id is None:
            return self.models[0]
        for m in self.models:
            if m.id == model_id:
                return m
        raise InvalidRequestError(f"unknown model {model_id!r} for {self.display_name}", field="model",
                                  allowed=[m.id for m in self.models])


class RenderRequest(BaseModel):
    """Everything one render needs. Paths are absolute (resolved from the project folder by the caller)."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    settings: RenderSettings
    negative_prompt: Optional[str] = None
    title: str = ""
    start_image: Optional[Path] = None
    end_image: Optional[Path] = None
    keyframes: list[tuple[float, Path]] = Field(default_factory=list)
    reference_images: list[Path] = Field(default_factory=list)
    source_video: Optional[Path] = None
    extend_video: Optional[Path] = None
    output_path: Path
    work_dir: Optional[Path] = None  # a folder inside the project for temporary files

    def hash_payload(self, project_dir: Optional[Path] = None) -> dict:
        """What the settings hash covers: settings, prompt and inputs (paths relative to the project when given)."""
        def rel(p: Optional[Path]) -> Optional[str]:
            if p is None:
                return None
            if project_dir is not None:
                try:
                    return Path(p).resolve().relative_to(Path(project_dir).resolve()).as_posix()
                except ValueError:
                    pass
            return str(p)

        return {
            "prompt": self.prompt, "negative_prompt": self.negative_prompt,
            "settings": self.settings.model_dump(mode="json"),
            "start_image": rel(self.start_image), "end_image": rel(self.end_image),
            "keyframes": [(s, rel(p)) for s, p in self.keyframes],
            "reference_images": [rel(p) for p in self.reference_images],
            "source_video": rel(self.source_video), "extend_video": rel(self.extend_video),
        }


class ProgressEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: Literal["validating", "uploading", "queued", "submitted", "running", "downloading", "done"]
    fraction: Optional[float] = Field(None, ge=0, le=1)
    message: str = ""
    queue_position: Optional[int] = None


ProgressCallback = Callable[[ProgressEvent], None]


def no_progress(event: ProgressEvent) -> None:
    """A progress callback that drops events."""


class RenderResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clip_path: Path
    duration: float
    width: int
    height: int
    fps: float
    has_audio: bool = False
    cost: float = 0.0
    remote_job_id: Optional[str] = None
    seed: Optional[int] = None


class VideoProvider(abc.ABC):
    """One provider. Instances are cheap; SDK clients are created lazily inside them."""

    #: registry name ("ltx-video", "veo", "animatic")
    name: str = ""
    #: seconds between status polls of a remote job
    poll_interval: float = 2.0

    @abc.abstractmethod
    def capabilities(self) -> Capabilities:
        """Models, their limits and prices. Must not touch the network."""

    @abc.abstractmethod
    def validate(self, request: RenderRequest) -> None:
        """Raise InvalidRequestError (naming the field and the allowed values) for anything the provider would
        refuse, and UnavailableError when the provider cannot run here (no key, SDK, GPU, server). No network."""

    def estimate_cost(self, request: RenderRequest) -> float:
        """USD the render will cost, from the catalog's price table."""
        info = self.capabilities().model(request.settings.model)
        if info.price_per_video is not None:
            return round(info.price_per_video, 4)
        per_second = info.cost_per_second(request.settings.resolution) or 0.0
        return round(per_second * request.settings.duration, 4)

    @abc.abstractmethod
    async def submit(self, request: RenderRequest, progress: ProgressCallback = no_progress) -> str:
        """Start the job; return its id (the remote job id for a service). Uploads inputs as needed."""

    @abc.abstractmethod
    async def wait(self, job_id: str, request: RenderRequest,
                   progress: ProgressCallback = no_progress) -> RenderResult:
        """Follow the job until it ends and write the clip to request.output_path (via a temp file). Also used to
        resume a job submitted before a restart: it must not submit anything."""

    async def cancel(self, job_id: str) -> None:
        """Ask the service to stop the job. Best effort: a job that already ended is not an error."""

    async def aclose(self) -> None:
        """Release clients, sockets and worker processes."""


class ImageProvider(abc.ABC):
    """Contract for the image providers (start frames, reference images); they arrive with their own issue."""

    name: str = ""

    @abc.abstractmethod
    def capabilities(self) -> Capabilities:
        ...

    @abc.abstractmethod
    async def generate(self, prompt: str, output_path: Path, *, width: int, height: int,
                       seed: Optional[int] = None) -> Path:
        ...
