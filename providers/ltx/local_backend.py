"""The local deployment: renders with the diffusers LTX pipelines in a worker process (providers.ltx.local_worker)
that starts on demand, stays warm while used, and ends when idle or on aclose(), which frees GPU memory. A worker that
dies mid-render surfaces as TransientError and the next render starts a fresh one."""
from __future__ import annotations

import asyncio
import importlib.util
import queue
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from core.config import Settings
from core.errors import ERROR_KINDS, ImageAIError, InvalidRequestError
from core.video.render_settings import frame_size
from providers.base import ProgressCallback, ProgressEvent, RenderResult, no_progress
from providers.ltx import camera
from providers.ltx.backend import LTXBackend
from providers.ltx.local_models import LocalModel, folder_family, local_model, LOCAL_MODELS
from providers.worker_process import WorkerPool, WorkerProcess

if TYPE_CHECKING:
    from providers.ltx.plan import LTXPlan

class Worker(WorkerProcess):
    """The LTX worker process (providers.ltx.local_worker) for one model on one device."""

    def __init__(self, source: str, plan_json: str, on_exit=None):
        super().__init__("providers.ltx.local_worker", ["--source", source, "--plan", plan_json], on_exit=on_exit)


class LocalBackend(LTXBackend):
    deployment = "local"
    poll_interval = 0.2

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.idle_timeout = settings.ltx_local_idle_s
        self._pool = WorkerPool()
        self._workers: dict[tuple[str, str], Worker] = self._pool.workers
        self._job_worker: dict[str, Worker] = {}

    # ---- checks (no GPU work) ---------------------------------------------------------------------------------
    def unavailable_reason(self) -> Optional[str]:
        # find_spec, not import: importing torch and diffusers costs seconds, and the worker process imports them
        missing = [name for name in ("torch", "diffusers") if importlib.util.find_spec(name) is None]
        if missing:
            return f"the local deployment needs torch and diffusers ({missing[0]} is missing): pip install -e \".[local]\""
        return None

    def _model(self, plan: "LTXPlan") -> tuple[LocalModel, str]:
        s = plan.config
        folder = s.model_path or self.settings.ltx_local_path
        if folder:
            path = Path(folder).expanduser()
            if not path.is_dir():
                raise InvalidRequestError(f"no model folder at {folder}", field="model_path")
            family = folder_family(path)
            if family is None:
                raise InvalidRequestError(f"{folder} holds no diffusers LTX pipeline (model_index.json)",
                                          field="model_path")
            info = LOCAL_MODELS.get(s.model or "") if s.model else None
            if info is None or info.family != family:
                info = LocalModel(id=s.model or path.name, repo_id=str(path), family=family, params_b=0,
                                  min_vram_gb=8, comfortable_vram_gb=24)
            return info, str(path.resolve())
        info = local_model(s.model)
        return info, info.repo_id

    def _device(self, plan: "LTXPlan") -> str:
        from providers.ltx.local_device import choose_device, detect_cached

        return choose_device(plan.config.device or self.settings.ltx_local_device,
                             detect_cached())

    def check(self, plan: "LTXPlan") -> None:
        info, _ = self._model(plan)
        self._device(plan)
        if plan.config.reference_images:
            raise InvalidRequestError("reference images are not supported by the local deployment",
                                      field="reference_images", allowed=["start_image", "end_image", "keyframes"])
        if plan.config.source_video and info.family == "ltx2":
            raise InvalidRequestError("video-to-video needs an LTX-Video model locally", field="model",
                                      allowed=[m for m, i in LOCAL_MODELS.items() if i.family == "ltx"])
        for name in ("start_image", "end_image", "source_video", "extend_video"):
            p = getattr(plan.config, name)
            if p is not None and not Path(p).is_file() and p != plan.pending_video:
                raise InvalidRequestError(f"no such file: {p}", field=name)
        for _, p in plan.config.keyframes:
            if not Path(p).is_file():
                raise InvalidRequestError(f"no such file: {p}", field="keyframes")
        for p, _ in self._loras(plan):
            if not Path(p).is_file():
                raise InvalidRequestError(f"no LoRA file at {p}", field="lora_path")

    def _loras(self, plan: "LTXPlan") -> list[tuple[str, float]]:
        s = plan.config
        loras = []
        if s.lora_path:
            loras.append((str(Path(s.lora_path).expanduser()), s.lora_scale))
        path = self._camera_lora(plan)
        if path:
            loras.append((str(Path(path).expanduser()), camera.lora_scale(s.camera_speed)))
        return loras

    def _camera_lora(self, plan: "LTXPlan") -> Optional[str]:
        """The camera LoRA file configured for the motion (setting ltx_camera_loras), if any."""
        motion = plan.config.camera_motion
        if motion == "none":
            return None
        return self.settings.ltx_camera_loras.get(motion)

    def build_spec(self, plan: "LTXPlan", job_id: str) -> dict:
        from providers.ltx.local_pipelines import RenderSpec

        s = plan.config
        info, _ = self._model(plan)
        width, height = (s.width, s.height) if s.width and s.height else frame_size(s.resolution, s.aspect_ratio)
        frames = s.frames or int(round(s.duration * s.fps)) + 1
        # a configured camera LoRA carries the motion; otherwise the prompt names it (a pan is named either way)
        prompt, _, _ = camera.apply(plan.config.prompt, s.camera_motion, s.camera_speed,
                                    "lora" if self._camera_lora(plan) else "prompt")
        if s.audio_prompt and s.include_audio and info.family == "ltx2":
            prompt = f"{prompt.rstrip()} Audio: {s.audio_prompt.strip()}"  # LTX-2 reads sound cues from the prompt
        images: list[tuple[float, str]] = []
        mode = "text"
        if plan.config.extend_video:
            mode = "extend"
        elif plan.config.source_video:
            mode = "video"
        elif plan.config.keyframes or plan.config.end_image:
            mode = "keyframes"
            if plan.config.start_image:
                images.append((0.0, str(plan.config.start_image)))
            images += [(float(t), str(p)) for t, p in plan.config.keyframes]
            if plan.config.end_image:
                images.append((-1.0, str(plan.config.end_image)))
        elif plan.config.start_image:
            mode = "image"
            images.append((0.0, str(plan.config.start_image)))
        spec = RenderSpec(
            job_id=job_id, mode=mode, prompt=prompt, negative_prompt=plan.config.negative_prompt, width=width,
            height=height, frames=frames, fps=s.fps, steps=s.num_inference_steps or info.default_steps,
            guidance=s.guidance_scale if s.guidance_scale is not None else info.default_guidance, seed=s.seed,
            images=images, video=str(plan.config.extend_video or plan.config.source_video or "") or None,
            extend_direction=s.extend_direction, loras=self._loras(plan),
            include_audio=s.include_audio, output_path=str(Path(plan.config.output_path).resolve()))
        return spec.model_dump()

    # ---- workers ----------------------------------------------------------------------------------------------
    def _worker_for(self, plan: "LTXPlan", progress: ProgressCallback) -> Worker:
        from providers.ltx.local_device import detect_cached, plan as device_plan

        info, source = self._model(plan)
        device = self._device(plan)

        def start() -> Worker:
            the_plan = device_plan(info, device, detect_cached())
            progress(ProgressEvent(stage="queued", message=f"starting the local worker: {the_plan.describe()}"))
            return Worker(source, the_plan.model_dump_json(), on_exit=self._pool.forget)

        return self._pool.get((source, device), start)

    def _arm_idle(self, worker: Worker) -> None:
        worker.arm_idle(self.idle_timeout, busy=any(w is worker for w in self._job_worker.values()))

    def worker_pids(self) -> list[int]:
        return self._pool.pids()

    # ---- the contract -----------------------------------------------------------------------------------------
    async def submit(self, plan: "LTXPlan", progress: ProgressCallback = no_progress) -> str:
        job_id = f"local-{uuid.uuid4().hex[:12]}"
        await self._start(job_id, plan, progress)
        progress(ProgressEvent(stage="submitted", message=f"local job {job_id}"))
        return job_id

    async def _start(self, job_id: str, plan: "LTXPlan", progress: ProgressCallback) -> Worker:
        spec = self.build_spec(plan, job_id)
        worker = await asyncio.to_thread(self._worker_for, plan, progress)
        worker.jobs[job_id] = queue.Queue()
        self._job_worker[job_id] = worker
        worker.send(type="render", spec=spec)
        return worker

    async def wait(self, job_id: str, plan: "LTXPlan",
                   progress: ProgressCallback = no_progress) -> RenderResult:
        worker = self._job_worker.get(job_id)
        if worker is None:
            # its worker ended (a crash, or an app restart): a local render costs no money, so run it again
            progress(ProgressEvent(stage="queued", message=f"local job {job_id} is not running: rendering it again"))
            worker = await self._start(job_id, plan, progress)
        q = worker.jobs[job_id]
        try:
            async for msg in worker.job_messages(q, progress, "worker", "render"):
                kind = msg.get("type")
                if kind == "log":
                    progress(ProgressEvent(stage="running", message=msg.get("message", "")))
                elif kind == "result":
                    r = msg["result"]
                    progress(ProgressEvent(stage="done", fraction=1.0))
                    return RenderResult(clip_path=Path(plan.config.output_path), duration=r["frames"] / r["fps"],
                                        width=r["width"], height=r["height"], fps=r["fps"],
                                        has_audio=r["has_audio"], seed=r["seed"], remote_job_id=job_id)
                elif kind == "error":
                    # a failure inside the pipeline repeats on a retry: not retryable (ImageAIError, exit code 1)
                    cls = ERROR_KINDS.get(msg.get("kind", "error"), ImageAIError)
                    if cls is InvalidRequestError:
                        raise InvalidRequestError(msg["message"])
                    raise cls(f"local render failed: {msg['message']}")
        finally:
            worker.jobs.pop(job_id, None)
            self._job_worker.pop(job_id, None)
            if worker.alive:
                self._arm_idle(worker)

    async def cancel(self, job_id: str) -> None:
        worker = self._job_worker.get(job_id)
        if worker is not None:
            worker.send(type="cancel", job=job_id)

    async def aclose(self) -> None:
        await self._pool.aclose()

    def close(self) -> None:
        self._pool.close()
