"""The ComfyUI deployment: fills a built-in LTX workflow template (or the user's own, `--workflow FILE.json`), checks
it against the server's /object_info, uploads the inputs, queues the prompt on one of the configured servers and
follows it until its history says it ended, then streams the result into the plan's output path.

- A job id is `<prompt_id>@<server id>`: the id names a configured server (providers/ltx/comfyui_servers.py), never
  a URL from the project file.
- Every check (nodes, model files, LoRA, choices, min/max) runs before the first upload, so a refused render leaves
  nothing on the server; a server that lacks something, or does not answer, is passed over for the next one.
- Uploads are named by their content (hash + suffix): two clips whose start frames are both `frame.png` each get
  their own image, and the same image is uploaded once.
- Waiting: the server keeps only the newest websocket per client id (an older socket with the same id hears
  nothing more), so every job listens under a client id of its own, derived from its prompt id. One shared socket
  per server would have to live on one event loop, and the CLI runs a loop per command while the GUI renders on a
  thread of its own; a per-job id also lets a restarted app listen to a job again. The socket only carries
  progress and wakes the poller: /history decides, polled every `poll_interval` (the socket may drop or never
  speak). A prompt that is neither in the history nor queued for LOST_AFTER_POLLS polls in a row is gone (a
  restarted server forgets its queue): a typed error ends the take within seconds instead of at the timeout.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import random
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from core.config import Settings
from core.errors import (BadOutputError, CancelledError, ImageAIError, InvalidRequestError, TransientError,
                         UnavailableError)
from core.render.contract import ProgressCallback, ProgressEvent, RenderResult, no_progress
from core.video.render_settings import frame_size
from providers.ltx import comfyui_output as outputs
from providers.ltx import comfyui_workflows as wf
from providers.ltx.backend import LTXBackend
from providers.ltx.comfyui_checks import MissingOnServer, choices, node_input, options, require
from providers.ltx.comfyui_client import ComfyUIClient, error_from_history, unreachable
from providers.ltx.comfyui_convert import to_api
from providers.ltx import comfyui_probe as probe
from providers.ltx.comfyui_farm import DOWN_AFTER_POLLS, FARM, run_seconds
from providers.ltx.comfyui_probe import weight_of
from providers.ltx.comfyui_servers import HEALTH, SETTING_HINT, ComfyServer, configured_servers, job_id, \
    server_of_job
from providers.ltx.comfyui_servers import job_id as job_of
from providers.ltx.local_models import LOCAL_MODELS

if TYPE_CHECKING:
    from providers.ltx.plan import LTXPlan

SPATIAL, TEMPORAL = 32, 8  # the LTX VAEs; ComfyUI checks only min/max, so the built-in templates snap
# hints carry separators so that an LTX-2.3 checkpoint (ltx-2.3-22b-...) is taken neither for LTX-2 19B nor for 2B
_LTX23 = ("ltx-2.3", "ltx_2.3", "ltx2.3", "ltx-2-3")
CKPT_HINTS = {"ltx-video-2b": ("-2b-", "_2b_", "-2b."), "ltx-video-13b": ("13b",),
              "ltx-2-19b": ("ltx-2-", "ltx2-", "ltx_2_", "19b"), "ltx-2.3-fast": _LTX23, "ltx-2.3-pro": _LTX23}
#: polls in a row in which the server knows nothing of a prompt before it counts as lost
LOST_AFTER_POLLS = 3
_UPLOAD = "\x00upload:"  # stands for a file not uploaded yet while the graph is checked


class ServerDown(Exception):
    """The server following a prompt stopped answering: the scene moves (inside wait(), never seen outside)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def client_id_for(prompt_id: str) -> str:
    return f"imageai-{prompt_id}"


def snap(width: int, height: int, frames: int) -> tuple[int, int, int, list[str]]:
    from providers.ltx.local_pipelines import snap_size
    return snap_size(width, height, frames, SPATIAL, TEMPORAL)


class ComfyUIBackend(LTXBackend):
    deployment = "comfyui"

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.poll_interval = settings.poll_interval_s
        self.health = HEALTH
        self._object_info: dict[str, dict] = {}    # server URL -> /object_info (asked once per session)
        self._uploaded: dict[str, set[str]] = {}   # server URL -> names uploaded this session
        self._moved: dict[str, str] = {}           # the job id a take was given -> where its prompt runs now
        self._cancelled: set[str] = set()
        self._seeds: dict[str, int] = {}

    # ---- configuration ----------------------------------------------------------------------------------------
    def servers(self) -> list[ComfyServer]:
        return configured_servers(self.settings)

    def unavailable_reason(self) -> Optional[str]:
        try:
            servers = self.servers()
        except InvalidRequestError as exc:
            return str(exc)
        if not servers:
            return f"no ComfyUI server configured: set {SETTING_HINT} (commas for several)"
        bad = [f"{k}={v:g}" for k, v in (self.settings.comfyui_server_weights or {}).items() if not v > 0]
        if bad:
            return f"comfyui_server_weights: capacity weights must be above 0 ({', '.join(bad)})"
        return None

    def check(self, plan: "LTXPlan") -> None:
        s = plan.config
        if s.workflow:
            graph = wf.load_user_workflow(s.workflow)
            wf.fill(graph, self._values(plan, dict.fromkeys(wf.USER_PLACEHOLDERS, 0) | {
                "image": "x" if plan.start_image else None, "end_image": "x" if s.end_image else None,
                "video": "x" if s.extend_video or s.source_video else None}), allowed=wf.USER_PLACEHOLDERS)
        if s.reference_images:
            raise InvalidRequestError("reference images are not supported by the ComfyUI templates",
                                      field="reference_images", allowed=["start_image", "end_image", "keyframes"])
        if s.extend_video and s.extend_direction == "both":
            raise InvalidRequestError("ComfyUI extends one side per render", field="extend_direction",
                                      allowed=["forward", "backward"])
        if s.lora_path and not s.lora_path.endswith(".safetensors"):
            raise InvalidRequestError("LoRA files are .safetensors", field="lora_path")
        if not s.workflow and s.keyframes and not (s.start_image and s.end_image):
            raise InvalidRequestError("keyframes on ComfyUI need a start and an end image", field="end_image")
        for name, p in self._inputs(plan):
            if not Path(p).is_file() and p != plan.pending_video:  # a parent's clip still to be rendered
                raise InvalidRequestError(f"no such file: {p}", field=name.split(":")[0])

    # ---- what is rendered -------------------------------------------------------------------------------------
    @staticmethod
    def _inputs(plan: "LTXPlan") -> list[tuple[str, Path]]:
        """The files to upload, by the placeholder (or keyframe) that names them."""
        s = plan.config
        out = [(k, Path(p)) for k, p in (("image", plan.start_image), ("end_image", s.end_image),
                                          ("video", s.extend_video or s.source_video)) if p is not None]
        if s.workflow:  # a workflow of the user's own gets the files its placeholders name, no more
            used = wf.placeholders(wf.load_user_workflow(s.workflow))
            return [(k, p) for k, p in out if k in used]
        return out + [(f"keyframe:{i}", Path(p)) for i, (_, p) in enumerate(s.keyframes)]

    def _shape(self, plan: "LTXPlan") -> tuple[int, int, int, list[str]]:
        """Width, height and frame count. A custom workflow gets exactly what was asked; the built-in templates
        snap to the LTX VAE's grid (multiples of 32, 8k+1 frames)."""
        s = plan.config
        width, height = (s.width, s.height) if s.width and s.height else frame_size(s.resolution, s.aspect_ratio)
        frames = s.frames or int(round(s.duration * s.fps)) + 1
        if s.workflow:
            return width, height, frames, []
        return snap(width, height, frames)

    def _values(self, plan: "LTXPlan", extra: dict) -> dict:
        s = plan.config
        info = LOCAL_MODELS.get(s.model or "")
        w, h, f, _ = self._shape(plan)
        # the plan's prompt: the camera wording where no camera LoRA takes the motion, the audio prompt folded in
        return {"prompt": plan.prompt, "negative_prompt": s.negative_prompt or "", "width": w, "height": h,
                "num_frames": f, "fps": s.fps, "seed": s.seed if s.seed is not None else 0,
                "steps": s.num_inference_steps or (info.default_steps if info else 30),
                "cfg": s.guidance_scale if s.guidance_scale is not None else (info.default_guidance if info else 3.0),
                "lora_strength": s.lora_scale, "denoise": 0.6, **extra}

    def _extend(self, plan: "LTXPlan") -> dict:
        """How an extension overlaps its source (the same at submit and after a restart)."""
        from core.video.media import count_frames

        s = plan.config
        f = self._shape(plan)[2]
        src_frames = count_frames(s.extend_video)
        overlap = max(1, (min(src_frames, (f - 1) // 2 + 1) - 1) // TEMPORAL * TEMPORAL + 1)
        backward = s.extend_direction == "backward"
        return {"overlap": overlap, "backward": backward, "overlap_start": 0 if backward else src_frames - overlap,
                "guide_frame": f - overlap if backward else 0}

    def _graph(self, plan: "LTXPlan", info: dict, names: dict[str, str], seed: int, server: str) -> dict:
        """The filled graph for one server; MissingOnServer when the server lacks what it needs."""
        s = plan.config
        uploads = {k: v for k, v in names.items() if not k.startswith("keyframe:")}
        extra: dict = {"seed": seed, "image": None, "end_image": None, "video": None, **uploads}
        skip = frozenset(names.values())  # uploads: not in the server's lists as it answered before them
        if s.workflow:
            # a UI-format file is converted with this server's /object_info (its widget order per node class)
            graph = wf.fill(to_api(wf.load_user_workflow(s.workflow), info, server), self._values(plan, extra),
                            allowed=wf.USER_PLACEHOLDERS)
            require(graph, info, server, skip=skip)
            return graph
        mode = wf.template_for(s.model, "image-to-video" if plan.start_image and plan.mode == "text-to-video"
                               else plan.mode, audio=s.include_audio, camera_lora=plan.camera_lora is not None,
                               lora=bool(s.lora_path))
        if mode == "extend":
            extra.update({k: v for k, v in self._extend(plan).items() if k != "backward"})
        graph = wf.load_template(mode, s.model)  # the template set of the model's LTX version
        if s.lora_path and mode != "lora":
            graph = wf.add_lora(graph, "{{lora_name}}", "{{lora_strength}}")
        if s.keyframes:
            f = self._shape(plan)[2]
            graph = wf.add_keyframe_guides(graph, [
                (min(f - 1, max(0, int(round(t * s.fps)))), names[f"keyframe:{i}"])
                for i, (t, _) in enumerate(s.keyframes)])
        extra.update(wf.model_values(s.model, info))
        if "ckpt_name" in wf.placeholders(graph):  # the LTX-2.5 set loads a split transformer instead
            extra["ckpt_name"] = self.checkpoint_for(info, s.model, server)
        if plan.camera_lora:  # the camera-LoRA template: the server's file for the motion, strength from the speed
            extra["lora_name"] = wf.camera_lora_file(s.model, plan.camera_lora, info)
            extra["lora_strength"] = plan.camera_scale
        clips = options(node_input(info, "CLIPLoader", "clip_name")) or []
        t5 = [c for c in clips if "t5" in str(c).lower()] or clips
        extra["clip_name"] = t5[0] if t5 else "t5xxl_fp16.safetensors"  # the check below names what is missing
        if s.lora_path:
            extra["lora_name"] = Path(s.lora_path).name
        graph = wf.fill(graph, self._values(plan, extra))
        require(graph, info, server, skip=skip)
        return graph

    def checkpoint_for(self, info: dict, model: Optional[str], server: str) -> str:
        """The checkpoint a render of `model` loads there (also what the Settings dialog's server test names): the
        comfyui_checkpoints setting, else the server's LTX file matching the model; MissingOnServer without one."""
        configured = self.settings.comfyui_checkpoints.get(model or "")
        if configured:
            return configured  # checked with the rest of the graph
        found = choices(info, "CheckpointLoaderSimple", "ckpt_name")
        ltx = [c for c in found if "ltx" in c.lower()]
        hints = CKPT_HINTS.get(model or "", ())
        for c in ltx:
            if any(h in c.lower() for h in hints):
                return c
        if ltx and not hints:
            return ltx[0]
        raise MissingOnServer(f"ComfyUI server {server} has no LTX checkpoint for {model} (found: "
                              f"{', '.join(found) or 'none'}); put one in ComfyUI's models/checkpoints, or name it "
                              f"in the comfyui_checkpoints setting", field="model")

    # ---- servers ----------------------------------------------------------------------------------------------
    def _order(self, exclude: frozenset[str] = frozenset()) -> list[ComfyServer]:
        """Servers that answer, first finish first (providers/ltx/comfyui_farm.py), then those marked down."""
        servers = [s for s in self.servers() if s.id not in exclude]
        if not servers:
            raise UnavailableError(self.unavailable_reason() or "no other ComfyUI server to move the scene to")
        for s in servers:
            FARM.server(s, weight_of(self.settings, s))
        ranked = sorted(enumerate(servers), key=lambda p: (FARM.expected_finish(p[1]), p[0]))
        up = [s for _, s in ranked if self.health.down_reason(s.url) is None and not FARM.is_down(s)]
        return up + [s for _, s in ranked if s not in up]

    async def _info(self, client: ComfyUIClient) -> dict:
        url = client.base_url
        if url not in self._object_info:
            self._object_info[url] = await client.object_info()
        return self._object_info[url]

    async def _upload_all(self, client: ComfyUIClient, plan: "LTXPlan",
                          progress: ProgressCallback) -> dict[str, str]:
        done = self._uploaded.setdefault(client.base_url, set())
        names: dict[str, str] = {}
        for key, path in self._inputs(plan):
            name = await asyncio.to_thread(content_name, path)
            if name not in done:
                progress(ProgressEvent(stage="uploading", message=f"uploading {path.name} to {client.server.id}"))
                name = await client.upload(path, name)
                done.add(name)
            names[key] = name
        return names

    # ---- the contract -----------------------------------------------------------------------------------------
    async def submit(self, plan: "LTXPlan", progress: ProgressCallback = no_progress) -> str:
        for note in self._shape(plan)[3]:
            progress(ProgressEvent(stage="validating", message=f"adjusted: {note}"))
        seed = plan.config.seed if plan.config.seed is not None else random.randrange(2 ** 32)
        job = await self._place(plan, progress, seed, str(uuid.uuid4()))
        self._seeds[job] = seed
        return job

    async def _place(self, plan: "LTXPlan", progress: ProgressCallback, seed: int, prompt_id: str,
                     exclude: frozenset[str] = frozenset(), hold: bool = True) -> str:
        """Queue the prompt where it finishes first; with `hold` and a choice of servers, wait in the app while
        that server has no room (comfyui_farm.py); a lone server queues every scene at once, a moved one never
        waits."""
        placeholders = {key: f"{_UPLOAD}{key}" for key, _ in self._inputs(plan)}
        lacking: dict[str, MissingOnServer] = {}
        unanswered: dict[str, str] = {}
        while True:
            order = [s for s in self._order(exclude) if s.id not in lacking]
            usable = [s for s in order if s.id not in unanswered]
            best = usable[0] if usable else None
            if best is not None and hold and len(usable) > 1 and not FARM.has_room(best) and not FARM.is_down(best):
                # held for `best`: counted there, so the next waiting scene sees it ahead and may go elsewhere
                FARM.job_added(best, f"held:{prompt_id}", "held")
                try:
                    await self._wait_for_room([s for s in usable if FARM.server(s).jobs])
                finally:
                    FARM.unhold(best, f"held:{prompt_id}")
                continue
            if best is None:
                break
            FARM.job_added(best, prompt_id, "placing")  # counted from the choice on: concurrent placements see it
            client = ComfyUIClient(best, self.health)
            try:
                info = await self._info(client)
                self._graph(plan, info, placeholders, seed, best.id)  # every check, before any upload
                names = await self._upload_all(client, plan, progress)
                graph = self._graph(plan, info, names, seed, best.id)
                # a server older than prompt_id in /prompt names its own id: then only the polls follow the job
                queued_id = await client.queue_prompt(graph, prompt_id, client_id_for(prompt_id))
            except MissingOnServer as exc:
                FARM.job_ended(best, prompt_id)
                lacking[best.id] = exc
                continue
            except TransientError as exc:  # another server may take the scene
                FARM.job_ended(best, prompt_id)
                if not exc.not_created:  # it stopped answering as the prompt was sent: removed there if it came
                    FARM.moved_away(best, prompt_id)
                unanswered[best.id] = str(exc)
                continue
            except BaseException:
                FARM.job_ended(best, prompt_id)
                raise
            FARM.job_ended(best, prompt_id)
            FARM.job_added(best, queued_id)
            progress(ProgressEvent(stage="submitted", message=f"queued on {best.id} as {queued_id}"))
            return job_id(queued_id, best)
        if len(lacking) == 1 and not unanswered:
            raise next(iter(lacking.values()))
        if lacking:
            raise MissingOnServer("; ".join([e.reason for e in lacking.values()] + list(unanswered.values())),
                                  field="workflow")
        raise TransientError("no ComfyUI server answers: " + "; ".join(unanswered.values()), not_created=True)

    async def _wait_for_room(self, busy: list[ComfyServer]) -> None:
        """Until a prompt of this app starts or ends somewhere: asks the busy servers' queues (no follower may be
        polling them yet) and waits for news from the followers."""
        await FARM.wait_change(self.poll_interval)
        for s in busy:
            try:
                await probe.refresh(ComfyUIClient(s, self.health), every_s=self.poll_interval)
            except TransientError:
                continue

    async def wait(self, job_id: str, plan: "LTXPlan", progress: ProgressCallback = no_progress) -> RenderResult:
        job = self._moved.get(job_id, job_id)
        prompt_id, server = server_of_job(job, self.settings)
        finished = False
        try:
            while True:
                client = ComfyUIClient(server, self.health)
                try:
                    entry = await self._follow(client, prompt_id, job, progress)
                    break
                except ServerDown as down:
                    server = await self._move(prompt_id, server, plan, progress, job_id, down.reason)
                    job = self._moved[job_id] = job_of(prompt_id, server)
            FARM.measured(server, prompt_id, run_seconds(entry))
            err = error_from_history(entry)
            if err is not None:
                raise err
            progress(ProgressEvent(stage="downloading", message=f"fetching the clip from {server.id}"))
            info = await self._save_output(client, entry, plan)
            progress(ProgressEvent(stage="done", fraction=1.0))
            seed = self._seeds.get(job_id)
            finished = True
            return RenderResult(clip_path=Path(plan.config.output_path), duration=info.duration, width=info.width,
                                height=info.height, fps=info.fps or plan.config.fps, has_audio=info.has_audio,
                                remote_job_id=job, seed=seed if seed is not None else _seed_of(entry))
        except ImageAIError as exc:
            finished = not exc.retryable  # the queue calls wait() again on a retryable error: keep the job
            raise
        except BaseException:
            finished = True
            raise
        finally:
            if finished:
                FARM.job_ended(server, prompt_id)
                self._seeds.pop(job_id, None)
                self._cancelled.discard(job_id)

    async def _move(self, prompt_id: str, old: ComfyServer, plan: "LTXPlan", progress: ProgressCallback,
                    job: str, reason: str) -> ComfyServer:
        """The server the scene runs on now that `old` went down: where it already is (moved by an earlier run),
        or queued anew under the same prompt id and seed; `old` removes it when it answers again."""
        others = [s for s in self.servers() if s.id != old.id]
        FARM.moved_away(old, prompt_id)
        try:
            found = await probe.find_elsewhere(prompt_id, others, self.health)
            if found is not None:
                new = found
                FARM.job_added(new, prompt_id)
            else:
                seed = self._seeds.get(job, plan.config.seed if plan.config.seed is not None else
                                       random.randrange(2 ** 32))
                new = server_of_job(await self._place(plan, progress, seed, prompt_id, frozenset({old.id}),
                                                      hold=False), self.settings)[1]
        except (TransientError, UnavailableError) as exc:
            FARM.cleaned(old, prompt_id)  # nowhere else to go: the prompt on `old` is still the one wanted
            raise TransientError(f"ComfyUI server {old.id} went down ({reason}) and no other server can take "
                                 f"the scene ({exc})", not_created=False) from None
        progress(ProgressEvent(stage="queued", message=f"warning: ComfyUI server {old.id} went down ({reason}): "
                                                       f"this scene moved to {new.id}"))
        return new

    async def _follow(self, client: ComfyUIClient, prompt_id: str, job: str, progress: ProgressCallback) -> dict:
        """Poll until the history has the prompt; the websocket reports progress and wakes the poll early.
        ServerDown after DOWN_AFTER_POLLS failed polls in a row (or when the farm marked the server down and this
        poll fails too)."""
        wake = asyncio.Event()
        listener = asyncio.ensure_future(self._listen(client, prompt_id, progress, wake))
        misses, failures, last, dropped = 0, 0, None, False
        server = client.server
        try:
            while True:
                try:
                    state, detail = await client.where(prompt_id)
                except TransientError as exc:
                    failures += 1
                    if failures >= DOWN_AFTER_POLLS or FARM.is_down(server):
                        FARM.mark_down(server, f"{failures} polls unanswered")
                        raise ServerDown(f"{failures} polls unanswered") from exc
                    await asyncio.sleep(self.poll_interval)
                    continue
                failures = 0
                FARM.answered(server, queue=client.queue_length)
                await probe.clean_returned(self.servers(), self.poll_interval, self.health)
                if state == "done":
                    return detail  # type: ignore[return-value]
                if job in self._cancelled:
                    raise CancelledError("the ComfyUI prompt was cancelled")
                if state == "unknown":
                    misses += 1
                    if misses >= LOST_AFTER_POLLS:
                        others = [s for s in self.servers() if s.id != server.id]
                        if await probe.find_elsewhere(prompt_id, others, self.health) is not None:
                            raise ServerDown(f"it no longer has prompt {prompt_id}, which is on another server")
                        err = ImageAIError(f"ComfyUI server {server.id} no longer knows prompt {prompt_id} "
                                           f"(it was restarted, or its queue or history was cleared): the render "
                                           f"is lost there; render the scene again")
                        err.result_gone = True
                        raise err
                else:
                    misses = 0
                    FARM.job_state(server, prompt_id, state)
                    if (state, detail) != last:
                        progress(ProgressEvent(stage="queued", queue_position=detail, message=f"queued on "
                                               f"{server.id} (position {detail})") if state == "queued" else
                                 ProgressEvent(stage="running", message=f"running on {server.id}"))
                    last = (state, detail)
                if listener.done() and not dropped:
                    dropped = True  # said once: the socket is gone, polling goes on
                    progress(ProgressEvent(stage="running", message="waiting for ComfyUI (polling /history)"))
                try:
                    await asyncio.wait_for(wake.wait(), self.poll_interval)
                except asyncio.TimeoutError:
                    pass
                wake.clear()
        finally:
            listener.cancel()
            try:
                await listener
            except BaseException:  # the listener's end is of no interest once the poll decided
                pass

    async def _listen(self, client: ComfyUIClient, prompt_id: str, progress: ProgressCallback,
                      wake: asyncio.Event) -> None:
        messages = client.messages(client_id_for(prompt_id))
        try:
            async for msg in messages:
                data = msg.get("data") if isinstance(msg.get("data"), dict) else {}
                if data.get("prompt_id") not in (None, prompt_id):
                    continue
                kind = msg.get("type")
                if kind == "execution_start":
                    progress(ProgressEvent(stage="running", fraction=0.0, message="started"))
                elif kind == "progress" and isinstance(data.get("max"), (int, float)) and data["max"] > 0:
                    value = data.get("value") if isinstance(data.get("value"), (int, float)) else 0
                    progress(ProgressEvent(stage="running", fraction=max(0.0, min(1.0, value / data["max"])),
                                           message=f"node {data.get('node')}: {value}/{data['max']}"))
                elif kind in ("execution_success", "execution_error", "execution_interrupted") or (
                        kind == "executing" and data.get("node") is None and data.get("prompt_id") == prompt_id):
                    wake.set()  # ended: the history has it now
        finally:
            await messages.aclose()

    async def _save_output(self, client: ComfyUIClient, entry: dict, plan: "LTXPlan"):
        """Stream the result beside the output path, convert it to H.264 there, check it; the clip's facts. On any
        failure nothing is left at the output path."""
        from core.video.media import probe
        from providers.ltx.transfer import CAP_UNKNOWN_SECONDS, download_cap_bytes

        item = outputs.pick_output(entry.get("outputs") or {})
        if item is None:
            raise BadOutputError("the ComfyUI prompt finished without a video or animated image output (a workflow "
                                 "needs SaveVideo, SaveWEBM, SaveAnimatedWEBP/PNG or VHS_VideoCombine)")
        s = plan.config
        out = Path(s.output_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        w, h, f, _ = self._shape(plan)
        ext = outputs.suffix_of(item["filename"])
        seconds = plan.expected_duration or ((plan.min_duration or 0.0) + CAP_UNKNOWN_SECONDS)
        cap = download_cap_bytes(w, h, seconds, self.settings)
        if ext in outputs.ANIMATED_EXT:
            cap = max(cap, outputs.animated_cap_bytes(w, h, f))
        raw = outputs.temp_beside(out, ext)
        made = outputs.temp_beside(out, ".mp4")
        try:
            await client.view_to_file(item, raw, cap)
            await asyncio.to_thread(self._convert, raw, made, item["filename"], plan, w, h, f)
            try:
                info = await asyncio.to_thread(probe, made)
            except InvalidRequestError as exc:
                raise BadOutputError(f"ComfyUI's output is not a playable clip ({exc})") from None
            expected = plan.expected_duration
            if expected and abs(info.duration - expected) > max(0.6, expected * 0.15):
                raise BadOutputError(f"ComfyUI's clip is {info.duration:.2f} s, expected about {expected:.2f} s")
            if plan.min_duration and info.duration < plan.min_duration - 0.6:
                raise BadOutputError(f"ComfyUI's clip is {info.duration:.2f} s, expected at least "
                                     f"{plan.min_duration:.2f} s")
            os.replace(made, out)
            return info.model_copy(update={"path": out})
        finally:
            raw.unlink(missing_ok=True)
            made.unlink(missing_ok=True)

    def _convert(self, raw: Path, made: Path, name: str, plan: "LTXPlan", w: int, h: int, f: int) -> None:
        s = plan.config
        ext = outputs.suffix_of(name)
        if ext in outputs.ANIMATED_EXT:
            outputs.animated_to_mp4(raw, made, fps=s.fps, expected_frames=f, width=w, height=h)
        elif ext == ".mp4":
            outputs.check_video_file(raw)
            os.replace(raw, made)
        elif ext in outputs.VIDEO_EXT:
            outputs.video_to_mp4(raw, made)
        else:
            raise BadOutputError(f"ComfyUI's output {name[:80]!r} is neither a video nor an animated image")
        if s.extend_video:
            ext_info = self._extend(plan)
            joined = outputs.temp_beside(made, ".mp4")
            try:
                outputs.join_extension(made, Path(s.extend_video), joined, overlap=ext_info["overlap"],
                                       backward=ext_info["backward"], fps=s.fps)
                os.replace(joined, made)
            finally:
                joined.unlink(missing_ok=True)

    async def cancel(self, job_id: str) -> None:
        prompt_id, server = server_of_job(self._moved.get(job_id, job_id), self.settings)
        self._cancelled.add(job_id)
        client = ComfyUIClient(server, self.health)
        state, _ = await client.where(prompt_id)
        if state == "running":
            await client.interrupt(prompt_id)
        elif state == "queued":
            await client.delete_queued(prompt_id)


def content_name(path: Path) -> str:
    """The upload name of a file: its content's hash and its suffix (the same file is the same name)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    suffix = Path(path).suffix.lower()
    return f"imageai-{h.hexdigest()[:24]}{suffix if suffix[1:].isalnum() else ''}"


def _seed_of(entry: dict) -> Optional[int]:
    """The seed a finished prompt ran with, read from the graph its history keeps (a restarted app has no other)."""
    try:
        graph = entry["prompt"][2]
    except (KeyError, IndexError, TypeError):
        return None
    for node in graph.values() if isinstance(graph, dict) else []:
        inputs = node.get("inputs") or {} if isinstance(node, dict) else {}
        for key in ("noise_seed", "seed"):
            if isinstance(inputs.get(key), int) and not isinstance(inputs.get(key), bool):
                return inputs[key]
    return None
