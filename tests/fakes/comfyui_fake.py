"""A fake ComfyUI 0.3.x server on 127.0.0.1 that behaves like the real one where the app's bugs hid (the real
server's server.py and execution.py; traffic shapes from ComfyUI 0.3.64, shared/research/local-backends.md 4.1/4.4):

- /object_info is the real one recorded from a ComfyUI server (tests/data/comfyui/object_info.json, from
  shared/data), with the model lists filled from this fake's checkpoints, text encoders and LoRAs, and the
  LoadImage / LoadVideo lists from its input files; `missing_nodes` removes node classes;
- /prompt validates like execution.validate_inputs: unknown class, missing required input, bad link, link type,
  values converted to INT/FLOAT/STRING/BOOLEAN, min/max (not step), combo lists; it takes a client-chosen prompt_id;
- websockets: the server keeps only the NEWEST socket per client id (an older one with the same id hears nothing
  more), and when a socket closes its id's entry is dropped, whichever socket it holds (`finally: sockets.pop`);
- /upload/image with overwrite replaces a file of the same name; LoadImage reads the file when the prompt RUNS;
- SaveAnimatedWEBP / SaveAnimatedPNG write through Pillow, which merges identical consecutive frames (a batch of 49
  identical frames comes back as one still frame);
- /view streams its file; /history of an unknown prompt is {}; one prompt runs at a time, in queue order.
Faults: `fail_next` (execution_error), `hang_next` (runs until interrupted), `drop_ws_next` (closes the prompt's
socket mid-run), `junk_next` (a bad output: "png_as_mp4", "short", "truncated", "gif_bomb", "huge", "none"),
`still` (every frame identical), `output_kind` ("video", "webp", "apng", "webm", "vhs"); `restart()` forgets the
queue and history as a restarted server does; `stop()` kills it; `freeze()` makes it stop answering mid-run (a hung
host: connections refused, sockets dropped, execution paused, state and port kept) and `thaw(run=...)` answers again (`freeze_at_start`: as the n-th prompt starts), its
execution held until `run_again()` when `run=False`. Servers of different speeds: `step_delay` (seconds per sampler
step). `completions` counts the prompts run to success, by prompt id; `busy_s` the seconds spent executing."""
from __future__ import annotations

import asyncio
import io
import json
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Optional

from aiohttp import WSMsgType, web

from core.video.media import ffmpeg_exe
from tests.fakes.comfyui_validate import _node_errors, _top

OBJECT_INFO = Path(__file__).resolve().parent.parent / "data" / "comfyui" / "object_info.json"
# node classes newer than the recording (the LTX-2.x graph nodes), described from their source
NEWER_NODES = OBJECT_INFO.with_name("object_info_newer.json")
# the custom-node pack ComfyUI-LTXVideo's node classes, for a fake that has the pack installed (packs=...)
PACK_NODES = {"ComfyUI-LTXVideo": OBJECT_INFO.with_name("object_info_pack.json")}
IMAGE_EXT = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
VIDEO_EXT = (".mp4", ".webm", ".mov", ".mkv", ".avi")
SAMPLERS = {"SamplerCustomAdvanced", "KSampler", "SamplerCustom", "KSamplerAdvanced"}
SAVERS = {"SaveVideo", "SaveWEBM", "SaveAnimatedWEBP", "SaveAnimatedPNG"}


@lru_cache(maxsize=1)
def _recorded() -> str:
    info = json.loads(OBJECT_INFO.read_text(encoding="utf-8"))
    newer = json.loads(NEWER_NODES.read_text(encoding="utf-8"))
    return json.dumps({**info, **{k: v for k, v in newer.items() if k not in info}})


class FakeComfyUI:
    def __init__(self, *, missing_nodes: tuple[str, ...] = (), packs: tuple[str, ...] = (), steps: int = 4,
                 step_delay: float = 0.02,
                 checkpoints=("ltx-video-2b-v0.9.5.safetensors", "ltxv-13b-0.9.8-distilled.safetensors"),
                 clips=("t5xxl_fp16.safetensors",), loras=("style.safetensors",), unets=(), vaes=(),
                 port: int = 0):
        self.missing_nodes = set(missing_nodes)
        self.packs = tuple(packs)
        self.steps, self.step_delay = steps, step_delay
        self.checkpoints, self.clips, self.loras = list(checkpoints), list(clips), list(loras)
        # models/diffusion_models and models/vae (the LTX-2.5 split files); clips are models/text_encoders
        self.unets, self.vaes = list(unets), list(vaes)
        self.port = port
        self._sock: Optional[socket.socket] = None  # the port held while frozen (nothing listens on it)
        self.received: list[dict] = []            # every accepted /prompt body
        self.requests: list[tuple[str, str]] = []  # every request: (method, path)
        self.uploads: dict[str, bytes] = {}        # the input folder
        self.inputs_used: dict[str, dict[str, bytes]] = {}  # prompt id -> LoadImage node -> the bytes it read
        self.files: dict[tuple[str, str], bytes] = {}
        self.history: dict[str, dict] = {}
        self.pending: list[tuple[int, str, dict, str]] = []
        self.running: Optional[str] = None
        self.executed: list[str] = []
        self.interrupts: list[Optional[str]] = []
        self.deleted: list[str] = []
        self.fail_next = self.hang_next = self.drop_ws_next = False
        self.junk_next: Optional[str] = None
        self.still = False
        self.huge_bytes = 96 * 1024 * 1024
        self.output_kind = "video"
        self.sockets: dict[str, web.WebSocketResponse] = {}
        self.completions: dict[str, int] = {}
        self.busy_s = 0.0
        self.timeline: list[tuple[str, float, float]] = []  # (prompt id, start, end) on time.monotonic()
        self.frozen = False
        self.freeze_at_start: Optional[int] = None  # freeze as the n-th prompt starts (mid-run, deterministic)
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
        @web.middleware
        async def log(request, handler):
            self.requests.append((request.method, request.path))
            return await handler(request)

        app = web.Application(client_max_size=64 * 1024 ** 2, middlewares=[log])
        routes = [
            ("GET", "/object_info", self.object_info), ("GET", "/object_info/{node}", self.object_info_of),
            ("POST", "/prompt", self.prompt),
            ("GET", "/prompt", self.prompt_info), ("GET", "/history/{pid}", self.get_history),
            ("GET", "/history", self.all_history), ("GET", "/view", self.view),
            ("POST", "/upload/image", self.upload), ("GET", "/queue", self.get_queue),
            ("POST", "/queue", self.post_queue), ("POST", "/interrupt", self.interrupt),
            ("GET", "/system_stats", self.system_stats), ("GET", "/ws", self.ws)]
        for method, path, handler in routes:  # the real server serves each route under /api too
            app.router.add_route(method, path, handler)
            app.router.add_route(method, "/api" + path, handler)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await self._listen()
        self.url = f"http://127.0.0.1:{self.port}"
        self._running = asyncio.Event()
        self._running.set()
        self._work = asyncio.Event()
        self._executor = asyncio.ensure_future(self._execute_loop())

    def _bind(self) -> socket.socket:
        """A socket on this fake's port (the first: any free one), bound, not listening yet. SO_REUSEPORT (not
        SO_REUSEADDR, which would let another socket bind it too) lets the next one take the port while the
        listener still holds it: a frozen fake keeps its port, so no other process's server starts on it meanwhile
        (the app would then hear a stranger that knows none of its prompts) and thaw() always gets it back."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        return sock

    async def _listen(self) -> None:
        if self._sock is None:
            self._sock = self._bind()
        self._sock.listen(128)
        self._site = web.SockSite(self._runner, self._sock)  # the site closes this socket when it stops
        self._sock = None
        await self._site.start()

    async def _freeze(self) -> None:
        self.frozen = True
        self._running.clear()
        for ws in list(self.sockets.values()):
            await ws.close()
        self._sock = self._bind()  # bound, not listening: connections are refused and the port stays this fake's
        await self._site.stop()

    def freeze(self) -> None:
        """Stop answering (connections refused, sockets closed) and pause execution; queue and history stay."""
        asyncio.run_coroutine_threadsafe(self._freeze(), self.loop).result(10)

    def thaw(self, run: bool = True) -> None:
        """Answer again on the same port; execution resumes now (`run`), or only at `run_again()`."""
        async def _thaw():
            await self._listen()
            self.frozen = False
            if run:
                self._running.set()
        asyncio.run_coroutine_threadsafe(_thaw(), self.loop).result(10)

    def run_again(self) -> None:
        self.loop.call_soon_threadsafe(self._running.set)

    def call(self, fn, *args):
        """Run `fn(*args)` on the server's loop (its state is only touched there)."""
        async def go():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(go(), self.loop).result(10)

    def restart(self) -> None:
        """Forget the queue and the history and drop every socket, as a restarted server does (files stay)."""
        async def _restart():
            self._executor.cancel()
            self.pending.clear()
            self.history.clear()
            self.running = None
            for ws in list(self.sockets.values()):
                await ws.close()
            self.sockets.clear()
            self._executor = asyncio.ensure_future(self._execute_loop())
        asyncio.run_coroutine_threadsafe(_restart(), self.loop).result(10)

    def stop(self) -> None:
        async def _stop():
            self._executor.cancel()
            for ws in list(self.sockets.values()):
                await ws.close()
            await self._runner.cleanup()
            if self._sock is not None:  # stopped while frozen
                self._sock.close()
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(_stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    # ---- /object_info -------------------------------------------------------------------------------------------
    def info(self) -> dict:
        recorded = json.loads(_recorded())
        for pack in self.packs:
            recorded.update(json.loads(PACK_NODES[pack].read_text(encoding="utf-8")))
        info = {k: v for k, v in recorded.items() if k not in self.missing_nodes}
        models = {"ckpt_name": self.checkpoints, "clip_name": self.clips, "clip_name1": self.clips,
                  "clip_name2": self.clips, "text_encoder": self.clips, "lora_name": self.loras,
                  "unet_name": self.unets, "vae_name": ["pixel_space", *self.vaes]}
        for node in info.values():
            for section in ("required", "optional"):
                for name, spec in (node["input"].get(section) or {}).items():
                    if name in models and isinstance(spec, list) and isinstance(spec[0], list):
                        spec[0] = list(models[name])
                    elif name in models and isinstance(spec, list) and spec[0] == "COMBO":  # the newer form
                        spec[1]["options"] = list(models[name])
        if "LoadImage" in info:
            info["LoadImage"]["input"]["required"]["image"][0] = sorted(
                n for n in self.uploads if n.lower().endswith(IMAGE_EXT))
        if "LoadVideo" in info:
            info["LoadVideo"]["input"]["required"]["file"][1]["options"] = sorted(
                n for n in self.uploads if n.lower().endswith(VIDEO_EXT))
        return info

    async def object_info(self, request):
        return web.json_response(self.info())

    async def object_info_of(self, request):
        node = request.match_info["node"]
        info = self.info()
        return web.json_response({node: info[node]} if node in info else {})

    # ---- /prompt, as execution.validate_prompt --------------------------------------------------------------------
    def _validate(self, graph: dict) -> Optional[dict]:
        info = self.info()
        for nid, node in graph.items():
            if not isinstance(node, dict) or "class_type" not in node:
                return _top("invalid_prompt", "Cannot execute because a node is missing the class_type property.",
                            f"Node ID '#{nid}'")
            if node["class_type"] not in info:
                return _top("invalid_prompt", f"Cannot execute because node {node['class_type']} does not exist.",
                            f"Node ID '#{nid}'")
        if not any(info[n["class_type"]].get("output_node") for n in graph.values()):
            return _top("prompt_no_outputs", "Prompt has no outputs", "")
        node_errors = {}
        for nid, node in graph.items():
            errors = _node_errors(graph, node, info)
            if errors:
                node_errors[nid] = {"errors": errors, "dependent_outputs": [], "class_type": node["class_type"]}
        if node_errors:
            body = _top("prompt_outputs_failed_validation", "Prompt outputs failed validation", "")
            body["node_errors"] = node_errors
            return body
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
        pid = str(body.get("prompt_id") or uuid.uuid4())
        self._number += 1
        self.received.append(body)
        self.pending.append((self._number, pid, graph, str(body.get("client_id", ""))))
        self._work.set()
        return web.json_response({"prompt_id": pid, "number": self._number, "node_errors": {}})

    async def prompt_info(self, request):
        return web.json_response({"exec_info": {"queue_remaining": len(self.pending) + bool(self.running)}})

    async def get_history(self, request):
        pid = request.match_info["pid"]
        return web.json_response({pid: self.history[pid]} if pid in self.history else {})

    async def all_history(self, request):
        return web.json_response(self.history)

    async def view(self, request):
        key = (request.query.get("subfolder", ""), request.query.get("filename", ""))
        if key not in self.files:
            return web.Response(status=404)
        data = self.files[key]
        resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        if data == b"HUGE":  # a body far over any cap, sent chunked: only a streaming reader stops in time
            await resp.prepare(request)
            chunk = b"\0" * (1 << 20)
            try:
                for _ in range(self.huge_bytes // len(chunk)):
                    await resp.write(chunk)
            except (ConnectionError, RuntimeError):
                pass
            return resp
        resp.content_length = len(data)
        await resp.prepare(request)
        for i in range(0, len(data), 1 << 16):
            await resp.write(data[i:i + (1 << 16)])
        return resp

    async def upload(self, request):
        form = await request.post()
        f = form["image"]
        name = Path(f.filename).name
        if form.get("overwrite") not in ("true", "1"):
            stem, ext = Path(name).stem, Path(name).suffix
            i = 1
            while name in self.uploads:
                name = f"{stem} ({i}){ext}"
                i += 1
        self.uploads[name] = f.file.read()  # overwrite: the same name is the same file, whatever it held before
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

    async def system_stats(self, request):
        return web.json_response({"system": {"os": "posix", "comfyui_version": "0.3.64-fake"},
                                  "devices": [{"name": "cpu", "type": "cpu", "index": None}]})

    async def ws(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sid = request.query.get("clientId") or uuid.uuid4().hex
        self.sockets[sid] = ws  # the newest socket of an id replaces the older one
        try:
            await ws.send_json({"type": "status", "data": {"status": {"exec_info": {
                "queue_remaining": len(self.pending) + bool(self.running)}}, "sid": sid}})
            async for msg in ws:
                if msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.sockets.pop(sid, None)  # as the real server: even when a newer socket holds the id now
        return ws

    # ---- execution ----------------------------------------------------------------------------------------------
    async def _send(self, cid: str, kind: str, data: dict) -> None:
        ws = self.sockets.get(cid)
        if ws is not None:
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
            await self._running.wait()  # a frozen server takes nothing new
            if not self.pending:
                continue
            _, pid, graph, cid = self.pending.pop(0)
            self.running = pid
            self._interrupt = False
            began = time.monotonic()
            try:
                await self._execute(pid, graph, cid)
            finally:
                self.running = None
                self.busy_s += time.monotonic() - began
                self.timeline.append((pid, began, time.monotonic()))

    async def _execute(self, pid: str, graph: dict, cid: str) -> None:
        messages = []

        async def send(kind, data):
            data = {**data, "prompt_id": pid, "timestamp": int(time.time() * 1000)}
            messages.append([kind, data])
            await self._send(cid, kind, data)

        fail, hang, drop = self.fail_next, self.hang_next, self.drop_ws_next
        junk, self.junk_next = self.junk_next, None
        self.fail_next = self.hang_next = self.drop_ws_next = False
        self.executed.append(pid)
        if self.freeze_at_start == len(self.executed):
            self._running.clear()  # before its first step
            asyncio.ensure_future(self._freeze())
        await send("execution_start", {})
        await send("execution_cached", {"nodes": []})
        self.inputs_used[pid] = {nid: self.uploads.get(n["inputs"].get("image"), b"") for nid, n in graph.items()
                                 if n["class_type"] == "LoadImage"}  # read when the prompt runs, as the real one
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
                    await self._running.wait()  # frozen mid-run: the step waits
                    if self._interrupt:
                        continue
                    step += 1
                    await send("progress", {"value": min(step, self.steps), "max": self.steps, "node": nid})
                    if drop and cid in self.sockets:  # the first step a client listens to
                        drop = False
                        await self.sockets[cid].close()
                    await asyncio.sleep(self.step_delay)
                if fail:
                    await send("execution_error", {
                        "node_id": nid, "node_type": node["class_type"], "executed": [],
                        "exception_type": "torch.OutOfMemoryError", "exception_message": "CUDA out of memory",
                        "traceback": ["..."], "current_inputs": {}, "current_outputs": {}})
                    self._record(pid, graph, {}, "error", messages)
                    return
            if node["class_type"] in SAVERS and junk != "none":
                out = await asyncio.get_running_loop().run_in_executor(None, self._make_output, pid, graph, node,
                                                                       junk)
                outputs[nid] = out
                await send("executed", {"node": nid, "display_node": nid, "output": out})
        await send("execution_success", {})
        await send("executing", {"node": None})
        self._record(pid, graph, outputs, "success", messages)
        self.completions[pid] = self.completions.get(pid, 0) + 1

    def _record(self, pid, graph, outputs, status, messages) -> None:
        self.history[pid] = {"prompt": [0, pid, graph, {}, list(outputs)], "outputs": outputs,
                             "status": {"status_str": status, "completed": status == "success",
                                        "messages": messages}, "meta": {}}

    # ---- outputs ------------------------------------------------------------------------------------------------
    def _frames(self, pid: str, graph: dict, width: int, height: int, length: int) -> list:
        from PIL import Image
        start = next((v for v in self.inputs_used.get(pid, {}).values() if v), None)
        base = Image.open(io.BytesIO(start)).convert("RGB").resize((width, height)) if start else None
        frames = []
        for k in range(length):
            if base is not None and (k == 0 or self.still):
                frames.append(base)
            else:
                frames.append(Image.new("RGB", (width, height), (90, 80, 160) if self.still else
                                        (20 * k % 255, 80, 160)))
        return frames

    def _make_output(self, pid: str, graph: dict, node: dict, junk: Optional[str]) -> dict:
        width, height, length, fps = 64, 64, 9, 24.0
        for n in graph.values():
            i = n["inputs"]
            if n["class_type"] in ("EmptyLTXVLatentVideo", "LTXVImgToVideo"):
                width, height, length = int(i["width"]), int(i["height"]), int(i["length"])
            if n["class_type"] == "CreateVideo" and not isinstance(i.get("fps"), list):
                fps = float(i["fps"])
        if node["class_type"] != "SaveVideo" and not isinstance(node["inputs"].get("fps"), list):
            fps = float(node["inputs"].get("fps", fps))
        width, height = width // 2 * 2, height // 2 * 2
        if junk == "short":
            length = max(2, length // 3)
        self._counter += 1
        prefix = str(node["inputs"].get("filename_prefix", "ComfyUI"))
        sub, _, base = prefix.rpartition("/")
        kind = {"SaveAnimatedWEBP": "webp", "SaveAnimatedPNG": "apng", "SaveWEBM": "webm"}.get(
            node["class_type"], self.output_kind)
        frames = self._frames(pid, graph, width, height, length)
        if junk == "gif_bomb":  # a few hundred bytes that claim a 9000x9000 canvas and hundreds of frames
            name = f"{base}_{self._counter:05d}_.gif"
            self.files[(sub, name)] = gif_bomb()
            return {"gifs": [{"filename": name, "subfolder": sub, "type": "output", "format": "image/gif"}]}
        if kind in ("webp", "apng"):
            ext = ".webp" if kind == "webp" else ".png"
            name = f"{base}_{self._counter:05d}_{ext}"
            buf = io.BytesIO()
            extra = {"lossless": True} if kind == "webp" else {}
            frames[0].save(buf, format="WEBP" if kind == "webp" else "PNG", save_all=True,
                           append_images=frames[1:], duration=int(1000.0 / fps), **extra)  # ComfyUI's own call
            self.files[(sub, name)] = buf.getvalue()
            return {"images": [{"filename": name, "subfolder": sub, "type": "output"}], "animated": [length != 1]}
        ext = ".webm" if kind == "webm" else ".mp4"
        name = f"{base}_{self._counter:05d}_{ext}"
        path = self._tmp / name
        codec = ["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "40"] if ext == ".webm" else \
            ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
        # a CreateVideo fed the decoded audio (the LTX-2.x audio templates) gives the clip a sound track: a tone
        sound = ext == ".mp4" and any(n["class_type"] == "CreateVideo" and isinstance(n["inputs"].get("audio"), list)
                                      for n in graph.values())
        tone = ["-f", "lavfi", "-i", f"sine=frequency=440:duration={length / fps:.3f}", "-c:a", "aac",
                "-shortest"] if sound else []
        subprocess.run([ffmpeg_exe(), "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s",
                        f"{width}x{height}", "-r", f"{fps:g}", "-i", "-", *tone, *codec, str(path)],
                       input=b"".join(f.tobytes() for f in frames), check=True, timeout=60)
        data = path.read_bytes()
        if junk == "png_as_mp4":
            buf = io.BytesIO()
            frames[0].save(buf, format="PNG")
            data = buf.getvalue()
        elif junk == "truncated":
            data = data[: len(data) // 3]
        elif junk == "huge":
            data = b"HUGE"
        self.files[(sub, name)] = data
        entry = {"filename": name, "subfolder": sub, "type": "output"}
        if kind == "vhs":
            return {"gifs": [{**entry, "format": "video/h264-mp4", "frame_rate": fps}]}
        return {"images": [entry], "animated": [True]}


def gif_bomb(side: int = 9000, frames: int = 400) -> bytes:
    """A GIF of a few KiB whose canvas is side x side pixels, with `frames` tiny distinct frames."""
    from PIL import Image
    imgs = [Image.new("P", (1, 1), k % 2) for k in range(frames)]
    for im in imgs:
        im.putpalette([0, 0, 0, 255, 255, 255])
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:], duration=40, disposal=1)
    data = bytearray(buf.getvalue())
    data[6:10] = side.to_bytes(2, "little") * 2  # the logical screen: what every decoded frame is drawn on
    return bytes(data)

