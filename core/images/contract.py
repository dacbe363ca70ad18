"""The image-provider contract: every image provider (Google's Gemini image models, OpenAI's GPT image models,
Stability's stable-image endpoints, local Stable Diffusion) implements it, so the CLI, the project's image takes and
the GUI never know which one they talk to. It lives in core so that core needs no provider.

Lifecycle of one image request:
    plan = provider.prepare(request)        # no network, no GPU: model defaults, a size that fits the project's
                                            # aspect ratio, the requests it takes, cost per image, adjustments and
                                            # ignored settings; every problem at once
    provider.check_available(plan)          # key, SDK, GPU present (no network); not needed to estimate
    results = await provider.generate(plan, progress, retries=..., timeout_s=...)

These services answer synchronously: one HTTP request returns the image, there is no job id to follow or resume.
So the one retry policy (core/images/retry.py) re-sends a request only when the service's answer proves it did no
work: a 429 (rate limited), a 503 (overloaded), a connection that never opened. A request whose answer was lost
(a timeout, a dropped connection, a 500/502/504) may have been made and charged: it is never sent again on its
own; the error says so and the user decides. A plan of several requests (variants) keeps the images already made
when a later one fails (`ImageError.partial`).
"""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from core.render.contract import (Adjustment, IgnoredSetting, ProgressCallback, ProgressEvent, find_model,
                                  no_progress)

__all__ = ["ImageModelInfo", "ImageCapabilities", "ImageRequest", "ImagePlan", "ImageCall", "ImageResult",
           "ImageProvider", "Adjustment", "IgnoredSetting", "ProgressEvent", "ProgressCallback", "no_progress",
           "IMAGE_MODES"]

IMAGE_MODES = ("text-to-image", "reference-images", "image-to-image")
SizeMode = Literal["fixed", "aspect", "free"]


class ImageModelInfo(BaseModel):
    """One model in a provider's catalog: what it renders, what it takes, what it costs. Data, not code paths."""

    model_config = ConfigDict(extra="forbid")

    id: str
    label: str
    #: how the size reaches the service: one of `sizes` ("fixed"), an aspect ratio the service sizes itself
    #: ("aspect", with `native_sizes`), or any WxH within the limits below ("free")
    size_mode: SizeMode
    sizes: list[str] = Field(default_factory=list)
    #: aspect ratio -> "WxH" the service returns at its base tier (aspect mode)
    native_sizes: dict[str, str] = Field(default_factory=dict)
    #: size tiers the service takes ("1K", "2K", "4K") -> scale of the base size; empty: one size per ratio
    tiers: dict[str, float] = Field(default_factory=dict)
    multiple: int = 8
    min_pixels: int = 0
    max_pixels: int = 0
    max_side: int = 0
    max_ratio: float = 0.0  # the longer side over the shorter at most; 0: any
    #: how input images are used: "none", "reference" (the model looks at them), "init" (image-to-image: the first
    #: one is the starting picture, `strength` how far to move from it)
    references: Literal["none", "reference", "init"] = "none"
    max_reference_images: int = 0
    qualities: list[str] = Field(default_factory=list)
    default_quality: Optional[str] = None
    #: USD per image by quality or tier ("*": any); `price_pixels`: the size the price is for (scaled by area)
    price_per_image: dict[str, float] = Field(default_factory=dict)
    price_pixels: int = 0
    price_note: str = ""
    #: the optional settings this model takes ("seed", "negative_prompt", "quality", "strength", ...)
    params: list[str] = Field(default_factory=list)
    max_per_request: int = 1  # images one request may return (OpenAI's n)
    default_steps: Optional[int] = None
    default_guidance: Optional[float] = None
    repo_id: Optional[str] = None  # local models: the Hugging Face repo
    min_vram_gb: float = 0.0
    comfortable_vram_gb: float = 0.0
    notes: str = ""

    def price(self, key: Optional[str], pixels: int) -> float:
        """USD for one image of `pixels` at quality or tier `key`."""
        base = self.price_per_image.get(key or "", self.price_per_image.get("*", 0.0))
        if self.price_pixels and pixels > self.price_pixels:  # billed by output size: scale with the area
            base *= pixels / self.price_pixels
        return round(base, 4)


class ImageCapabilities(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    display_name: str
    models: list[ImageModelInfo]
    default_model: str
    needs_key: Optional[str] = None  # service name in core.secrets
    offline: bool = False

    def model(self, model_id: Optional[str]) -> ImageModelInfo:
        return find_model(self.models, model_id or self.default_model, self.display_name)


class ImageRequest(BaseModel):
    """Everything one image request needs. Paths are absolute (resolved from the project folder by the caller)."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    output_path: Path
    model: Optional[str] = None
    #: the size to write; None: from `aspect_ratio` and `short_side`
    width: Optional[int] = Field(None, ge=16, le=8192)
    height: Optional[int] = Field(None, ge=16, le=8192)
    aspect_ratio: Optional[str] = None  # the project's ("16:9"); None: 16:9
    short_side: int = Field(720, ge=16, le=4320)  # the project's video resolution ("720p" -> 720)
    variants: int = Field(1, ge=1, le=10)
    seed: Optional[int] = Field(None, ge=0, le=2 ** 32 - 1)
    negative_prompt: Optional[str] = None
    quality: Optional[str] = None
    strength: Optional[float] = Field(None, gt=0, le=1)  # image-to-image: how far from the starting picture
    #: the scene's own references (refused beyond what the model takes)
    reference_images: list[Path] = Field(default_factory=list)
    #: the project's references (used up to what the model takes; the rest is an adjustment)
    project_reference_images: list[Path] = Field(default_factory=list)
    #: provider options (local-sd: model_path, device, steps, guidance)
    options: dict[str, Any] = Field(default_factory=dict)
    #: project-relative form of every input path (for the settings hash), filled by the caller
    input_names: dict[str, Any] = Field(default_factory=dict)


class ImageCall(BaseModel):
    """One request to the service: which outputs it fills and the seed it carries."""

    model_config = ConfigDict(extra="forbid")

    index: int
    outputs: list[Path]
    seed: Optional[int] = None


class ImagePlan(BaseModel):
    """What one image request will do, made once by `prepare` (no network). `generate` takes it unchanged."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    provider: str
    model: str
    mode: str = "text-to-image"
    request: ImageRequest
    width: int   # the size written
    height: int
    #: the size the service renders, when known in advance (the image is cropped and scaled to width x height)
    render_width: Optional[int] = None
    render_height: Optional[int] = None
    #: what reaches the service, besides the prompt and the images (the take records exactly these)
    sent: dict[str, Any] = Field(default_factory=dict)
    references: list[Path] = Field(default_factory=list)  # the input images used, in order
    calls: list[ImageCall] = Field(default_factory=list)
    cost_per_image: float = 0.0
    cost: float = 0.0
    adjustments: list[Adjustment] = Field(default_factory=list)
    ignored: list[IgnoredSetting] = Field(default_factory=list)
    settings_hash: str = ""
    detail: Any = Field(default=None, exclude=True)

    @property
    def outputs(self) -> list[Path]:
        return [p for call in self.calls for p in call.outputs]

    def notes(self) -> list[str]:
        return [str(a) for a in self.adjustments] + [f"ignored {i}" for i in self.ignored]


class ImageResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Path
    width: int
    height: int
    provider: str
    model: str
    index: int = 0  # the variant
    seed: Optional[int] = None
    cost: float = 0.0
    #: the size the service returned (before the crop and scale to width x height)
    rendered: Optional[tuple[int, int]] = None
    revised_prompt: Optional[str] = None


RetryCallback = Callable[[Exception, int, float, str], None]


class ImageProvider(abc.ABC):
    """One image provider. Instances are cheap; SDK clients are created lazily inside them."""

    name: str = ""
    display_name: str = ""
    #: whether a request costs money: a free provider (local-sd) may be repeated after any retryable failure
    charges: bool = True

    @abc.abstractmethod
    def capabilities(self) -> ImageCapabilities:
        """Models, their sizes, inputs and prices. Must not touch the network."""

    @abc.abstractmethod
    def prepare(self, request: ImageRequest) -> ImagePlan:
        """Fill every unset value from the model's defaults, choose the size to render, validate (one
        InvalidRequestError listing every problem), price it, list adjustments and ignored settings. No network."""

    def unavailable_reason(self) -> Optional[str]:
        """Why this provider cannot run here (SDK, key, GPU), or None. No network."""
        return None

    def check_available(self, plan: ImagePlan) -> None:
        from core.errors import UnavailableError
        reason = self.unavailable_reason()
        if reason:
            raise UnavailableError(reason)

    @abc.abstractmethod
    async def generate_call(self, plan: ImagePlan, call: ImageCall,
                            progress: ProgressCallback = no_progress) -> list[ImageResult]:
        """Send one request of the plan and write its images to the call's outputs (via temp files). Raises typed
        errors and never loops on them: `not_created=True` only when the answer proves no work was done."""

    async def generate(self, plan: ImagePlan, progress: ProgressCallback = no_progress, *, retries: int = 0,
                       timeout_s: Optional[float] = None,
                       on_retry: Optional[RetryCallback] = None) -> list[ImageResult]:
        """Every request of the plan under the one retry policy (core/images/retry.py)."""
        from core.images.retry import run_plan
        return await run_plan(self, plan, progress, retries=retries, timeout_s=timeout_s, on_retry=on_retry)

    async def aclose(self) -> None:
        """Release clients, sockets and worker processes."""
