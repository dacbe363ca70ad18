"""The provider contract: every video provider (LTX-Video on any deployment, Veo, Animatic) implements it, so the
render queue, the CLI and the GUI never know which one they talk to. It lives in core so that core needs no
provider; providers implement it.

Lifecycle of a render, as the render queue drives it:
    plan = provider.prepare(request)          # no network, no GPU: fills the model's defaults, validates (every
                                              # problem at once), prices what will be rendered, lists adjustments
                                              # and ignored settings. Made once per render.
    provider.check_available(plan)            # key, SDK, GPU, server present (no network); not needed to estimate
    job_id = await provider.submit(plan, on_progress)   # the queue saves job_id to the project at once
    result = await provider.wait(job_id, plan, on_progress)  # poll (or resume after a restart) and download
    await provider.cancel(job_id, plan)       # when the user cancels or the job times out

`submit` raises an error with `not_created=True` only when the service said the job was not created; anything else
after a request may have reached the service is never retried by submitting again. Neither `submit` nor `wait`
loops on errors: the queue's one retry policy (core/render/retry.py) decides what is tried again.
"""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.video.render_settings import LayeredSettings, RenderSettings, layer_settings

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
    defaults: dict[str, Any] = Field(default_factory=dict)
    #: the optional universal settings this model takes ("seed", "negative_prompt", "generate_audio", ...)
    params: list[str] = Field(default_factory=list)

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
        return find_model(self.models, model_id, self.display_name)


def find_model(models: list, model_id: str, display_name: str):
    """The catalog entry `model_id` of a provider's models (video or image), or the error listing the ids."""
    from core.errors import InvalidRequestError
    for m in models:
        if m.id == model_id:
            return m
    raise InvalidRequestError(f"unknown model {model_id!r} for {display_name}", field="model",
                              allowed=[m.id for m in models])


class PendingVideo(BaseModel):
    """The facts of a clip that does not exist yet: the one a scene renders earlier in this run, which a chained
    scene extends. `prepare` reads its length and size from here instead of probing `path` (the file the clip will
    have); the queue prepares the chained scene again against the real clip before submitting it."""

    model_config = ConfigDict(extra="forbid")

    path: Path
    scene_id: str
    seconds: float
    width: int
    height: int
    fps: float = 0.0


class RenderRequest(BaseModel):
    """Everything one render needs. Paths are absolute (resolved from the project folder by the caller)."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    layered: LayeredSettings
    title: str = ""
    #: the scene's length in the edit (the export cuts the clip to it); None = the model's default length
    cut_seconds: Optional[float] = None
    start_image: Optional[Path] = None
    end_image: Optional[Path] = None
    keyframes: list[tuple[float, Path]] = Field(default_factory=list)
    #: the scene's own references (refused beyond what the deployment takes)
    reference_images: list[Path] = Field(default_factory=list)
    #: the project's references (used up to what the deployment takes; the rest is an adjustment)
    project_reference_images: list[Path] = Field(default_factory=list)
    source_video: Optional[Path] = None
    extend_video: Optional[Path] = None
    #: set when `extend_video` is a clip still to be rendered in this run (its facts, not a file)
    pending_video: Optional[PendingVideo] = None
    #: images not made yet (an image run asks whether the model would take the frame it is about to buy):
    #: prepare takes them as images by name and never opens them
    pending_images: list[Path] = Field(default_factory=list)
    output_path: Path
    work_dir: Optional[Path] = None  # a folder inside the project for temporary files
    #: project-relative form of every input path (for the settings hash), filled by the caller
    input_names: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _one_level(cls, data: Any) -> Any:
        """`settings=` instead of `layered=`: a one-off request whose every setting is this render's own."""
        if isinstance(data, dict) and "settings" in data and "layered" not in data:
            data = dict(data)
            settings = data.pop("settings")
            if isinstance(settings, dict):
                settings = RenderSettings.model_validate(settings)
            data["layered"] = layer_settings([("run", settings)])
            data.setdefault("cut_seconds", settings.duration)
        return data

    @property
    def settings(self) -> RenderSettings:
        return self.layered.settings


class Adjustment(BaseModel):
    """A value that differs from what the project or app default said, and why."""

    field: str
    requested: Any = None
    used: Any = None
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class IgnoredSetting(BaseModel):
    """A setting the chosen endpoint does not take: it is not sent."""

    field: str
    value: Any = None
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class RenderPlan(BaseModel):
    """What one render will do, made once by `prepare` (no network). `submit` and `wait` take it unchanged."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    provider: str
    model: Optional[str] = None
    deployment: Optional[str] = None
    mode: str = "text-to-video"
    request: RenderRequest
    #: the settings that reach the service (the take records exactly these)
    sent: dict[str, Any] = Field(default_factory=dict)
    adjustments: list[Adjustment] = Field(default_factory=list)
    ignored: list[IgnoredSetting] = Field(default_factory=list)
    cost: float = 0.0
    render_seconds: float = 0.0   # what will be rendered (and billed)
    cut_seconds: Optional[float] = None  # the length in the edit (None: the whole clip)
    expected_seconds: Optional[float] = None  # the clip length to verify (None: not known in advance)
    width: Optional[int] = None
    height: Optional[int] = None
    fps: Optional[float] = None
    settings_hash: str = ""
    #: the provider's own plan (not stored, not compared)
    detail: Any = Field(default=None, exclude=True)

    def notes(self) -> list[str]:
        return [str(a) for a in self.adjustments] + [f"ignored {i}" for i in self.ignored]


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
    #: the provider's typed options (extra="forbid"); None = the provider takes no options
    options_model: Optional[type[BaseModel]] = None

    @abc.abstractmethod
    def capabilities(self) -> Capabilities:
        """Models, their limits, defaults and prices. Must not touch the network."""

    @abc.abstractmethod
    def prepare(self, request: RenderRequest) -> RenderPlan:
        """Fill every unset value from the model's defaults, validate (raise one InvalidRequestError listing every
        problem), price what will be rendered, list adjustments and ignored settings. No network, no GPU."""

    def check_available(self, plan: RenderPlan) -> None:
        """Raise UnavailableError when the plan cannot run here (no key, SDK, GPU, server). No network."""

    @abc.abstractmethod
    async def submit(self, plan: RenderPlan, progress: ProgressCallback = no_progress) -> str:
        """Start the job; return its id (the remote job id for a service). Uploads inputs as needed."""

    @abc.abstractmethod
    async def wait(self, job_id: str, plan: RenderPlan, progress: ProgressCallback = no_progress) -> RenderResult:
        """Follow the job until it ends and write the clip to the plan's output path (via a temp file). Also used
        to resume (or re-fetch) a job submitted before: it must not submit anything."""

    async def cancel(self, job_id: str, plan: Optional[RenderPlan] = None) -> None:
        """Ask the service to stop the job. Best effort: a job that already ended is not an error."""

    async def aclose(self) -> None:
        """Release clients, sockets and worker processes."""
