"""Asking ComfyUI servers how they are (/system_stats, /queue) for the farm's state, finding a prompt that moved to
another server, and removing the prompts that moved away from a server once it answers again."""
from __future__ import annotations

import asyncio
import time
from typing import Optional

from core.config import Settings
from core.errors import ImageAIError, TransientError
from providers.ltx.comfyui_client import ComfyUIClient, _item_id
from providers.ltx.comfyui_farm import FARM, ServerView
from providers.ltx.comfyui_servers import HEALTH, ComfyServer, Health, configured_servers

_last_try: dict[str, float] = {}  # URL -> when its moved-away prompts were last tried (monotonic)
_last_refresh: dict[str, float] = {}  # URL -> when its queue was last asked for the farm


def weight_of(settings: Settings, server: ComfyServer) -> float:
    return float(settings.comfyui_server_weights.get(server.id, 1.0))


async def refresh(client: ComfyUIClient, every_s: float = 0.0) -> None:
    """The server's queue: this app's prompts there queued, running or gone (ended); asked at most once per
    `every_s` however many scenes wait. TransientError when it does not answer.
    Only the prompts known queued before asking are judged: one queued while the answer was on its way is not in
    it, and ending it would free its server for another scene (a loaded machine reads answers late)."""
    now = time.monotonic()
    if every_s and now - _last_refresh.get(client.base_url, 0.0) < every_s:
        return
    _last_refresh[client.base_url] = now
    known_before = FARM.server(client.server).jobs.copy()
    state = await client.queue_state()
    running = {_item_id(i) for i in state.get("queue_running") or []}
    pending = {_item_id(i) for i in state.get("queue_pending") or []}
    FARM.answered(client.server, queue=client.queue_length)
    for pid, known in known_before.items():
        if pid in running:
            FARM.job_state(client.server, pid, "running")
        elif pid not in pending and known in ("queued", "running"):
            FARM.job_ended(client.server, pid)  # its follower reads the history and measures it


async def clean(client: ComfyUIClient) -> list[str]:
    """Delete (queued) or interrupt (running) the prompts that moved away from this server; the ones it had
    finished meanwhile (it ran them while it did not answer). TransientError when it does not answer."""
    finished = []
    for pid in sorted(FARM.to_clean(client.server)):
        state, _ = await client.where(pid)
        if state == "running":
            await client.interrupt(pid)
        elif state == "queued":
            await client.delete_queued(pid)
        elif state == "done":
            finished.append(pid)
        FARM.cleaned(client.server, pid)
    FARM.answered(client.server, queue=client.queue_length)
    return finished


async def clean_returned(servers: list[ComfyServer], every_s: float, health: Health = HEALTH) -> None:
    """Try each server that has prompts to remove, at most once per `every_s`; one that does not answer waits."""
    now = time.monotonic()
    for s in servers:
        if not FARM.to_clean(s) or now - _last_try.get(s.url, 0.0) < every_s:
            continue
        _last_try[s.url] = now
        try:
            await clean(ComfyUIClient(s, health))
        except ImageAIError:
            continue


async def find_elsewhere(prompt_id: str, servers: list[ComfyServer], health: Health = HEALTH) -> Optional[ComfyServer]:
    """The server (of these) that knows the prompt: queued, running or finished there."""
    for s in servers:
        try:
            state, _ = await ComfyUIClient(s, health).where(prompt_id)
        except ImageAIError:
            continue
        if state != "unknown":
            return s
    return None


async def probe(server: ComfyServer, weight: float, health: Health = HEALTH) -> None:
    """One server's health: its stats and queue (and its moved-away prompts removed when it answers)."""
    FARM.server(server, weight)
    client = ComfyUIClient(server, health)
    try:
        stats = await client.system_stats()
        await refresh(client)
        FARM.answered(server, stats=stats, models=await client.checkpoints())
        if FARM.to_clean(server):
            await clean(client)
    except TransientError as exc:
        FARM.mark_down(server, str(exc))


async def probe_all(settings: Settings, health: Health = HEALTH) -> list[ServerView]:
    """Every configured server asked at once; what the GUI's server list shows."""
    servers = configured_servers(settings)
    await asyncio.gather(*(probe(s, weight_of(settings, s), health) for s in servers))
    return FARM.snapshot(servers)
