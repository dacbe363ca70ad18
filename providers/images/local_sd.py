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
import json
import os
import queue
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any, Optional

from core.child_process import child_kwargs
from core.errors import ERROR_KINDS, ImageAIError, TransientError, UnavailableError
from core.images.contract import ImageCall, ImageModelInfo, ImagePlan, ProgressCallback, ProgressEvent
from core.images.planning import ImagePlanBuilder
from core.video.leftovers import owner_tag
from providers.images.base import CatalogImageProvider, Delivered

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = ("model_path", "device", "steps", "guidance")


class SDWorker:
    """One worker process and the thread that reads its messages."""

    def __init__(self, source: str, plan_json: str):
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "providers.images.local_sd_worker", "--source", source, "--plan", plan_json],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(ROOT), env=env,
            text=True, encoding="utf-8", bufsize=1, **child_kwargs())
        self.ready = threading.Event()
        self.finished = threading.Event()
        self.fatal: Optional[dict] = None
        self.exit_code: Optional[int] = None
        self.jobs: dict[str, "queue.Queue[dict]"] = {}
        self.stderr_tail: list[str] = []
        self.lock = threading.Lock()
        self.idle_timer: Optional[threading.Timer] = None
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None and self.fatal is None

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            kind = msg.get("type")
            if kind == "ready":
                self.ready.set()
            elif kind == "fatal":
                self.fatal = msg
                self.ready.set()
            elif msg.get("job") in self.jobs:
                self.jobs[msg["job"]].put(msg)
        self.exit_code = self.proc.wait()
        self.finished.set()
        self.ready.set()
        for q in list(self.jobs.values()):
            q.put({"type": "dead", "code": self.exit_code})

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            self.stderr_tail = (self.stderr_tail + [line.rstrip()])[-20:]

    def send(self, **msg) -> None:
        with self.lock:
            try:
                self.proc.stdin.write(json.dumps(msg) + "\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass  # the reader reports the death to every job

    def stop(self, timeout: float = 10.0) -> None:
        if self.idle_timer:
            self.idle_timer.cancel()
        if self.proc.poll() is None:
            self.send(type="shutdown")
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class LocalSDProvider(CatalogImageProvider):
    name = "local-sd"
    display_name = "Local Stable Diffusion"
    catalog_name = "local_sd"
    charges = False
    option_names = OPTIONS

    def __init__(self, settings=None):
        super().__init__(settings)
        self._workers: dict[tuple[str, str], SDWorker] = {}
        self._lock = threading.Lock()

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
        key = (plan.sent["source"], dplan.device)
        with self._lock:
            worker = self._workers.get(key)
            if worker is not None and worker.alive:
                if worker.idle_timer:
                    worker.idle_timer.cancel()
                return worker
            progress(ProgressEvent(stage="queued", message=f"starting the local image worker: {dplan.describe()}"))
            worker = SDWorker(plan.sent["source"], dplan.model_dump_json())
            self._workers[key] = worker
            return worker

    def _arm_idle(self, worker: SDWorker) -> None:
        if worker.idle_timer:
            worker.idle_timer.cancel()
        if not worker.jobs:
            worker.idle_timer = threading.Timer(self.settings.ltx_local_idle_s, worker.stop)
            worker.idle_timer.daemon = True
            worker.idle_timer.start()

    def worker_pids(self) -> list[int]:
        return [w.proc.pid for w in self._workers.values() if w.proc.poll() is None]

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
            if not worker.ready.is_set():
                progress(ProgressEvent(stage="queued", message="loading the model in the local image worker"))
            while True:
                try:
                    msg = await asyncio.to_thread(q.get, True, 0.5)
                except queue.Empty:
                    if worker.finished.is_set():
                        q.put({"type": "dead", "code": worker.exit_code})
                    continue
                kind = msg.get("type")
                if kind == "progress":
                    progress(ProgressEvent(stage="running", fraction=min(1.0, msg["step"] / max(1, msg["total"])),
                                           message=f"step {msg['step']}/{msg['total']}"))
                elif kind == "result":
                    data = render.read_bytes()
                    return Delivered(data=data, seed=msg["result"]["seed"])
                elif kind == "error":
                    cls = ERROR_KINDS.get(msg.get("kind", "error"), ImageAIError)
                    raise cls(f"local-sd: {msg.get('message', 'the image failed')}")
                elif kind == "dead":
                    if worker.fatal:
                        raise UnavailableError(worker.fatal.get("message", "the local image worker could not start"))
                    tail = " | ".join(worker.stderr_tail[-3:])
                    raise TransientError(f"the local image worker ended during the image (exit code {msg['code']})"
                                         + (f": {tail}" if tail else "") + "; the next image starts a new one")
        except asyncio.CancelledError:
            worker.send(type="cancel", job=job)
            raise
        finally:
            worker.jobs.pop(job, None)
            if render.exists():
                render.unlink()
            if worker.proc.poll() is None:
                self._arm_idle(worker)

    async def aclose(self) -> None:
        workers = list(self._workers.values())
        self._workers.clear()
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in workers))

    def close(self) -> None:
        for w in list(self._workers.values()):
            w.stop()
        self._workers.clear()
