"""Shared by the ComfyUI tests: the LTX-Video provider on the comfyui deployment pointed at fake servers, requests
made the way the CLI makes them (settings + options), and a project rendered by the real render queue."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import pytest
from PIL import Image

from core.config import Settings
from core.render.contract import RenderRequest
from core.render.queue import RenderQueue
from core.video.project import Scene
from core.video.project_io import ProjectStore
from core.video.render_settings import RenderSettings
from providers.ltx_video import LTXVideoProvider
from tests.fakes.comfyui_fake import FakeComfyUI

OPTION_KEYS = ("width", "height", "frames", "workflow", "lora_path", "lora_scale", "extend_direction",
               "guidance_scale", "num_inference_steps")
MEDIA_KEYS = ("start_image", "end_image", "keyframes", "source_video", "extend_video")


def settings_for(*servers: FakeComfyUI, **kw) -> Settings:
    kw.setdefault("poll_interval_s", 0.05)
    return Settings(comfyui_url=",".join(s.url for s in servers), **kw)


def provider_for(*servers: FakeComfyUI, **kw) -> LTXVideoProvider:
    return LTXVideoProvider(settings_for(*servers, **kw))


def request(tmp_path: Path, name: str = "out.mp4", **kw) -> RenderRequest:
    media = {k: kw.pop(k) for k in MEDIA_KEYS if k in kw}
    opts = {k: kw.pop(k) for k in OPTION_KEYS if k in kw}
    prompt = kw.pop("prompt", "a paper boat on a river")
    base = dict(provider="ltx-video", model="ltx-video-2b", deployment="comfyui", seed=42, fps=24,
                negative_prompt="blurry")
    base.update(kw)
    opts = {"width": 64, "height": 64, "frames": 9, **opts}
    return RenderRequest(prompt=prompt, settings=RenderSettings(**base, options=opts), output_path=tmp_path / name,
                         **media)


def render(provider: LTXVideoProvider, req: RenderRequest, events: Optional[list] = None):
    """prepare, submit and wait, as the render queue drives a provider; the result (the clip at the plan's path)."""
    async def go():
        cb = events.append if events is not None else (lambda e: None)
        plan = provider.prepare(req)
        try:
            job = await provider.submit(plan, cb)
            return await provider.wait(job, plan, cb)
        finally:
            await provider.aclose()
    return asyncio.run(go())


def graph_of(fake: FakeComfyUI, index: int = -1) -> dict:
    return fake.received[index]["prompt"]


def nodes(graph: dict, cls: str) -> list[dict]:
    return [n["inputs"] for n in graph.values() if n["class_type"] == cls]


def image(folder: Path, name: str, color, size=(64, 64)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(folder / name)
    return folder / name


def project(tmp_path: Path, scenes: list[Scene], **render) -> ProjectStore:
    """A project whose scenes render with LTX-Video 2B on ComfyUI at 64x64, 9 frames (0.375 s) by default."""
    store = ProjectStore.create(tmp_path / "proj")
    r = store.project.render
    r.provider, r.deployment, r.model, r.fps, r.seed = "ltx-video", "comfyui", "ltx-video-2b", 24, 7
    r.options = {"width": 64, "height": 64, "frames": 9, **render.pop("options", {})}
    for k, v in render.items():
        setattr(r, k, v)
    store.project.scenes.extend(scenes)
    store.save()
    return store


def run_queue(store: ProjectStore, settings: Settings, events=None):
    """Render the project's scenes with the real render queue; `events`: a list to fill, or a callback."""
    listener = events.append if isinstance(events, list) else events
    queue = RenderQueue(store, settings, provider_getter=lambda name, s: LTXVideoProvider(s), on_event=listener)
    return asyncio.run(queue.run())


@pytest.fixture
def fake():
    """One fake ComfyUI server for a test."""
    server = FakeComfyUI().start()
    yield server
    server.stop()
