"""App settings (not secrets): a pydantic model saved as settings.json in the config folder.

Service addresses have environment overrides (IMAGEAI_FAL_URL, IMAGEAI_REPLICATE_URL, IMAGEAI_GEMINI_URL,
IMAGEAI_COMFYUI_URL, IMAGEAI_FFMPEG) that win over the saved values: users need them for proxies and gateways,
tests for the loopback fakes.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.paths import config_dir

ENV_OVERRIDES = {
    "fal_url": "IMAGEAI_FAL_URL",
    "replicate_url": "IMAGEAI_REPLICATE_URL",
    "gemini_url": "IMAGEAI_GEMINI_URL",
    "vertex_url": "IMAGEAI_VERTEX_URL",
    "openai_url": "IMAGEAI_OPENAI_URL",
    "stability_url": "IMAGEAI_STABILITY_URL",
    "comfyui_url": "IMAGEAI_COMFYUI_URL",
    "ffmpeg_path": "IMAGEAI_FFMPEG",
}


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    fal_url: Optional[str] = None          # None: the service's own address
    replicate_url: Optional[str] = None
    gemini_url: Optional[str] = None
    vertex_url: Optional[str] = None       # Vertex AI (Veo); None: {location}-aiplatform.googleapis.com
    openai_url: Optional[str] = None       # the openai SDK's base_url (with /v1); None: api.openai.com
    stability_url: Optional[str] = None    # None: https://api.stability.ai
    veo_poll_interval_s: float = Field(10.0, ge=0.05, le=120)  # Veo operations take minutes: poll gently
    comfyui_url: Optional[str] = "http://127.0.0.1:8188"  # one address, or several separated by commas
    comfyui_servers: dict[str, str] = Field(default_factory=dict)  # id -> URL; when set, instead of comfyui_url
    comfyui_server_weights: dict[str, float] = Field(default_factory=dict)  # server id -> capacity weight (1.0)
    ffmpeg_path: Optional[str] = None       # None: the binary imageio-ffmpeg ships
    render_concurrency: dict[str, int] = Field(default_factory=lambda: {"default": 3, "local": 1, "animatic": 2})
    render_timeout_s: float = Field(1800.0, gt=0)
    render_retries: int = Field(3, ge=0, le=10)
    poll_interval_s: float = Field(2.0, ge=0.05, le=60)
    confirm_cost_above: float = Field(1.0, ge=0)
    autosave_interval_s: float = Field(30.0, ge=0)
    project_lock_wait_s: float = Field(5.0, ge=0, le=600)  # how long a save or render waits for another process
    ltx_local_path: Optional[str] = None
    ltx_local_device: Optional[str] = None  # "cuda", "mps" or "cpu"; cpu only when chosen explicitly
    ltx_camera_loras: dict[str, str] = Field(default_factory=dict)
    ltx_local_idle_s: float = Field(300.0, ge=0)  # a warm local worker ends after this long unused (frees the GPU)
    download_cap_mb: int = Field(0, ge=0)  # least size cap of a clip download; 0: derived from the clip's size only
    comfyui_checkpoints: dict[str, str] = Field(default_factory=dict)  # model id -> checkpoint file on the server
    recent_projects: list[str] = Field(default_factory=list)
    last_render_settings: dict = Field(default_factory=dict)

    def concurrency_for(self, provider: str) -> int:
        chosen = max(1, int(self.render_concurrency.get(provider, self.render_concurrency.get("default", 3))))
        if provider == "comfyui" and provider not in self.render_concurrency:
            # a farm keeps each server busy with one prompt running and one waiting: unless chosen, room for both
            chosen = max(chosen, 2 * self.comfyui_server_count())
        return chosen

    def comfyui_server_count(self) -> int:
        """How many ComfyUI servers are configured (providers/ltx/comfyui_servers.py reads them in full)."""
        raw = os.environ.get(ENV_OVERRIDES["comfyui_url"]) or None
        if raw is None and self.comfyui_servers:
            return len(self.comfyui_servers)
        return len([e for e in (raw if raw is not None else self.comfyui_url or "").split(",") if e.strip()])

    def effective(self, field: str) -> Optional[str]:
        """The value of an address setting after its environment override."""
        env = ENV_OVERRIDES.get(field)
        if env and os.environ.get(env):
            return os.environ[env]
        return getattr(self, field)


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load_settings() -> Settings:
    path = settings_path()
    if not path.exists():
        return Settings()
    try:
        return Settings.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError):
        # a damaged settings file must not stop the app; it is kept aside for the user to inspect
        path.replace(path.with_suffix(".json.broken"))
        return Settings()


def save_settings(settings: Settings) -> None:
    from core.atomic import atomic_write_text

    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, settings.model_dump_json(indent=2))
