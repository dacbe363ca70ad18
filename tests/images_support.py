"""Fixtures of the image-provider tests: each cloud fake on 127.0.0.1 with the app pointed at it (IMAGEAI_*_URL) and
a test key in the client's own environment variable; a helper that prepares and runs one request through the one
retry policy, as the CLI does."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import pytest

from core.config import Settings
from core.images.contract import ImageRequest, ImageResult
from core.video.project import Scene
from core.video.project_io import ProjectStore
from providers.images.registry import get_image
from tests.fakes.gemini_images_fake import GeminiImagesFake
from tests.fakes.openai_images_fake import OpenAIImagesFake
from tests.fakes.stability_fake import StabilityFake

KEYS = {"openai": ("OPENAI_API_KEY", "sk-test-OPENAI-5ecret-0001"),
        "stability": ("STABILITY_API_KEY", "sk-test-STABILITY-5ecret-0002"),
        "google": ("GEMINI_API_KEY", "AIza-test-GEMINI-5ecret-0003")}


@pytest.fixture
def openai_fake(monkeypatch):
    with OpenAIImagesFake() as fake:
        monkeypatch.setenv("IMAGEAI_OPENAI_URL", fake.url + "/v1")
        monkeypatch.setenv(*KEYS["openai"])
        yield fake


@pytest.fixture
def stability_fake(monkeypatch):
    with StabilityFake() as fake:
        monkeypatch.setenv("IMAGEAI_STABILITY_URL", fake.url)
        monkeypatch.setenv(*KEYS["stability"])
        yield fake


@pytest.fixture
def gemini_fake(monkeypatch):
    with GeminiImagesFake() as fake:
        monkeypatch.setenv("IMAGEAI_GEMINI_URL", fake.url)
        monkeypatch.setenv(*KEYS["google"])
        yield fake


def image_project(folder: Path, prompts: list[str], resolution: str = "480p") -> ProjectStore:
    """A saved project whose scenes (one per prompt) get their frames from Stability, rendered by the animatic."""
    store = ProjectStore.create(folder)
    store.project.render = store.project.render.updated(provider="animatic", resolution=resolution,
                                                        aspect_ratio="16:9")
    store.project.image = store.project.image.model_copy(update={"provider": "stability"})
    store.project.scenes = [Scene(prompt=p, duration=1.0) for p in prompts]
    store.save()
    return store


def request(out: Path, prompt: str = "a red fox in snow", **kw) -> ImageRequest:
    return ImageRequest(prompt=prompt, output_path=out, **kw)


def generate(name: str, req: ImageRequest, *, retries: int = 3, timeout_s: Optional[float] = 60,
             retried: Optional[list] = None, settings: Optional[Settings] = None) -> list[ImageResult]:
    async def go():
        provider = get_image(name, settings or Settings())
        try:
            plan = provider.prepare(req)
            provider.check_available(plan)
            return await provider.generate(
                plan, retries=retries, timeout_s=timeout_s,
                on_retry=lambda exc, n, delay, what: retried.append((type(exc).__name__, delay))
                if retried is not None else None)
        finally:
            await provider.aclose()

    return asyncio.run(go())


def size_of(path: Path) -> tuple[int, int]:
    from PIL import Image
    with Image.open(path) as im:
        return im.size


def pixels(path: Path) -> bytes:
    from PIL import Image
    with Image.open(path) as im:
        return im.convert("RGB").tobytes()
