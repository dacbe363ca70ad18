"""Shared helpers for the LTX tests (no tests here): fakes as fixtures, requests for every catalog mode."""
from __future__ import annotations

import asyncio
from functools import cached_property
from pathlib import Path
from typing import Optional

import pytest

from core.config import Settings
from core.video.project_io import ProjectStore
from core.video.render_settings import RenderSettings
from providers.base import RenderRequest
from providers.ltx import catalog
from providers.ltx.plan import LTXOptions
from providers.ltx_video import LTXVideoProvider
from tests.fakes.clips import write_clip, write_image
from tests.fakes.fal_fake import FalFake
from tests.fakes.replicate_fake import ReplicateFake

FAST = dict(poll_interval_s=0.05)


@pytest.fixture
def fal(monkeypatch):
    fake = FalFake(latency=0.05).start()
    monkeypatch.setenv("FAL_KEY", "fal-test-key-0001")
    monkeypatch.setenv("IMAGEAI_FAL_URL", fake.url)
    yield fake
    fake.stop()


@pytest.fixture
def rep(monkeypatch):
    fake = ReplicateFake(latency=0.05).start()
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_test_token_0001")
    monkeypatch.setenv("IMAGEAI_REPLICATE_URL", fake.url)
    yield fake
    fake.stop()


@pytest.fixture
def project(tmp_path) -> ProjectStore:
    return ProjectStore.create(tmp_path / "proj", name="t")


class Inputs:
    """Small real input files, each made on first use."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder

    @cached_property
    def start(self) -> Path:
        return write_image(self.folder / "start.png")

    @cached_property
    def end(self) -> Path:
        return write_image(self.folder / "end.png", (64, 36))

    @cached_property
    def big(self) -> Path:  # ~1 MB: over the data-URI limit, so it goes through the service's upload
        return write_image(self.folder / "big.png", (600, 600), noise=True)

    @cached_property
    def key(self) -> Path:
        return write_image(self.folder / "key.png")

    @cached_property
    def video(self) -> Path:
        return write_clip(self.folder / "src.mp4", 3.0, 24)

    @cached_property
    def text(self) -> Path:
        path = self.folder / "notes.txt"
        path.write_text("not an image")
        return path

    @cached_property
    def lora(self) -> Path:
        path = self.folder / "style.safetensors"
        path.write_bytes(b"\0" * 2048)
        return path


def first_valid(model: str, deployment: str) -> dict:
    e = catalog.entry(model, deployment)
    durations = e.get("durations")
    duration = durations[0] if durations else 2
    return dict(resolution=e["resolutions"][0], aspect_ratio=e["aspect_ratios"][0], fps=e["fps"][0],
                duration=duration)


def request_for(model: str, deployment: str, mode: str, inputs: Inputs, out: Path, **overrides) -> RenderRequest:
    """A request that exercises `mode` on `model` with the first allowed settings."""
    values = {**first_valid(model, deployment), "provider": "ltx-video", "model": model, "deployment": deployment,
              "include_audio": False}
    media: dict = {}
    if mode == "image-to-video":
        media["start_image"] = inputs.start
    elif mode == "first-last-frame":
        media.update(start_image=inputs.start, end_image=inputs.end)
    elif mode == "multi-keyframe":
        media["keyframes"] = [(0.0, inputs.start), (values["duration"] / 2, inputs.key)]
    elif mode == "extend":
        media["extend_video"] = inputs.video
    elif mode == "video-to-video":
        media["source_video"] = inputs.video
    elif mode == "audio":
        values.update(include_audio=True, audio_prompt="rain on a tin roof")
    elif mode == "camera-lora":
        values["camera_motion"] = "dolly_forward"
    elif mode == "lora":
        values["lora_path"] = str(inputs.lora)
    elif mode == "reference-images":
        media["reference_images"] = [inputs.big]
    values.update({k: v for k, v in overrides.items() if k in RenderSettings.model_fields})
    media.update({k: v for k, v in overrides.items()
                  if k not in RenderSettings.model_fields and k not in LTXOptions.model_fields})
    options = {k: values.pop(k) for k in list(values) if k in LTXOptions.model_fields}
    options.update({k: v for k, v in overrides.items() if k in LTXOptions.model_fields})
    return RenderRequest(prompt="a red fox runs through snow", settings=RenderSettings(**values, options=options),
                         output_path=out, **media)


def all_modes(deployment: str) -> list[tuple[str, str]]:
    return [(m.id, mode) for m in catalog.models_for(deployment) for mode in m.modes]


def render(request: RenderRequest, settings: Optional[Settings] = None, events: Optional[list] = None,
           provider: Optional[LTXVideoProvider] = None):
    """prepare + submit + wait as the render queue does; returns (job id, result)."""
    async def go():
        p = provider or LTXVideoProvider(settings or Settings(**FAST))
        try:
            plan = p.prepare(request)
            p.check_available(plan)
            cb = events.append if events is not None else (lambda e: None)
            job = await p.submit(plan, cb)
            return job, await p.wait(job, plan, cb)
        finally:
            if provider is None:
                await p.aclose()
    return asyncio.run(go())
