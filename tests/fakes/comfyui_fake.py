"""A fake ComfyUI server on 127.0.0.1 speaking the real HTTP + websocket protocol (shapes from real ComfyUI 0.3.64
traffic, shared/research/local-backends.md 4.1/4.4). It validates prompts like ComfyUI (unknown node classes, values
not in a list, wrong input types -> 400 with node_errors), runs one prompt at a time from a queue, sends the
execution messages only to the prompt's client id, and writes real small outputs (MP4 through FFmpeg, animated WebP
through Pillow). Knobs make the next prompt fail (`execution_error`), hang until interrupted, or drop the
websocket mid-job."""
from __future__ import annotations

import asyncio
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Optional

from aiohttp import WSMsgType, web

from core.video.media import ffmpeg_exe

NODE_CLASSES = [
    "CheckpointLoaderSimple", "CLIPLoader", "CLIPTextEncode", "LTXVConditioning", "EmptyLTXVLatentVideo",
    "LTXVScheduler", "KSamplerSelect", "RandomNoise", "CFGGuider", "SamplerCustomAdvanced", "VAEDecode", "VAEEncode",
    "CreateVideo", "SaveVideo", "SaveWEBM", "SaveAnimatedWEBP", "SaveImage", "LoadImage", "LTXVPreprocess",
    "LTXVImgToVideo", "LTXVAddGuide", "LTXVCropGuides", "LoadVideo", "GetVideoComponents", "ImageScale",
    "ImageFromBatch", "SplitSigmasDenoise", "LoraLoaderModelOnly", "KSampler", "EmptyImage",
]
INT_INPUTS = {"width", "height", "length", "noise_seed", "seed", "steps", "frame_idx", "batch_index", "batch_size"}
FLOAT_INPUTS = {"cfg", "fps", "frame_rate", "strength_model", "denoise", "strength"}
SAMPLERS = {"SamplerCustomAdvanced", "KSampler"}


class FakeComfyUI:
    def __init__(self, *, missing_nodes: tuple[str, ...] = (), steps: int = 4, step_delay: float = 0.02,
                 checkpoints=("ltx-video-2b-v0.9.5.safetensors", "ltxv-13b-0.9.8-distilled.safetensors"),
                 clips=("t5xxl_fp16.safetensors",), loras=("style.safetensors",)):
        self.classes = [c for c in NODE_CLASSES if c not in missing_nodes]
        self.steps, self.step_delay = steps, step_delay
        self.checkpoints, self.clips, self.loras = list(checkpoints), list(clips), list(loras)
        self.received: list[dict] = []       # every accepted /prompt body
        self.uploads: dict[str, bytes] = {}
        self.files: dict[tuple[str, str], bytes] = {}
        self.history: dict[str, dict] = {}
        self.pending: list[tuple[int, str, dict, str]] = []
        self.running: Optional[str] = None
        self.interrupts: list[Optional[str]] = []
        self.deleted: list[str] = []
        self.fail_next = False
        self.hang_next = False
        self.drop_ws_next = False
        self.output_kind = "video"  # video (SaveVideo mp4), webp (SaveAnimatedWEBP), vhs (VHS gifs entry)
        self._sockets: dict[str, list[web.WebSocketResponse]] = {}
        self._interrupt = False
        self._counter = 0
        self._number = 0
        self._tmp = Path(tempfile.mkdtemp(prefix="fake-comfy-"))
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""

    # ---- lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> "FakeComfyUI":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 ** 2)
        app.add_routes([
            web.get("/object_info", self.object_info), web.post("/prompt", self.prompt),
            web.get("/history/{pid}", self.get_history), web.get("/view", self.view),
            web.post("/upload/image", self.upload), web.get("/queue", self.get_queue),
            web.post("/queue", self.post_queue), web.post("/interrupt", self.interrupt), web.get("/ws", self.ws),
        ])
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._work = asyncio.Event()
        self._executor = asyncio.ensure_future(self._execute_loop())

    def stop(self) -> None:
        async def _stop():
            self._executor.cancel()
            for socks in self._sockets.values():
                for ws in socks:
                    await ws.close()
            await self._runner.cleanup()
        asyncio.run_coroutine_threadsafe(_stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    # ---- HTTP routes --------------------------------------------------------------------------------------------
    async def object_info(self, request):
        info = {c: {"input": {"required": {}}, "output": [], "name": c} for c in self.classes}
        if "CheckpointLoaderSimple" in info:
            info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"] = [self.checkpoints, {}]
        if "CLIPLoader" in info:
            info["CLIPLoader"]["input"]["required"]["clip_name"] = [self.clips, {}]
        if "LoraLoaderModelOnly" in info:
            info["LoraLoaderModelOnly"]["input"]["required"]["lora_name"] = [self.loras, {}]
        return web.json_response(info)

    def _validate(self, graph: dict) -> Optional[dict]:
        for nid, node in graph.items():
            if node.get("class_type") not in self.classes:
                return {"error": {"type": "invalid_prompt", "message": f"Cannot execute because node "
                                  f"{node.get('class_type')} does not exist.", "details": f"Node ID '#{nid}'",
                                  "extra_info": {}}, "node_errors": {}}
        errors = {}
        lists = {("CheckpointLoaderSimple", "ckpt_name"): self.checkpoints, ("CLIPLoader", "clip_name"): self.clips,
                 ("LoraLoaderModelOnly", "lora_name"): self.loras, ("LoadImage", "image"): list(self.uploads),
                 ("LoadVideo", "file"): list(self.uploads)}
        for nid, node in graph.items():
            for name, value in node.get("inputs", {}).items():
                allowed = lists.get((node["class_type"], name))
                err = None
                if allowed is not None and value not in allowed:
                    err = {"type": "value_not_in_list", "message": "Value not in list",
                           "details": f"{name}: '{value}' not in {allowed}"}
                elif isinstance(value, list):
                    continue
                elif name in INT_INPUTS and not (isinstance(value, int) and not isinstance(value, bool)):
                    err = {"type": "invalid_input_type", "message": "Failed to convert an input value to a INT value",
                           "details": f"{name}, {value!r}"}
                elif name in FLOAT_INPUTS and not isinstance(value, (int, float)):
                    err = {"type": "invalid_input_type", "message": "Failed to convert an input value to a FLOAT "
                           "value", "details": f"{name}, {value!r}"}
                if err:
                    err["extra_info"] = {"input_name": name, "received_value": value}
                    errors.setdefault(nid, {"errors": [], "dependent_outputs": [], "class_type": node["class_type"]})
                    errors[nid]["errors"].append(err)
        if errors:
            return {"error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed "
                              "validation", "details": "", "extra_info": {}}, "node_errors": errors}
        return None

    async def prompt(self, request):
        body = await request.json()
        graph = body.get("prompt")
        if not isinstance(graph, dict) or not graph:
            return web.json_response({"error": {"type": "no_prompt", "message": "No prompt provided",
                                                "details": "", "extra_info": {}}, "node_errors": {}}, status=400)
        problem = self._validate(graph)
        if problem:
            return web.json_response(problem, status=400)
        pid = body.get("prompt_id") or str(uuid.uuid4())
        self._number += 1
        self.received.append(body)
        self.pending.append((self._number, pid, graph, body.get("client_id", "")))
        self._work.set()
        return web.json_response({"prompt_id": pid, "number": self._number, "node_errors": {}})

    async def get_history(self, request):
        pid = request.match_info["pid"]
        return web.json_response({pid: self.history[pid]} if pid in self.history else {})

    async def view(self, request):
        key = (request.query.get("subfolder", ""), request.query["filename"])
        if key not in self.files:
            return web.Response(status=404)
        ctype = {".mp4": "video/mp4", ".webp": "image/webp", ".webm": "video/webm"}.get(Path(key[1]).suffix,
                                                                                         "application/octet-stream")
        return web.Response(body=self.files[key], content_type=ctype)

    async def upload(self, request):
        form = await request.post()
        f = form["image"]
        name = f.filename
        self.uploads[name] = f.file.read()
        return web.json_response({"name": name, "subfolder": "", "type": "input"})

    async def get_queue(self, request):
        running = [[0, self.running, {}, {}, []]] if self.running else []
        return web.json_response({"queue_running": running,
                                  "queue_pending": [[n, pid, g, {}, []] for n, pid, g, _ in self.pending]})

    async def post_queue(self, request):
        body = await request.json()
        for pid in body.get("delete", []):
            self.deleted.append(pid)
            self.pending = [p for p in self.pending if p[1] != pid]
        return web.json_response({})

    async def interrupt(self, request):
        body = await request.json() if request.can_read_body else {}
        pid = (body or {}).get("prompt_id")
        self.interrupts.append(pid)
        if pid is None or pid == self.running:
            self._interrupt = True
        return web.json_response({})

    async def ws(self, request):
        cid = request.query.get("clientId") or uuid.uuid4().hex
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.setdefault(cid, []).append(ws)
        await ws.send_json({"type": "status", "data": {"status": {"exec_info": {"queue_remaining": len(
            self.pending) + (1 if self.running else 0)}}, "sid": cid}})
        try:
            async for msg in ws:
                if msg.type == WSMsgType.ERROR:
                    break
        finally:
            if ws in self._sockets.get(cid, []):
                self._sockets[cid].remove(ws)
        return ws

    # ---- execution ----------------------------------------------------------------------------------------------
    async def _send(self, cid: str, kind: str, data: dict) -> None:
        for ws in list(self._sockets.get(cid, [])):
            try:
                await ws.send_json({"type": kind, "data": data})
            except (ConnectionError, RuntimeError):
                pass

    async def _execute_loop(self) -> None:
        while True:
            if not self.pending:
                self._work.clear()
                await self._work.wait()
                continue
            _, pid, graph, cid = self.pending.pop(0)
            self.running = pid
            self._interrupt = False
            try:
                await self._execute(pid, graph, cid)
            finally:
                self.running = None

    async def _execute(self, pid: str, graph: dict, cid: str) -> None:
        messages = []

        async def send(kind, data):
            data = {**data, "prompt_id": pid, "timestamp": int(time.time() * 1000)}
            messages.append([kind, data])
            await self._send(cid, kind, data)

        fail, hang, drop = self.fail_next, self.hang_next, self.drop_ws_next
        self.fail_next = self.hang_next = self.drop_ws_next = False
        await send("execution_start", {})
        await send("execution_cached", {"nodes": []})
        outputs = {}
        for nid in sorted(graph, key=lambda k: int(k) if str(k).isdigit() else 0):
            node = graph[nid]
            await send("executing", {"node": nid, "display_node": nid})
            if node["class_type"] in SAMPLERS:
                step = 0
                while hang or step < self.steps:
                    if self._interrupt:
                        await send("execution_interrupted", {"node_id": nid, "node_type": node["class_type"],
                                                             "executed": []})
                        await send("executing", {"node": None})
                        self._record(pid, graph, {}, "error", messages)
                        return
                    step += 1
                    await send("progress", {"value": min(step, self.steps), "max": self.steps, "node": nid})
                    if drop and self._sockets.get(cid):  # the first step a client listens to
                        drop = False
                        for ws in list(self._sockets.get(cid, [])):
                            await ws.close()
                    await asyncio.sleep(self.step_delay)
                if fail:
                    await send("execution_error", {
                        "node_id": nid, "node_type": node["class_type"], "executed": [],
                        "exception_type": "torch.OutOfMemoryError", "exception_message": "CUDA out of memory",
                        "traceback": ["..."], "current_inputs": {}, "current_outputs": {}})
                    self._record(pid, graph, {}, "error", messages)
                    return
            if node["class_type"] in ("SaveVideo", "SaveAnimatedWEBP", "SaveWEBM"):
                out = await asyncio.get_running_loop().run_in_executor(None, self._make_output, graph, node)
                outputs[nid] = out
                await send("executed", {"node": nid, "display_node": nid, "output": out})
        await send("execution_success", {})
        await send("executing", {"node": None})
        self._record(pid, graph, outputs, "success", messages)

    def _record(self, pid, graph, outputs, status, messages) -> None:
        self.history[pid] = {"prompt": [0, pid, graph, {}, list(outputs)], "outputs": outputs,
                             "status": {"status_str": status, "completed": status == "success",
                                        "messages": messages}, "meta": {}}

    def _make_output(self, graph: dict, node: dict) -> dict:
        width, height, length, fps = 64, 64, 9, 24
        for n in graph.values():
            i = n["inputs"]
            if n["class_type"] in ("EmptyLTXVLatentVideo", "LTXVImgToVideo"):
                width, height, length = i["width"], i["height"], i["length"]
            if n["class_type"] == "CreateVideo" and not isinstance(i.get("fps"), list):
                fps = i["fps"]
        self._counter += 1
        prefix = str(node["inputs"].get("filename_prefix", "ComfyUI"))
        sub, _, base = prefix.rpartition("/")
        kind = self.output_kind
        if kind == "webp":
            from PIL import Image
            name = f"{base}_{self._counter:05d}_.webp"
            frames = [Image.new("RGB", (width, height), (20 * k % 255, 80, 160)) for k in range(length)]
            path = self._tmp / name
            frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), lossless=True)
            self.files[(sub, name)] = path.read_bytes()
            return {"images": [{"filename": name, "subfolder": sub, "type": "output"}], "animated": [True]}
        name = f"{base}_{self._counter:05d}_.mp4"
        path = self._tmp / name
        subprocess.run([ffmpeg_exe(), "-y", "-v", "error", "-f", "lavfi", "-i",
                        f"testsrc=size={width}x{height}:rate={fps}", "-frames:v", str(length), "-pix_fmt", "yuv420p",
                        str(path)], check=True, timeout=60)
        self.files[(sub, name)] = path.read_bytes()
        entry = {"filename": name, "subfolder": sub, "type": "output"}
        if kind == "vhs":
            return {"gifs": [{**entry, "format": "video/h264-mp4", "frame_rate": fps}]}
        return {"images": [entry], "animated": [True]}

