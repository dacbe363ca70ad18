"""Shared helpers for the Veo tests (no tests here): the fake as a fixture, requests for every catalog mode, and a
render driven as the render queue drives it."""
from __future__ import annotations

import asyncio
import base64
from functools import cached_property
from pathlib import Path
from typing import Optional

import pytest

from core.config import Settings
from core.render.contract import RenderRequest
from core.video.render_settings import RenderSettings, layer_settings
from providers.veo import catalog
from providers.veo.plan import VeoOptions
from providers.veo.provider import VeoProvider
from tests.test_ltx_support import Inputs as LTXInputs
from tests.fakes.clips import write_clip, write_image
from tests.fakes.veo_fake import VeoFake

FAST = dict(veo_poll_interval_s=0.05)
PROMPT = "a red fox runs through snow"
GOOGLE_VARS = ("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION", "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GEMINI_BASE_URL",
               "GOOGLE_VERTEX_BASE_URL", "GOOGLE_GENAI_API_VERSION", "GOOGLE_APPLICATION_CREDENTIALS",
               "IMAGEAI_VERTEX_URL")


@pytest.fixture
def veo(monkeypatch):
    for var in GOOGLE_VARS:
        monkeypatch.delenv(var, raising=False)
    fake = VeoFake(latency=0.05).start()
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-test-key-0001")
    monkeypatch.setenv("IMAGEAI_GEMINI_URL", fake.url)
    monkeypatch.setenv("IMAGEAI_VERTEX_URL", fake.url)
    yield fake
    fake.stop()


class Inputs(LTXInputs):
    """The LTX tests' small input files, with a noisy end frame, reference images and a 720p-shaped clip."""

    @cached_property
    def end(self) -> Path:
        return write_image(self.folder / "end.png", (64, 36), noise=True)

    def refs(self, n: int) -> list[Path]:
        """n reference images (the same files on every call)."""
        paths = [self.folder / f"ref{i}.png" for i in range(n)]
        return [p if p.exists() else write_image(p, (48, 48), noise=True) for p in paths]

    @cached_property
    def video(self) -> Path:  # a 720p-shaped clip of the user's to extend (small: only its shape is checked)
        return write_clip(self.folder / "mine.mp4", 3.0, 24, width=128, height=72)


def b64(path: Path) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode()


def request_for(model: str, mode: str, inputs: Inputs, out: Path, **overrides) -> RenderRequest:
    """A one-off request (every value explicit) that exercises `mode` on `model` with its defaults."""
    values: dict = {"provider": "veo", "model": model}
    media: dict = {}
    if mode == "image-to-video":
        media["start_image"] = inputs.start
    elif mode == "first-last-frame":
        media.update(start_image=inputs.start, end_image=inputs.end)
    elif mode == "reference-images":
        media["reference_images"] = inputs.refs(catalog.entry(model)["max_reference_images"])
    elif mode == "extend":
        media["extend_video"] = inputs.video
        values["duration"] = 7
    elif mode == "audio":
        values.update(include_audio=True, audio_prompt="paws crunching on snow")
    options = {k: overrides.pop(k) for k in list(overrides) if k in VeoOptions.model_fields}
    values.update({k: overrides.pop(k) for k in list(overrides) if k in RenderSettings.model_fields})
    media.update(overrides)
    return RenderRequest(prompt=PROMPT, settings=RenderSettings(**values, options=options), output_path=out, **media)


def layered_request(out: Path, *levels: tuple[str, RenderSettings], **media) -> RenderRequest:
    """A request whose settings come from several levels (app/project inherited, scene/run explicit)."""
    layered = layer_settings([("app", RenderSettings(provider="veo")), *levels])
    return RenderRequest(prompt=PROMPT, layered=layered, cut_seconds=layered.settings.duration, output_path=out,
                         **media)


def all_modes(deployment: Optional[str] = None) -> list[tuple[str, str]]:
    return [(m.id, mode) for m in catalog.models(deployment) for mode in m.modes]


def provider(credentials=None, **settings) -> VeoProvider:
    return VeoProvider(Settings(**{**FAST, **settings}), credentials=credentials)


def render(request: RenderRequest, veo_provider: Optional[VeoProvider] = None, events: Optional[list] = None,
           close: Optional[bool] = None):
    """prepare + check + submit + wait as the render queue does; returns (plan, job id, result). A provider made
    here is closed at the end; one passed in only when `close` says so."""
    close = veo_provider is None if close is None else close

    async def go():
        p = veo_provider or provider()
        try:
            plan = p.prepare(request)
            p.check_available(plan)
            cb = events.append if events is not None else (lambda e: None)
            job = await p.submit(plan, cb)
            return plan, job, await p.wait(job, plan, cb)
        finally:
            if close:
                await p.aclose()
    return asyncio.run(go())


def submissions(fake: VeoFake) -> list[dict]:
    return [r for r in fake.requests if r["path"].endswith(":predictLongRunning")]
