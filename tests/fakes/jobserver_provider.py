"""A provider plugin (registered through IMAGEAI_PROVIDER_PLUGINS, the real plugin mechanism) that renders on the
loopback job server in tests/fakes/jobserver.py. It exercises the render queue's persistence and resume."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx

from core.errors import TransientError
from core.render.planning import PlanBuilder, finish_plan
from core.video.media import probe
from core.video.render_settings import frame_size
from providers.base import (Capabilities, ModelInfo, ProgressEvent, RenderPlan, RenderRequest, RenderResult,
                            VideoProvider, no_progress)

MODEL = ModelInfo(id="jobs-1", label="Job server", resolutions=["480p", "720p"], aspect_ratios=["16:9"],
                  fps=[24], min_duration=0.5, max_duration=20, price_per_second={"*": 0.01})


class JobServerProvider(VideoProvider):
    name = "jobs"
    poll_interval = 0.1

    def __init__(self, settings=None):
        self.base = os.environ["JOBSERVER_URL"]

    def capabilities(self) -> Capabilities:
        return Capabilities(name="jobs", display_name="Job server", models=[MODEL])

    def prepare(self, request: RenderRequest) -> RenderPlan:
        b = PlanBuilder(request, "the job server")
        resolution = b.choose("resolution", MODEL.resolutions, "480p")
        fps = b.choose("fps", MODEL.fps, 24)
        seconds = b.render_length(request.cut_seconds, [], MODEL.min_duration, MODEL.max_duration, 2.0)
        b.raise_problems()
        w, h = frame_size(resolution, "16:9")
        plan = RenderPlan(provider=self.name, model=MODEL.id, request=request,
                          sent={"resolution": resolution, "fps": fps, "duration": seconds},
                          cost=round(0.01 * seconds, 4), render_seconds=seconds, cut_seconds=request.cut_seconds,
                          expected_seconds=seconds, width=w, height=h, fps=fps)
        return finish_plan(plan)

    async def submit(self, plan: RenderPlan, progress=no_progress) -> str:
        async with httpx.AsyncClient(base_url=self.base) as client:
            r = await client.post("/jobs", json={"prompt": plan.request.prompt, "duration": plan.render_seconds,
                                                 "width": plan.width, "height": plan.height, "fps": plan.fps})
            r.raise_for_status()
            return r.json()["id"]

    async def wait(self, job_id: str, plan: RenderPlan, progress=no_progress) -> RenderResult:
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
        out = Path(plan.request.output_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".part")
        tmp.write_bytes(data)
        info = probe(tmp)
        tmp.replace(out)
        return RenderResult(clip_path=out, duration=info.duration, width=info.width, height=info.height,
                            fps=info.fps, has_audio=info.has_audio, cost=plan.cost, remote_job_id=job_id)

    async def cancel(self, job_id: str, plan=None) -> None:
        async with httpx.AsyncClient(base_url=self.base) as client:
            await client.post(f"/jobs/{job_id}/cancel")
