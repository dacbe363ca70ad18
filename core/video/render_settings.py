"""Render settings: what a user chooses for a clip, stored by id, shared by the CLI, the GUI and the project file.

Provider-specific validation (which model allows which resolution...) belongs to the provider's catalog; here only
the shape and the universal ranges are checked.
"""
from __future__ import annotations

import hashlib
import json
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.video.ids import (  # noqa: F401  (re-exported)
    ASPECT_RATIOS, CAMERA_MOTIONS, DEPLOYMENTS, EXTEND_DIRECTIONS, RESOLUTION_ALIASES, RESOLUTIONS,
)


def normalize_resolution(value: str) -> str:
    v = str(value).strip().lower()
    v = RESOLUTION_ALIASES.get(v, v)
    if v.isdigit():
        v += "p"
    return v


def frame_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """Width and height for a resolution id (the short side) and an aspect ratio, both even."""
    short = int(normalize_resolution(resolution).rstrip("p"))
    a, b = (int(x) for x in aspect_ratio.split(":"))
    if a >= b:
        h, w = short, short * a / b
    else:
        w, h = short, short * b / a
    return int(round(w / 2)) * 2, int(round(h / 2)) * 2


class RenderSettings(BaseModel):
    """Every choice that shapes a render. The settings hash of a take is computed from this plus the inputs."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    provider: str = "animatic"
    model: Optional[str] = None
    deployment: Optional[str] = None
    resolution: str = "720p"
    aspect_ratio: str = "16:9"
    fps: int = Field(24, ge=1, le=120)
    duration: float = Field(5.0, gt=0, le=600)
    seed: Optional[int] = Field(None, ge=0, le=2**32 - 1)
    include_audio: bool = True
    audio_prompt: Optional[str] = None
    camera_motion: str = "none"
    camera_speed: float = Field(1.0, ge=0.5, le=2.0)
    lora_path: Optional[str] = None
    lora_scale: float = Field(1.0, ge=0.0, le=2.0)
    guidance_scale: Optional[float] = Field(None, ge=0, le=30)
    num_inference_steps: Optional[int] = Field(None, ge=1, le=200)
    webhook_url: Optional[str] = None
    extend_direction: str = "forward"
    # local / ComfyUI deployments may give the exact size and frame count instead of resolution and duration
    width: Optional[int] = Field(None, ge=16, le=8192)
    height: Optional[int] = Field(None, ge=16, le=8192)
    frames: Optional[int] = Field(None, ge=1, le=2000)
    device: Optional[str] = None
    model_path: Optional[str] = None
    workflow: Optional[str] = None

    @field_validator("resolution", mode="before")
    @classmethod
    def _resolution(cls, v: str) -> str:
        v = normalize_resolution(v)
        if v not in RESOLUTIONS:
            raise ValueError(f"unknown resolution {v!r} (allowed: {', '.join(RESOLUTIONS)}, 4K)")
        return v

    @field_validator("aspect_ratio")
    @classmethod
    def _aspect(cls, v: str) -> str:
        if v not in ASPECT_RATIOS:
            raise ValueError(f"unknown aspect ratio {v!r} (allowed: {', '.join(ASPECT_RATIOS)})")
        return v

    @field_validator("camera_motion")
    @classmethod
    def _motion(cls, v: str) -> str:
        v = (v or "none").lower().replace("-", "_").replace(" ", "_")
        if v not in CAMERA_MOTIONS:
            raise ValueError(f"unknown camera motion {v!r} (allowed: {', '.join(CAMERA_MOTIONS)})")
        return v

    @field_validator("extend_direction")
    @classmethod
    def _direction(cls, v: str) -> str:
        if v not in EXTEND_DIRECTIONS:
            raise ValueError(f"unknown direction {v!r} (allowed: {', '.join(EXTEND_DIRECTIONS)})")
        return v

    @field_validator("deployment")
    @classmethod
    def _deployment(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and v not in DEPLOYMENTS:
            raise ValueError(f"unknown deployment {v!r} (allowed: {', '.join(DEPLOYMENTS)})")
        return v

    def with_overrides(self, overrides: "RenderOverrides | dict | None") -> "RenderSettings":
        if overrides is None:
            return self
        data = overrides.model_dump(exclude_none=True) if isinstance(overrides, BaseModel) else dict(overrides)
        return self.model_validate({**self.model_dump(), **data})

    def size(self) -> tuple[int, int]:
        if self.width and self.height:
            return self.width, self.height
        return frame_size(self.resolution, self.aspect_ratio)


class RenderOverrides(BaseModel):
    """A scene's or a run's partial change of the project's render settings: only the fields that are set apply."""

    model_config = ConfigDict(extra="forbid")

    provider: Optional[str] = None
    model: Optional[str] = None
    deployment: Optional[str] = None
    resolution: Optional[str] = None
    aspect_ratio: Optional[str] = None
    fps: Optional[int] = None
    seed: Optional[int] = None
    include_audio: Optional[bool] = None
    lora_path: Optional[str] = None
    lora_scale: Optional[float] = None
    guidance_scale: Optional[float] = None
    num_inference_steps: Optional[int] = None
    webhook_url: Optional[str] = None
    extend_direction: Optional[str] = None
    width: Optional[int] = None
    height: Optional[int] = None
    frames: Optional[int] = None
    device: Optional[str] = None
    model_path: Optional[str] = None
    workflow: Optional[str] = None


def settings_hash(payload: dict) -> str:
    """A stable hash of what a render depends on: same hash, same clip (so a finished take need not be paid again)."""
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]

