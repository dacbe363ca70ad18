"""The ComfyUI deployment: fills a built-in LTX workflow template (or the user's own, `--workflow FILE.json`), uploads
the inputs, queues the prompt on one of the configured servers and follows it over the websocket, falling back to
/history polling when the socket drops, so a finished result is never lost. Job ids are `<prompt_id>@<server>`, so
a restarted app finds the server of a job again."""
from __future__ import annotations

import asyncio
import itertools
import os
import random
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from core.config import Settings
from core.errors import CancelledError, ImageAIError, InvalidRequestError, TransientError, UnavailableError
from core.video.media import count_frames, probe
from core.video.render_settings import frame_size
from providers.base import ProgressCallback, ProgressEvent, RenderResult, no_progress
from providers.ltx import camera
from providers.ltx.backend import LTXBackend
from providers.ltx import comfyui_workflows as wf
from providers.ltx.comfyui_client import ComfyUIClient, error_from_history
from providers.ltx.local_models import LOCAL_MODELS

if TYPE_CHECKING:
    from providers.ltx.plan import LTXPlan

SPATIAL, TEMPORAL = 32, 8  # LTX VAEs; ComfyUI checks only min/max, so the app snaps (research 4.1)
VIDEO_EXT = (".mp4", ".webm", ".mov", ".mkv")
ANIMATED_EXT = (".webp", ".gif", ".png", ".apng")
CKPT_HINTS = {"ltx-video-2b": ("2b",), "ltx-video-13b": ("13b",), "ltx-2-19b": ("ltx-2", "ltx2")}


def snap(width: int, height: int, frames: int) -> tuple[int, int, int, list[str]]:
    from providers.ltx.local_pipelines import snap_size
    return snap_size(width, height, frames, SPATIAL, TEMPORAL)


class ComfyUIBackend(LTXBackend):
    deployment = "comfyui"

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.poll_interval = settings.poll_interval_s
        self.client_id = uuid.uuid4().hex
        self._object_info: dict[str, dict] = {}
        self._inflight: dict[str, int] = {}
        self._rr = itertools.count()
        self._cancelled: set[str] = set()
        self._seeds: dict[str, Optional[int]] = {}
        self._finish_info: dict[str, dict] = {}

    # ---- configuration ----------------------------------------------------------------------------------------
    def servers(self) -> list[str]:
        raw = self.settings.effective("comfyui_url") or ""
        return [u.strip().rstrip("/") for u in raw.split(",") if u.strip()]

    def unavailable_reason(self) -> Optional[str]:
        if not self.servers():
            return "no ComfyUI address: set IMAGEAI_COMFYUI_URL or the comfyui_url setting (commas for several)"
        return None

    def check(self, plan: "LTXPlan") -> None:
        s = plan.config
        if s.workflow:
            graph = wf.load_user_workflow(s.workflow)
            wf.fill(graph, self._values(plan, dict.fromkeys(wf.USER_PLACEHOLDERS, 0) | {
                "image": "x" if plan.config.start_image else None, "end_image": "x" if plan.config.end_image else None}),
                allowed=wf.USER_PLACEHOLDERS)
        if plan.config.reference_images:
            raise InvalidRequestError("reference images are not supported by the ComfyUI templates",
                                      field="reference_images", allowed=["start_image", "end_image", "keyframes"])
        if plan.config.extend_video and s.extend_direction == "both":
            raise InvalidRequestError("ComfyUI extends one side per render", field="extend_direction",
                                      allowed=["forward", "backward"])
        if s.lora_path and not s.lora_path.endswith(".safetensors"):
            raise InvalidRequestError("LoRA files are .safetensors", field="lora_path")
        for name in ("start_image", "end_image", "source_video", "extend_video"):
            p = getattr(plan, name)
            if p is not None and not Path(p).is_file():
                raise InvalidRequestError(f"no such file: {p}", field=name)

    # ---- servers ----------------------------------------------------------------------------------------------
    def _client(self, server: str) -> ComfyUIClient:
        return ComfyUIClient(server, self.client_id)

    async def connect(self, server: str, needed: set[str]) -> dict:
        """/object_info of a server (cached), checked for the node classes a workflow needs."""
        if server not in self._object_info:
            self._object_info[server] = await self._client(server).object_info()
        info = self._object_info[server]
        missing = sorted(needed - set(info))
        if missing:
            raise UnavailableError(f"ComfyUI at {server} lacks the nodes {', '.join(missing)}; update ComfyUI or "
                                   f"install the custom nodes that provide them")
        return info

    def _pick_server(self) -> str:
        """The server with the fewest renders in flight from this app; ties go round-robin."""
        servers = self.servers()
        if not servers:
            raise UnavailableError(self.unavailable_reason() or "no ComfyUI server")
        start = next(self._rr) % len(servers)
        order = servers[start:] + servers[:start]
        return min(order, key=lambda s: self._inflight.get(s, 0))

    @staticmethod
    def _choices(info: dict, node: str, field: str) -> list[str]:
        try:
            spec = info[node]["input"]["required"][field][0]
        except (KeyError, IndexError, TypeError):
            return []
        return [c for c in spec if isinstance(c, str)] if isinstance(spec, list) else []

    def _checkpoint(self, info: dict, model: Optional[str], server: str) -> str:
        configured = self.settings.comfyui_checkpoints.get(model or "")
        choices = self._choices(info, "CheckpointLoaderSimple", "ckpt_name")
        if configured:
            if configured not in choices:
                raise UnavailableError(f"checkpoint {configured} is not installed on {server} "
                                       f"(found: {', '.join(choices) or 'none'})")
            return configured
        ltx = [c for c in choices if "ltx" in c.lower()]
        hints = CKPT_HINTS.get(model or "", ())
        for c in ltx:
            if any(h in c.lower() for h in hints):
                return c
        if ltx and not hints:
            return ltx[0]
        raise UnavailableError(f"no LTX checkpoint for {model} on {server} (found: {', '.join(choices) or 'none'}); "
                               f"put one in ComfyUI's models/checkpoints")

    # ---- building the prompt ----------------------------------------------------------------------------------
    def _values(self, plan: "LTXPlan", extra: dict) -> dict:
        s = plan.config
        info = LOCAL_MODELS.get(s.model or "")
        width, height = (s.width, s.height) if s.width and s.height else frame_size(s.resolution, s.aspect_ratio)
        frames = s.frames or int(round(s.duration * s.fps)) + 1
        w, h, f, _ = snap(width, height, frames)
        prompt, _, _ = camera.apply(plan.config.prompt, s.camera_motion, s.camera_speed, "prompt")
        return {"prompt": prompt, "negative_prompt": plan.config.negative_prompt or "", "width": w, "height": h,
                "num_frames": f, "fps": s.fps, "seed": s.seed if s.seed is not None else 0,
                "steps": s.num_inference_steps or (info.default_steps if info else 30),
                "cfg": s.guidance_scale if s.guidance_scale is not None else (info.default_guidance if info else 3.0),
                "lora_strength": s.lora_scale, "denoise": 0.6, **extra}

    async def build(self, plan: "LTXPlan", server: str, progress: ProgressCallback) -> tuple[dict, dict]:
        """The filled graph and what finishing the job needs (extension join)."""
        s = plan.config
        client = self._client(server)
        width, height = (s.width, s.height) if s.width and s.height else frame_size(s.resolution, s.aspect_ratio)
        frames = s.frames or int(round(s.duration * s.fps)) + 1
        w, h, f, notes = snap(width, height, frames)
        for n in notes:
            progress(ProgressEvent(stage="validating", message=f"adjusted: {n}"))
        seed = s.seed if s.seed is not None else random.randrange(2 ** 32)
        uploads: dict[str, Optional[str]] = {"image": None, "end_image": None, "video": None}
        progress(ProgressEvent(stage="uploading", message=f"uploading inputs to {server}"))
        if plan.config.start_image:
            uploads["image"] = await client.upload(plan.config.start_image)
        if plan.config.end_image:
            uploads["end_image"] = await client.upload(plan.config.end_image)
        finish: dict = {}
        extra: dict = {"seed": seed, **uploads}
        if s.workflow:
            graph = wf.load_user_workflow(s.workflow)
            await self.connect(server, wf.node_classes(graph))
            return wf.fill(graph, self._values(plan, extra), allowed=wf.USER_PLACEHOLDERS), {"seed": seed}
        keyframes = list(plan.config.keyframes)
        if plan.config.extend_video:
            mode = "extend"
            src_frames = count_frames(plan.config.extend_video)
            overlap = max(1, (min(src_frames, (f - 1) // 2 + 1) - 1) // TEMPORAL * TEMPORAL + 1)
            backward = s.extend_direction == "backward"
            extra.update(video=await client.upload(plan.config.extend_video), overlap=overlap,
                         overlap_start=0 if backward else src_frames - overlap, guide_frame=f - overlap if backward
                         else 0)
            finish = {"extend": str(plan.config.extend_video), "overlap": overlap, "backward": backward}
        elif plan.config.source_video:
            mode = "video-to-video"
            extra["video"] = await client.upload(plan.config.source_video)
        elif plan.config.end_image or keyframes:
            mode = "first-last-frame"
            if not plan.config.start_image or not plan.config.end_image:
                raise InvalidRequestError("keyframes on ComfyUI need a start and an end image", field="end_image")
        elif plan.config.start_image:
            mode = "image-to-video"
        else:
            mode = "lora" if s.lora_path else "text-to-video"
        graph = wf.load_template(mode)
        if s.lora_path and mode != "lora":
            graph = wf.add_lora(graph, "{{lora_name}}", "{{lora_strength}}")
        if keyframes:
            guides = []
            for t, path in keyframes:
                guides.append((min(f - 1, max(0, int(round(t * s.fps)))), await client.upload(Path(path))))
            graph = wf.add_keyframe_guides(graph, guides)
        info = await self.connect(server, wf.node_classes(graph))
        extra["ckpt_name"] = self._checkpoint(info, s.model, server)
        clips = self._choices(info, "CLIPLoader", "clip_name")
        t5 = [c for c in clips if "t5" in c.lower()] or clips
        if not t5:
            raise UnavailableError(f"no text encoder (t5xxl) in ComfyUI's models/text_encoders on {server}")
        extra["clip_name"] = t5[0]
        if s.lora_path:
            name = Path(s.lora_path).name
            loras = self._choices(info, "LoraLoaderModelOnly", "lora_name")
            if name not in loras:
                raise InvalidRequestError(f"LoRA {name} is not installed on {server}; copy it into ComfyUI's "
                                          f"models/loras", field="lora_path", allowed=loras)
            extra["lora_name"] = name
        finish["seed"] = seed
        return wf.fill(graph, self._values(plan, extra)), finish

    # ---- the contract -----------------------------------------------------------------------------------------
    async def submit(self, plan: "LTXPlan", progress: ProgressCallback = no_progress) -> str:
        server = self._pick_server()
        self._inflight[server] = self._inflight.get(server, 0) + 1
        try:
            graph, finish = await self.build(plan, server, progress)
            prompt_id = await self._client(server).queue_prompt(graph)
        except BaseException:
            self._inflight[server] -= 1
            raise
        job_id = f"{prompt_id}@{server}"
        self._seeds[job_id] = finish.get("seed")
        self._finish_info[job_id] = finish
        progress(ProgressEvent(stage="submitted", message=f"queued on {server} as {prompt_id}"))
        return job_id

    @staticmethod
    def _split(job_id: str) -> tuple[str, str]:
        if "@" not in job_id:
            raise InvalidRequestError(f"not a ComfyUI job id: {job_id}", field="job_id")
        prompt_id, server = job_id.split("@", 1)
        return prompt_id, server

    async def wait(self, job_id: str, plan: "LTXPlan",
                   progress: ProgressCallback = no_progress) -> RenderResult:
        prompt_id, server = self._split(job_id)
        client = self._client(server)
        retry_possible = False
        try:
            entry = await self._follow(client, prompt_id, job_id, progress)
            err = error_from_history(entry)
            if err is not None:
                raise err
            progress(ProgressEvent(stage="downloading", message="fetching the clip"))
            finish = self._finish_info.get(job_id, {})
            await self._save_output(client, entry, plan, finish)
            info = probe(plan.config.output_path)
            progress(ProgressEvent(stage="done", fraction=1.0))
            return RenderResult(clip_path=Path(plan.config.output_path), duration=info.duration, width=info.width,
                                height=info.height, fps=info.fps or plan.config.fps, has_audio=info.has_audio,
                                remote_job_id=job_id, seed=self._seeds.get(job_id, plan.config.seed))
        except ImageAIError as exc:
            retry_possible = exc.retryable  # the queue calls wait() again: keep what finishing needs
            raise
        finally:
            if job_id in self._seeds and not retry_possible:
                self._inflight[server] = max(0, self._inflight.get(server, 1) - 1)
                self._seeds.pop(job_id, None)
                self._finish_info.pop(job_id, None)

    async def _follow(self, client: ComfyUIClient, prompt_id: str, job_id: str, progress: ProgressCallback) -> dict:
        """Websocket events until the prompt ends; /history decides (also after a dropped socket)."""
        entry = await client.history(prompt_id)
        if entry:
            return entry
        messages = client.messages()
        try:
            async for msg in messages:
                data = msg.get("data") or {}
                if job_id in self._cancelled:
                    break
                if data.get("prompt_id") not in (None, prompt_id):
                    continue
                kind = msg.get("type")
                if kind == "status":
                    # the socket is open now: a prompt that ended before it opened is already in the history
                    entry = await client.history(prompt_id)
                    if entry:
                        return entry
                elif kind == "execution_start":
                    progress(ProgressEvent(stage="running", fraction=0.0, message="started"))
                elif kind == "progress" and data.get("max"):
                    progress(ProgressEvent(stage="running", fraction=min(1.0, data["value"] / data["max"]),
                                           message=f"node {data.get('node')}: {data['value']}/{data['max']}"))
                elif kind == "execution_error":
                    raise _execution_error(data)
                elif kind == "execution_interrupted":
                    raise CancelledError("the ComfyUI prompt was interrupted")
                elif kind == "executing" and data.get("node") is None and data.get("prompt_id") == prompt_id:
                    break
                elif kind == "execution_success":
                    break
        finally:
            await messages.aclose()
        # finished, dropped or cancelled: the history has the last word
        while True:
            entry = await client.history(prompt_id)
            if entry:
                return entry
            if job_id in self._cancelled:
                raise CancelledError("the ComfyUI prompt was cancelled")
            progress(ProgressEvent(stage="running", message="waiting for ComfyUI (polling /history)"))
            await asyncio.sleep(self.poll_interval)

    async def _save_output(self, client: ComfyUIClient, entry: dict, plan: "LTXPlan", finish: dict) -> None:
        item = pick_output(entry.get("outputs") or {})
        if item is None:
            raise TransientError("the ComfyUI prompt finished without a video or animated image output")
        data = await client.view(item["filename"], item.get("subfolder", ""), item.get("type", "output"))
        out = Path(plan.config.output_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        ext = Path(item["filename"]).suffix.lower()
        fd, raw = tempfile.mkstemp(suffix=ext, prefix=".comfy-", dir=out.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            if ext in ANIMATED_EXT:
                frames, fps = animated_frames(Path(raw), plan.config.fps)
            elif finish.get("extend") or ext != ".mp4":
                info = probe(Path(raw))
                frames, fps = _video_array(Path(raw), info.width, info.height), round(info.fps or
                                                                                       plan.config.fps)
            else:
                os.replace(raw, out)
                return
            if finish.get("extend"):
                frames = join_extension(frames, Path(finish["extend"]), finish["overlap"], finish["backward"])
            from providers.ltx.local_pipelines import write_clip
            write_clip(frames, int(fps), out)
        finally:
            if os.path.exists(raw):
                os.unlink(raw)

    async def cancel(self, job_id: str) -> None:
        prompt_id, server = self._split(job_id)
        self._cancelled.add(job_id)
        client = self._client(server)
        state = await client.queue_state()
        running = {item[1] for item in state.get("queue_running", []) if len(item) > 1}
        if prompt_id in running:
            await client.interrupt(prompt_id)
        else:
            await client.delete_queued(prompt_id)


def _execution_error(data: dict) -> ImageAIError:
    return ImageAIError(f"ComfyUI node {data.get('node_id')} ({data.get('node_type')}) failed: "
                        f"{data.get('exception_type', '')}: {data.get('exception_message', '')}")


def pick_output(outputs: dict) -> Optional[dict]:
    """The first video among the outputs, else the first animated image (any node, any of images/gifs/videos)."""
    items = []
    for node_id in sorted(outputs, key=lambda k: (not str(k).isdigit(), int(k) if str(k).isdigit() else 0, k)):
        out = outputs[node_id]
        animated = any(out.get("animated") or [])
        for key in ("videos", "gifs", "images"):
            for item in out.get(key) or []:
                if isinstance(item, dict) and item.get("filename"):
                    items.append((item, animated or key == "gifs"))
    for item, _ in items:
        if Path(item["filename"]).suffix.lower() in VIDEO_EXT:
            return item
    for item, animated in items:
        ext = Path(item["filename"]).suffix.lower()
        if ext in (".webp", ".gif") or (ext in (".png", ".apng") and animated):
            return item
    return None


def animated_frames(path: Path, default_fps: int):
    """Frames (F, H, W, 3) of an animated WebP/GIF/APNG (FFmpeg cannot decode animated WebP), and its frame rate."""
    import numpy as np
    from PIL import Image, ImageSequence

    with Image.open(path) as im:
        frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
        ms = im.info.get("duration") or 0
    fps = round(1000 / ms) if ms else default_fps
    arr = np.stack(frames)
    h, w = arr.shape[1] // 2 * 2, arr.shape[2] // 2 * 2  # H.264 4:2:0 needs even sides
    return arr[:, :h, :w], fps


def _video_array(path: Path, width: int, height: int):
    import numpy as np
    from providers.ltx.local_pipelines import read_video_frames

    return np.stack([np.asarray(f) for f in read_video_frames(path, width, height)])


def join_extension(new, source: Path, overlap: int, backward: bool):
    """Source clip + the new frames (forward), or the new frames + source (backward), dropping the overlap."""
    import numpy as np

    src = _video_array(source, new.shape[2], new.shape[1])
    if backward:
        return np.concatenate([new[: len(new) - overlap], src])
    return np.concatenate([src, new[overlap:]])

