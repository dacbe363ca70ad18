"""local-sd: diffusers text-to-image and image-to-image on the user's GPU, in a worker process
(providers/images/local_sd_worker.py) that starts on demand, stays warm while used, ends when idle
(settings.ltx_local_idle_s) or on aclose(), which frees GPU memory. The device and memory plan are the local LTX
deployment's (providers/ltx/local_device.py): a GPU when there is one, the CPU only when chosen (options.device or
settings.ltx_local_device). A worker that dies mid-image is a TransientError; local images cost nothing, so the
retry policy may run them again.

Models: the catalog's ids (a Hugging Face repo each, fetched by diffusers into its cache) or options.model_path, a
folder of any diffusers text-to-image pipeline. With an input image (the scene's reference, else the project's
first) it runs image-to-image from it, with `strength`."""
from __future__ import annotations

import asyncio
import importlib.util
import queue
import uuid
from pathlib import Path
from typing import Optional

from core.errors import ERROR_KINDS, ImageAIError
from core.images.contract import ImageCall, ImageModelInfo, ImagePlan, ProgressCallback, ProgressEvent
from core.images.planning import ImagePlanBuilder
from core.video.leftovers import owner_tag
from providers.images.base import CatalogImageProvider, Delivered
from providers.worker_process import WorkerPool, WorkerProcess

OPTIONS = ("model_path", "device", "steps", "guidance")


class SDWorker(WorkerProcess):
    """The local-sd worker process (providers.images.local_sd_worker) for one pipeline on one device."""

    def __init__(self, source: str, plan_json: str):
        super().__init__("providers.images.local_sd_worker", ["--source", source, "--plan", plan_json],
                         thread_name="local-sd-worker")


class LocalSDProvider(CatalogImageProvider):
    name = "local-sd"
    display_name = "Local Stable Diffusion"
    catalog_name = "local_sd"
    charges = False
    option_names = OPTIONS

    def __init__(self, settings=None):
        super().__init__(settings)
        self._pool = WorkerPool()
        self._workers: dict[tuple[str, str], SDWorker] = self._pool.workers

    # ---- planning (no GPU) ----
    def label(self, m: ImageModelInfo, request) -> str:
        folder = request.options.get("model_path")
        return f"the local model {Path(folder).name}" if folder else f"{m.id} (local)"

    def unavailable_reason(self) -> Optional[str]:
        # find_spec, not import: importing torch and diffusers costs seconds, and the worker imports them
        missing = [n for n in ("torch", "diffusers", "transformers") if importlib.util.find_spec(n) is None]
        if missing:
            return (f"local-sd needs torch, diffusers and transformers ({missing[0]} is missing): "
                    "pip install -e \".[local]\"")
        return None

    def finish(self, b: ImagePlanBuilder, m: ImageModelInfo, plan: ImagePlan) -> None:
        options = plan.request.options
        folder = options.get("model_path")
        if folder:
            path = Path(folder).expanduser()
            if not (path / "model_index.json").is_file():
                b.problem(f"{folder} holds no diffusers pipeline (model_index.json)", field="model_path")
            plan.sent["source"] = str(path.resolve())
        else:
            plan.sent["source"] = m.repo_id
        plan.sent["steps"] = int(options.get("steps") or m.default_steps or 30)
        guidance = options.get("guidance")
        plan.sent["guidance"] = float(guidance if guidance is not None else (m.default_guidance or 7.0))
        if options.get("device") not in (None, "cuda", "mps", "cpu"):
            b.problem(f"unknown device {options['device']!r}", field="device", allowed=["cuda", "mps", "cpu"])

    def _device_plan(self, plan: ImagePlan):
        from providers.ltx.local_device import choose_device, detect_cached
        from providers.ltx.local_device import plan as device_plan
        from providers.ltx.local_models import LocalModel

        m = self.capabilities().model(plan.model)
        acc = detect_cached()
        device = choose_device(plan.request.options.get("device") or self.settings.ltx_local_device, acc)
        need = LocalModel(id=m.id, repo_id=plan.sent["source"], family="sd", params_b=0,
                          min_vram_gb=m.min_vram_gb or 4, comfortable_vram_gb=m.comfortable_vram_gb or 8)
        return device_plan(need, device, acc)

    def check_available(self, plan: ImagePlan) -> None:
        super().check_available(plan)
        self._device_plan(plan)  # no GPU and no device chosen: UnavailableError naming --device cpu

    # ---- workers ----
    def _worker(self, plan: ImagePlan, progress: ProgressCallback) -> SDWorker:
        dplan = self._device_plan(plan)

        def start() -> SDWorker:
            progress(ProgressEvent(stage="queued", message=f"starting the local image worker: {dplan.describe()}"))
            return SDWorker(plan.sent["source"], dplan.model_dump_json())

        return self._pool.get((plan.sent["source"], dplan.device), start)

    def _arm_idle(self, worker: SDWorker) -> None:
        worker.arm_idle(self.settings.ltx_local_idle_s, busy=bool(worker.jobs))

    def worker_pids(self) -> list[int]:
        return self._pool.pids()

    async def deliver(self, plan: ImagePlan, call: ImageCall, progress: ProgressCallback) -> list[Delivered]:
        out = []
        for i, path in enumerate(call.outputs):
            seed = call.seed + i if call.seed is not None else None
            out.append(await self._one(plan, Path(path), seed, progress))
        return out

    async def _one(self, plan: ImagePlan, dest: Path, seed: Optional[int], progress: ProgressCallback) -> Delivered:
        worker = await asyncio.to_thread(self._worker, plan, progress)
        job = f"img-{uuid.uuid4().hex[:12]}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        render = dest.with_name(f".{dest.stem}.{owner_tag()}-{job}.render.png")
        spec = {"job_id": job, "prompt": plan.request.prompt, "negative_prompt": plan.sent.get("negative_prompt"),
                "width": plan.width, "height": plan.height, "steps": plan.sent["steps"],
                "guidance": plan.sent["guidance"], "seed": seed, "render_path": str(render),
                "init_image": str(plan.references[0]) if plan.references else None,
                "strength": plan.sent.get("strength", 0.7)}
        q: "queue.Queue[dict]" = queue.Queue()
        worker.jobs[job] = q
        worker.send(type="render", spec=spec)
        try:
            async for msg in worker.job_messages(q, progress, "image worker", "image"):
                kind = msg.get("type")
                if kind == "result":
                    data = render.read_bytes()
                    return Delivered(data=data, seed=msg["result"]["seed"])
                elif kind == "error":
                    cls = ERROR_KINDS.get(msg.get("kind", "error"), ImageAIError)
                    raise cls(f"local-sd: {msg.get('message', 'the image failed')}")
        except asyncio.CancelledError:
            worker.send(type="cancel", job=job)
            raise
        finally:
            worker.jobs.pop(job, None)
            if render.exists():
                render.unlink()
            if worker.alive:
                self._arm_idle(worker)

    async def aclose(self) -> None:
        await self._pool.aclose()

    def close(self) -> None:
        self._pool.close()
