"""A provider plugin (registered through IMAGEAI_PROVIDER_PLUGINS, the real plugin mechanism) that renders on the
loopback job server in tests/fakes/jobserver.py. It exercises the render queue's persistence and resume."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx

from core.errors import TransientError
from core.video.media import check_playable_clip
from providers.base import (Capabilities, ModelInfo, ProgressEvent, RenderRequest, RenderResult, VideoProvider,
                            no_progress)

MODEL = ModelInfo(id="jobs-1", label="Job server", resolutions=["480p", "720p"], aspect_ratios=["16:9"],
                  fps=[24], min_duration=0.5, max_duration=20, price_per_second={"*": 0.01})


class JobServerProvider(VideoProvider):
    name = "jobs"
    poll_interval = 0.1

    def __init__(self, settings=None):
        self.base = os.environ["JOBSERVER_URL"]

    def capabilities(self) -> Capabilities:
        return Capabilities(name="jobs", display_name="Job server", models=[MODEL])

    def validate(self, request: RenderRequest) -> None:
        return None

    async def submit(self, request: RenderRequest, progress=no_progress) -> str:
        w, h = request.settings.size()
        async with httpx.AsyncClient(base_url=self.base) as client:
            r = await client.post("/jobs", json={"prompt": request.prompt, "duration": request.settings.duration,
                                                 "width": w, "height": h, "fps": request.settings.fps})
            r.raise_for_status()
            return r.json()["id"]

    async def wait(self, job_id: str, request: RenderRequest, progress=no_progress) -> RenderResult:
        async with httpx.AsyncClient(base_url=self.base) as client:
            while True:
                r = await client.get(f"/jobs/{job_id}")
                state = r.json()
                if state["status"] == "done":
                    break
                if state["status"] != "running":
                    raise TransientError(f"job {job_id} is {state['status']}")
                progress(ProgressEvent(stage="running", fraction=state["progress"]))
                await asyncio.sleep(self.poll_interval)
            data = (await client.get(f"/jobs/{job_id}/result")).content
        out = Path(request.output_path)
        tmp = out.with_suffix(".part")
        tmp.write_bytes(data)
        info = check_playable_clip(tmp, request.settings.duration)
        tmp.replace(out)
        return RenderResult(clip_path=out, duration=info.duration, width=info.width, height=info.height,
                            fps=info.fps, has_audio=info.has_audio, cost=self.estimate_cost(request),
                            remote_job_id=job_id)

    async def cancel(self, job_id: str) -> None:
        async with httpx.AsyncClient(base_url=self.base) as client:
            await client.post(f"/jobs/{job_id}/cancel")
