"""A small client of one ComfyUI server: HTTP routes and the websocket (shared/research/local-backends.md 4.1).

Each call opens its own aiohttp session, so one client works from any event loop (the CLI runs a loop per command,
the GUI one on a background thread). Errors are typed: a server that refuses the connection is a TransientError
with `unreachable` set and `not_created` (nothing reached it), and is marked down in the health registry; a
connection lost mid-request is a TransientError that may have reached the server; a result that is gone or over its
size cap is a BadOutputError. Results are streamed to a file under a cap, never read whole into memory."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import AsyncIterator, Optional

import aiohttp

from core.errors import BadOutputError, CancelledError, ImageAIError, InvalidRequestError, TransientError
from providers.ltx.comfyui_servers import HEALTH, SETTING_HINT, ComfyServer, Health

TIMEOUT = aiohttp.ClientTimeout(total=120, connect=10)
#: a poll (history, queue, stats) that takes this long counts as a failed poll: a hung server is found in seconds
POLL_TIMEOUT = aiohttp.ClientTimeout(total=20, connect=5)
#: a result (or an upload) may be large: no total limit, but a transfer that stalls this long has failed
VIEW_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=10, sock_read=120)
CHUNK = 1 << 16


def describe_node_errors(body: dict) -> str:
    """One line per failing node: id, class, input and ComfyUI's message."""
    parts = []
    err = body.get("error") or {}
    if isinstance(err, dict) and err.get("message"):
        parts.append(err["message"] + (f" ({err['details']})" if err.get("details") else ""))
    for node_id, info in (body.get("node_errors") or {}).items():
        for e in info.get("errors", []):
            name = (e.get("extra_info") or {}).get("input_name")
            parts.append(f"node {node_id} ({info.get('class_type', '?')}){f' input {name}' if name else ''}: "
                         f"{e.get('message', '')} {e.get('details', '')}".strip())
    return "; ".join(parts) or json.dumps(body)[:300]


def unreachable(exc: BaseException) -> bool:
    return bool(getattr(exc, "unreachable", False))


class ComfyUIClient:
    def __init__(self, server: ComfyServer, health: Health = HEALTH):
        self.server = server
        self.base_url = server.url.rstrip("/")
        self.health = health
        self.queue_length: Optional[int] = None  # prompts queued or running there, as the last /queue said

    # ---- plumbing ---------------------------------------------------------------------------------------------
    def _failed(self, route: str, exc: BaseException) -> TransientError:
        name = self.server.id
        if isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
            # the connection was refused or never made: nothing reached the server
            why = getattr(getattr(exc, "os_error", None), "strerror", None) or "connection timed out"
            reason = f"ComfyUI server {name} ({self.base_url}) is not reachable ({why})"
            self.health.mark_down(self.base_url, reason)
            err = TransientError(f"{reason}; start it or check {SETTING_HINT}", not_created=True)
            err.unreachable = True
            return err
        if isinstance(exc, asyncio.TimeoutError):
            return TransientError(f"ComfyUI server {name}: {route} timed out", not_created=False)
        return TransientError(f"ComfyUI server {name}: {route} failed ({type(exc).__name__}: {exc})",
                              not_created=False)

    async def _request(self, method: str, route: str, timeout: aiohttp.ClientTimeout = TIMEOUT,
                       **kw) -> tuple[int, bytes]:
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.request(method, self.base_url + route, **kw) as resp:
                    body = await resp.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise self._failed(route, exc) from None
        self.health.mark_up(self.base_url)
        return resp.status, body

    async def _json(self, method: str, route: str, **kw):
        status, body = await self._request(method, route, **kw)
        if status >= 500:
            raise TransientError(f"ComfyUI server {self.server.id}: {route} answered {status}", not_created=False)
        try:
            data = json.loads(body or b"null")
        except ValueError as exc:
            raise TransientError(f"ComfyUI server {self.server.id}: {route} answered {status} with no JSON",
                                 not_created=False) from exc
        return status, data

    # ---- routes -----------------------------------------------------------------------------------------------
    async def object_info(self) -> dict:
        status, data = await self._json("GET", "/object_info")
        if status != 200 or not isinstance(data, dict):
            raise TransientError(f"{self.base_url} does not look like a ComfyUI server (/object_info: {status})",
                                 not_created=True)
        return data

    async def queue_state(self) -> dict:
        _, data = await self._json("GET", "/queue", timeout=POLL_TIMEOUT)
        data = data if isinstance(data, dict) else {}
        self.queue_length = len(data.get("queue_running") or []) + len(data.get("queue_pending") or [])
        return data

    async def checkpoints(self) -> list[str]:
        """The checkpoint files the server offers (one node's /object_info, not the whole, which is megabytes)."""
        from providers.ltx.comfyui_checks import options

        _, data = await self._json("GET", "/object_info/CheckpointLoaderSimple", timeout=POLL_TIMEOUT)
        node = (data or {}).get("CheckpointLoaderSimple") if isinstance(data, dict) else None
        spec = (((node or {}).get("input") or {}).get("required") or {}).get("ckpt_name")
        return [str(c) for c in options(spec if isinstance(spec, list) else None) or []]

    async def system_stats(self) -> dict:
        _, data = await self._json("GET", "/system_stats", timeout=POLL_TIMEOUT)
        return data if isinstance(data, dict) else {}

    async def upload(self, path: Path, name: str) -> str:
        """Upload a file under `name` (overwriting a file of that name); the name to put in the workflow."""
        with open(path, "rb") as fh:
            form = aiohttp.FormData()
            form.add_field("image", fh, filename=name, content_type="application/octet-stream")
            form.add_field("type", "input")
            form.add_field("overwrite", "true")
            # a source video may take long to send: no total limit, only a stalled transfer fails
            status, data = await self._json("POST", "/upload/image", data=form, timeout=VIEW_TIMEOUT)
        if status != 200 or not isinstance(data, dict) or not data.get("name"):
            why = " (larger than the server's --max-upload-size)" if status == 413 else ""
            raise InvalidRequestError(f"ComfyUI server {self.server.id} refused the upload of {Path(path).name} "
                                      f"({status}){why}", field="upload")
        sub = data.get("subfolder") or ""
        return f"{sub}/{data['name']}" if sub else data["name"]

    async def queue_prompt(self, graph: dict, prompt_id: str, client_id: str) -> str:
        payload = {"prompt": graph, "client_id": client_id, "prompt_id": prompt_id}
        try:
            status, data = await self._json("POST", "/prompt", json=payload)
        except TransientError as exc:
            if exc.not_created:
                raise
            # the request may have reached the server: it queued the prompt under our id, or it did not
            try:
                state = await self.where(prompt_id)
            except TransientError:
                raise exc from None
            if state[0] == "unknown":
                exc.not_created = True
                raise exc from None
            return prompt_id
        if status == 400:
            raise InvalidRequestError(f"ComfyUI server {self.server.id} rejected the workflow: "
                                      f"{describe_node_errors(data or {})}", field="workflow")
        if status != 200 or not isinstance(data, dict) or "prompt_id" not in data:
            raise TransientError(f"ComfyUI server {self.server.id}: /prompt answered {status}",
                                 not_created=status >= 500)
        return str(data["prompt_id"])

    async def history(self, prompt_id: str) -> Optional[dict]:
        """The history entry of a prompt once it has ended, else None ({} while queued, running or unknown)."""
        _, data = await self._json("GET", f"/history/{prompt_id}", timeout=POLL_TIMEOUT)
        entry = data.get(prompt_id) if isinstance(data, dict) else None
        if not isinstance(entry, dict):
            return None
        status = entry.get("status") or {}
        if not status.get("completed") and status.get("status_str") not in ("error", "success"):
            return None
        return entry

    async def where(self, prompt_id: str) -> tuple[str, Optional[object]]:
        """("done", history entry), ("running", None), ("queued", position from 1) or ("unknown", None)."""
        entry = await self.history(prompt_id)
        if entry is not None:
            return "done", entry
        state = await self.queue_state()
        if any(_item_id(i) == prompt_id for i in state.get("queue_running") or []):
            return "running", None
        pending = sorted((i for i in state.get("queue_pending") or [] if _item_id(i)),
                         key=lambda i: i[0] if isinstance(i[0], (int, float)) else 0)
        for pos, item in enumerate(pending, 1):
            if _item_id(item) == prompt_id:
                return "queued", pos
        # it may have ended between the two requests: the history has it then
        entry = await self.history(prompt_id)
        return ("done", entry) if entry is not None else ("unknown", None)

    async def view_to_file(self, item: dict, dest: Path, cap: int) -> int:
        """Stream one output file to `dest` under `cap` bytes; the bytes written."""
        from providers.ltx.transfer import stream_to_file

        params = {"filename": str(item["filename"]), "subfolder": str(item.get("subfolder") or ""),
                  "type": str(item.get("type") or "output")}
        try:
            async with aiohttp.ClientSession(timeout=VIEW_TIMEOUT) as session:
                async with session.get(self.base_url + "/view", params=params) as resp:
                    if resp.status == 404:
                        raise BadOutputError(f"ComfyUI server {self.server.id} no longer has the output "
                                             f"{params['filename']} (deleted from its output folder?)")
                    if resp.status != 200:
                        raise TransientError(f"ComfyUI server {self.server.id}: /view {params['filename']} "
                                             f"answered {resp.status}", not_created=False)
                    if resp.content_length is not None and resp.content_length > cap:
                        raise BadOutputError(f"ComfyUI's output {params['filename']} is {resp.content_length} "
                                             f"bytes, over its {cap} byte cap (set download_cap_mb to allow more)")
                    return await stream_to_file(resp.content.iter_chunked(CHUNK), dest, cap)
        except ImageAIError:
            raise
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise self._failed("/view", exc) from None

    async def interrupt(self, prompt_id: str) -> None:
        await self._json("POST", "/interrupt", json={"prompt_id": prompt_id})

    async def delete_queued(self, prompt_id: str) -> None:
        await self._json("POST", "/queue", json={"delete": [prompt_id]})

    async def messages(self, client_id: str, heartbeat: float = 30.0) -> AsyncIterator[dict]:
        """The websocket's JSON messages for one client id; ends when the socket closes (binary previews skipped).
        The server keeps only the newest socket of a client id, so every job listens under its own id."""
        url = self.base_url.replace("http://", "ws://").replace("https://", "wss://") + f"/ws?clientId={client_id}"
        try:
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(url, heartbeat=heartbeat) as ws:
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            try:
                                data = json.loads(msg.data)
                            except ValueError:
                                continue
                            if isinstance(data, dict):
                                yield data
                        elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                            break
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return


def _item_id(item) -> Optional[str]:
    return str(item[1]) if isinstance(item, (list, tuple)) and len(item) > 1 else None


def error_from_history(entry: dict) -> Optional[ImageAIError]:
    """The typed error of a prompt that ended badly, from its history status messages."""
    status = entry.get("status") or {}
    for event, data in status.get("messages") or []:
        data = data if isinstance(data, dict) else {}
        if event == "execution_error":
            return ImageAIError(f"ComfyUI node {data.get('node_id')} ({data.get('node_type')}) failed: "
                                f"{data.get('exception_type', '')}: {data.get('exception_message', '')}".strip())
        if event == "execution_interrupted":
            return CancelledError("the ComfyUI prompt was interrupted")
    if status.get("status_str") == "error":
        return ImageAIError("the ComfyUI prompt ended with an error")
    return None
