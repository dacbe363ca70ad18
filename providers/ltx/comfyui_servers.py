"""The ComfyUI servers this app may talk to, by id, and which of them answer.

A take records its job as `<prompt_id>@<server id>`: the id names an entry of the configured servers, so a project
file (which anyone may share) can never make the app contact a host the user did not configure. Where the servers
come from, first match wins:
- IMAGEAI_COMFYUI_URL (the environment override every service address has);
- the `comfyui_servers` setting, {id: URL};
- the `comfyui_url` setting.
The first and the last are comma-separated lists whose entries are `id=URL` or a bare URL, whose id is then its
`host:port` (as a take written before ids existed names it, after its scheme).

A server that fails to answer (no connection) is marked down for DOWN_FOR_S; new scenes go to the servers that
answer, and a down server is only tried when none answers. The marks are kept per process (a server's state is a
fact about the server, not about one render run)."""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

from core.config import Settings
from core.errors import InvalidRequestError

DOWN_FOR_S = 60.0
# what a server id may be (it ends a take's job id: prompt_id@id)
SERVER_ID = re.compile(r"^[A-Za-z0-9\[][A-Za-z0-9._:\[\]-]{0,63}$")
SETTING_HINT = "IMAGEAI_COMFYUI_URL, or the comfyui_servers / comfyui_url setting"


@dataclass(frozen=True)
class ComfyServer:
    id: str
    url: str


def normal_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    return url


def default_id(url: str) -> str:
    """The id of a server listed by its address alone: its host:port."""
    parts = urlsplit(normal_url(url))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    return f"{host}:{port}"  # never the user:password part of a URL


def parse_list(raw: str) -> list[tuple[str, str]]:
    out = []
    for entry in raw.split(","):
        entry = entry.strip()
        if not entry:
            continue
        name, sep, url = entry.partition("=")
        if sep and "://" not in name:
            out.append((name.strip(), normal_url(url)))
        else:
            url = normal_url(entry)
            out.append((default_id(url), url))
    return out


def configured_servers(settings: Settings) -> list[ComfyServer]:
    """Every configured server, in order; InvalidRequestError for an id that cannot name a server."""
    import os

    env = os.environ.get("IMAGEAI_COMFYUI_URL")
    if env:
        pairs = parse_list(env)
    elif getattr(settings, "comfyui_servers", None):
        pairs = [(k.strip(), normal_url(v)) for k, v in settings.comfyui_servers.items()]
    else:
        pairs = parse_list(settings.comfyui_url or "")
    servers: list[ComfyServer] = []
    for sid, url in pairs:
        if not SERVER_ID.match(sid):
            raise InvalidRequestError(f"ComfyUI server id {sid!r} is not usable: letters, digits, '.', '_', ':' and "
                                      f"'-' only, at most 64", field="comfyui_servers")
        if any(s.id == sid for s in servers):
            if any(s.id == sid and s.url == url for s in servers):
                continue  # the same server listed twice
            raise InvalidRequestError(f"two ComfyUI servers are named {sid!r}; give each its own id (id=URL)",
                                      field="comfyui_servers")
        servers.append(ComfyServer(sid, url))
    return servers


def job_id(prompt_id: str, server: ComfyServer) -> str:
    return f"{prompt_id}@{server.id}"


def server_of_job(job: str, settings: Settings) -> tuple[str, ComfyServer]:
    """(prompt id, configured server) of a job id. A job naming a server that is not configured is refused: the
    app never contacts a host because a project file names it."""
    prompt_id, sep, name = job.partition("@")
    if not sep or not prompt_id or not name:
        raise InvalidRequestError(f"{job!r} is not a ComfyUI job id (prompt_id@server)", field="remote_job_id")
    servers = configured_servers(settings)
    for s in servers:
        if s.id == name:
            return prompt_id, s
    if "://" in name:  # a take from before server ids: it named the URL; honoured only when that URL is configured
        url = normal_url(name)
        for s in servers:
            if s.url == url:
                return prompt_id, s
        name = default_id(url)
    raise InvalidRequestError(
        f"job {prompt_id} ran on ComfyUI server {name!r}, which is not configured here; add it ({SETTING_HINT}) to "
        f"follow it, or render the scene again", field="remote_job_id", allowed=[s.id for s in servers] or ["none"])


class Health:
    """Which servers failed to answer lately (thread-safe: the GUI renders on its own thread)."""

    def __init__(self) -> None:
        self._down: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def mark_down(self, url: str, reason: str) -> None:
        with self._lock:
            self._down[url] = (time.monotonic() + DOWN_FOR_S, reason)

    def mark_up(self, url: str) -> None:
        with self._lock:
            self._down.pop(url, None)

    def down_reason(self, url: str) -> Optional[str]:
        """Why the server is down, or None when it is up (or its mark has expired)."""
        with self._lock:
            mark = self._down.get(url)
            if mark is None:
                return None
            if mark[0] <= time.monotonic():
                del self._down[url]
                return None
            return mark[1]


HEALTH = Health()
