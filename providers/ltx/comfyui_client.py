"""A small client of one ComfyUI server: HTTP routes and the websocket (shared/research/local-backends.md 4.1).

Each call opens its own aiohttp session, so one client works from any event loop (the CLI runs a loop per command,
the GUI one on a background thread)."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import AsyncIterator, Optional

import aiohttp

from core.errors import CancelledError, ImageAIError, InvalidRequestError, TransientError, UnavailableError

TIMEOUT = aiohttp.ClientTimeout(total=120, connect=10)


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


class ComfyUIClient:
    def __init__(self, base_url: str, client_id: str):
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id

    async def _request(self, method: str, route: str, **kw):
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
                async with session.request(method, self.base_url + route, **kw) as resp:
                    body = await resp.read()
                    return resp.status, resp.headers.get("Content-Type", ""), body
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError, OSError) as exc:
            raise UnavailableError(f"ComfyUI at {self.base_url} is not reachable ({type(exc).__name__}: {exc}); "
                                   f"start it or set IMAGEAI_COMFYUI_URL / the comfyui_url setting") from exc

    async def _json(self, method: str, route: str, **kw):
        status, _, body = await self._request(method, route, **kw)
        if status >= 500:
            raise TransientError(f"ComfyUI {route} answered {status}")
        try:
            data = json.loads(body or b"null")
        except ValueError as exc:
            raise TransientError(f"ComfyUI {route} answered {status} with no JSON") from exc
        return status, data

    async def object_info(self) -> dict:
        status, data = await self._json("GET", "/object_info")
        if status != 200 or not isinstance(data, dict):
            raise UnavailableError(f"{self.base_url} does not look like a ComfyUI server (/object_info: {status})")
        return data

    async def queue_state(self) -> dict:
        _, data = await self._json("GET", "/queue")
        return data or {}

    async def upload(self, path: Path, *, overwrite: bool = True) -> str:
        form = aiohttp.FormData()
        form.add_field("image", Path(path).read_bytes(), filename=Path(path).name,
                       content_type="application/octet-stream")
        form.add_field("type", "input")
        form.add_field("overwrite", "true" if overwrite else "false")
        status, data = await self._json("POST", "/upload/image", data=form)
        if status != 200:
            raise InvalidRequestError(f"ComfyUI refused the upload of {Path(path).name} ({status})", field="upload")
        sub = data.get("subfolder") or ""
        return f"{sub}/{data['name']}" if sub else data["name"]

    async def queue_prompt(self, graph: dict, prompt_id: Optional[str] = None) -> str:
        payload = {"prompt": graph, "client_id": self.client_id}
        if prompt_id:
            payload["prompt_id"] = prompt_id
        status, data = await self._json("POST", "/prompt", json=payload)
        if status == 400:
            raise InvalidRequestError(f"ComfyUI rejected the workflow: {describe_node_errors(data or {})}",
                                      field="workflow")
        if status != 200 or not data or "prompt_id" not in data:
            raise TransientError(f"ComfyUI /prompt answered {status}", not_created=status >= 500)
        return data["prompt_id"]

    async def history(self, prompt_id: str) -> Optional[dict]:
        """The history entry of a prompt once it has ended, else None."""
        _, data = await self._json("GET", f"/history/{prompt_id}")
        entry = (data or {}).get(prompt_id)
        if not entry:
            return None
        status = entry.get("status") or {}
        if not status.get("completed") and status.get("status_str") not in ("error", "success"):
            return None
        return entry

    async def view(self, filename: str, subfolder: str, kind: str) -> bytes:
        status, _, body = await self._request("GET", "/view", params={"filename": filename, "subfolder": subfolder,
                                                                     "type": kind})
        if status != 200:
            raise TransientError(f"ComfyUI /view {filename} answered {status}")
        return body

    async def interrupt(self, prompt_id: str) -> None:
        await self._json("POST", "/interrupt", json={"prompt_id": prompt_id})

    async def delete_queued(self, prompt_id: str) -> None:
        await self._json("POST", "/queue", json={"delete": [prompt_id]})

    async def messages(self, heartbeat: float = 30.0) -> AsyncIterator[dict]:
        """The websocket's JSON messages for this client id; ends when the socket closes (binary previews skipped)."""
        url = self.base_url.replace("http://", "ws://").replace("https://", "wss://") + f"/ws?clientId={self.client_id}"
        try:
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(url, heartbeat=heartbeat) as ws:
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            try:
                                yield json.loads(msg.data)
                            except ValueError:
                                continue
                        elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                            break
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return


def error_from_history(entry: dict) -> Optional[ImageAIError]:
    """The typed error of a prompt that ended badly, from its history status messages."""
    status = entry.get("status") or {}
    for event, data in status.get("messages", []):
        if event == "execution_error":
            return ImageAIError(f"ComfyUI node {data.get('node_id')} ({data.get('node_type')}) failed: "
                                f"{data.get('exception_type', '')}: {data.get('exception_message', '')}".strip())
        if event == "execution_interrupted":
            return CancelledError("the ComfyUI prompt was interrupted")
    if status.get("status_str") == "error":
        return ImageAIError("the ComfyUI prompt ended with an error")
    return None


def monotonic() -> float:
    return time.monotonic()
