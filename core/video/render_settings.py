"""Render settings: what a user chooses for a clip, stored by id, in one shape at every level (project, scene, one
run from the CLI or the GUI).

Two parts:
- the universal choices every provider understands (provider, model, resolution, fps, seed, audio, camera, ...).
  An unset value (None) means "the model's own default": the provider's `prepare` fills it from its catalog;
- `options`: the provider's own settings (LTX: LoRA, guidance, steps, webhook, device, workflow...), checked by that
  provider's typed options model, which rejects unknown fields.

Levels are layered by `layer_settings`: a value set at a later level wins, and each value remembers the level it
came from, so `prepare` can adapt an inherited value the model cannot take and refuse an explicit one.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.video.ids import (  # noqa: F401  (re-exported)
    ALL_DEPLOYMENTS, ASPECT_RATIOS, CAMERA_MOTIONS, DEPLOYMENTS, EXTEND_DIRECTIONS, RESOLUTION_ALIASES, RESOLUTIONS,
)

#: the universal fields, in the order they are shown
UNIVERSAL_FIELDS = ("provider", "model", "deployment", "resolution", "aspect_ratio", "fps", "duration", "seed",
                    "include_audio", "audio_prompt", "camera_motion", "camera_speed", "negative_prompt")
#: fields that belong to one provider: a scene on another provider than the project's does not inherit them
PROVIDER_BOUND = ("model", "deployment")
#: the levels, lowest first; "scene" and "run" are explicit choices, the others are inherited defaults
LEVELS = ("app", "project", "scene", "run")
EXPLICIT_LEVELS = ("scene", "run")
DEFAULT_PROVIDER = "animatic"


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
    """Every choice that shapes a render, at one level. None = inherit (and in the end: the model's default)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    provider: Optional[str] = None
    model: Optional[str] = None
    deployment: Optional[str] = None
    resolution: Optional[str] = None
    aspect_ratio: Optional[str] = None
    fps: Optional[int] = Field(None, ge=1, le=120)
    duration: Optional[float] = Field(None, gt=0, le=600)
    seed: Optional[int] = Field(None, ge=0, le=2**32 - 1)
    include_audio: Optional[bool] = None
    audio_prompt: Optional[str] = Field(None, max_length=20_000)
    camera_motion: Optional[str] = None
    camera_speed: Optional[float] = Field(None, ge=0.5, le=2.0)
    negative_prompt: Optional[str] = Field(None, max_length=20_000)
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("resolution", mode="before")
    @classmethod
    def _resolution(cls, v: Optional[str]) -> Optional[str]:
        if v is None:
            return None
        v = normalize_resolution(v)
        if v not in RESOLUTIONS:
            raise ValueError(f"unknown resolution {v!r} (allowed: {', '.join(RESOLUTIONS)}, 4K)")
        return v

    @field_validator("aspect_ratio")
    @classmethod
    def _aspect(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and v not in ASPECT_RATIOS:
            raise ValueError(f"unknown aspect ratio {v!r} (allowed: {', '.join(ASPECT_RATIOS)})")
        return v

    @field_validator("camera_motion")
    @classmethod
    def _motion(cls, v: Optional[str]) -> Optional[str]:
        if v is None:
            return None
        v = v.lower().replace("-", "_").replace(" ", "_")
        if v not in CAMERA_MOTIONS:
            raise ValueError(f"unknown camera motion {v!r} (allowed: {', '.join(CAMERA_MOTIONS)})")
        return v

    @field_validator("deployment")
    @classmethod
    def _deployment(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and v not in ALL_DEPLOYMENTS:
            raise ValueError(f"unknown deployment {v!r} (allowed: {', '.join(ALL_DEPLOYMENTS)})")
        return v

    @field_validator("audio_prompt", "negative_prompt")
    @classmethod
    def _blank_is_unset(cls, v: Optional[str]) -> Optional[str]:
        return v if v is None or v.strip() else None

    def set_fields(self) -> dict[str, Any]:
        """The universal values set at this level (options not included)."""
        return {k: getattr(self, k) for k in UNIVERSAL_FIELDS if getattr(self, k) is not None}

    def is_empty(self) -> bool:
        return not self.set_fields() and not self.options

    def updated(self, **changes: Any) -> "RenderSettings":
        """A copy with some universal fields or options changed; None unsets a field, options merge by key
        (an option set to None is removed)."""
        data = self.model_dump()
        opts = dict(data.pop("options"))
        for k, v in changes.pop("options", {}).items():
            if v is None:
                opts.pop(k, None)
            else:
                opts[k] = v
        data.update(changes)
        return RenderSettings.model_validate({**data, "options": opts})


class LayeredSettings(BaseModel):
    """The settings of one render with the level each value came from."""

    model_config = ConfigDict(extra="forbid")

    settings: RenderSettings
    origins: dict[str, str] = Field(default_factory=dict)  # field (or "options.<key>") -> level

    def explicit(self, field: str) -> bool:
        return self.origins.get(field) in EXPLICIT_LEVELS

    def origin(self, field: str) -> Optional[str]:
        return self.origins.get(field)


def layer_settings(levels: list[tuple[str, Optional[RenderSettings]]]) -> LayeredSettings:
    """Merge settings levels, lowest first. A level that names another provider than the one inherited so far
    drops the inherited model, deployment and options (they belong to that other provider)."""
    merged: dict[str, Any] = {}
    options: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for level, settings in levels:
        if settings is None:
            continue
        values = settings.set_fields()
        provider = values.get("provider")
        if provider is not None and merged.get("provider", provider) != provider:
            for k in PROVIDER_BOUND:
                merged.pop(k, None)
                origins.pop(k, None)
            for k in list(options):
                options.pop(k)
                origins.pop(f"options.{k}", None)
        for k, v in values.items():
            merged[k] = v
            origins[k] = level
        for k, v in settings.options.items():
            options[k] = v
            origins[f"options.{k}"] = level
    merged.setdefault("provider", DEFAULT_PROVIDER)
    origins.setdefault("provider", "app")
    return LayeredSettings(settings=RenderSettings.model_validate({**merged, "options": options}), origins=origins)


def settings_hash(payload: dict) -> str:
    """A stable hash of what a render depends on: same hash, same clip (so a finished take need not be paid again)."""
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
