"""A farm of ComfyUI servers: what this process knows of each (state, queue, speed, this app's work on it), which
server a scene goes to, when a server counts as down, and what must be removed from a server when it answers again.

- Placement: a scene goes to the server, among those that answer and have what its workflow needs, where it is
  expected to finish first: (prompts ahead of it + 1) x that server's seconds per prompt. Seconds per prompt are
  measured from the server's own history (execution_start -> execution_success) of this app's prompts; before a
  server has a measurement, the `comfyui_server_weights` setting (capacity, 1.0 by default) scales the measured
  servers' mean (or stands alone while none is measured). A server holds at most DEPTH of this app's prompts
  waiting behind the one it runs: the rest wait in the app, so each is placed when the farm's speeds are known
  and a slow server never ends up with the last scenes while a fast one idles; until a server's speed is
  measured it holds one prompt only.
- Down: a server whose polls failed DOWN_AFTER_POLLS times in a row (per job following it) is marked down; its
  unfinished scenes move to another server under the same prompt id, and the prompt ids that moved away are
  deleted (queued) or interrupted (running) there as soon as it answers again, so no prompt runs to completion
  twice.
- The state is per process (like the health marks): the CLI and the GUI read `FARM.snapshot()`; only the prompts
  to remove are also kept in the config folder (comfyui_moved.json), so a render that ended before the server came
  back leaves the removal to the next process that reaches it (a render, or the GUI's server check).
"""
from __future__ import annotations

import asyncio
import json
import logging
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

from core.paths import config_dir
from providers.ltx.comfyui_servers import DOWN_FOR_S, ComfyServer

log = logging.getLogger(__name__)

DOWN_AFTER_POLLS = 3
#: this app's prompts a server may hold waiting behind the one it runs (keeps it busy between prompts)
DEPTH = 1


@dataclass
class ServerState:
    id: str
    url: str
    weight: float = 1.0
    state: str = "unknown"         # "up", "down" or "unknown" (not asked yet)
    reason: str = ""               # why it is down
    down_at: float = 0.0           # when it was marked down (monotonic)
    queue: Optional[int] = None    # prompts queued or running there (anyone's), as last asked
    device: str = ""               # from /system_stats
    version: str = ""
    #: this app's prompt ids there -> "held" (a scene waiting in the app for room there), "placing" (chosen, being
    #: uploaded and sent), "queued" or "running"
    jobs: dict[str, str] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)    # seconds per prompt, measured
    done: int = 0
    moved_away: set[str] = field(default_factory=set)   # prompt ids to delete/interrupt when it answers again
    measured: set[str] = field(default_factory=set)
    models: Optional[list[str]] = None  # its checkpoint files, as last asked
    started: dict[str, float] = field(default_factory=dict)  # prompt id -> when it was first seen running

    def seconds(self) -> Optional[float]:
        return statistics.median(self.times[-8:]) if self.times else None


@dataclass(frozen=True)
class ServerView:
    """One server as the GUI and the CLI show it."""
    id: str
    url: str
    state: str
    reason: str
    weight: float
    queue: Optional[int]
    running: int
    waiting: int
    done: int
    seconds_per_prompt: Optional[float]
    device: str
    models: Optional[list[str]] = None


class Farm:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # read by the GUI thread, written on a render loop
        self._servers: dict[str, ServerState] = {}   # by URL
        self._changed: dict[int, asyncio.Event] = {}  # per event loop: a prompt started, ended or moved

    # ---- state ------------------------------------------------------------------------------------------------
    def server(self, s: ComfyServer, weight: Optional[float] = None) -> ServerState:
        with self._lock:
            st = self._servers.get(s.url)
            if st is None or st.id != s.id:
                st = self._servers[s.url] = ServerState(s.id, s.url, moved_away=_stored().get(s.url, set()))
            if weight is not None:
                st.weight = weight
            return st

    def _event(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        ev = self._changed.get(id(loop))
        if ev is None or getattr(ev, "_loop_ref", None) is not loop:
            ev = asyncio.Event()
            ev._loop_ref = loop  # type: ignore[attr-defined]
            self._changed[id(loop)] = ev
        return ev

    def changed(self) -> None:
        """Wake every placement waiting on this loop (call on the loop)."""
        try:
            ev = self._event()
        except RuntimeError:
            return
        ev.set()

    async def wait_change(self, timeout: float) -> None:
        ev = self._event()
        try:
            await asyncio.wait_for(ev.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        ev.clear()

    def answered(self, s: ComfyServer, queue: Optional[int] = None, stats: Optional[dict] = None,
                 models: Optional[list[str]] = None) -> None:
        st = self.server(s)
        with self._lock:
            st.state, st.reason = "up", ""
            if models is not None:
                st.models = list(models)
            if queue is not None:
                st.queue = queue
            if stats:
                system = stats.get("system") or {}
                devices = stats.get("devices") or [{}]
                st.version = str(system.get("comfyui_version") or "")
                first = devices[0] if isinstance(devices[0], dict) else {}
                st.device = str(first.get("name") or "")

    def mark_down(self, s: ComfyServer, reason: str) -> None:
        st = self.server(s)
        with self._lock:
            st.state, st.reason, st.down_at = "down", reason, time.monotonic()
        self.changed()

    def is_down(self, s: ComfyServer) -> bool:
        """Down, and marked so less than DOWN_FOR_S ago: after that, scenes may try it again (it shows as down
        until it answers)."""
        st = self._servers.get(s.url)
        return st is not None and st.state == "down" and time.monotonic() - st.down_at < DOWN_FOR_S

    def job_added(self, s: ComfyServer, prompt_id: str, state: str = "queued") -> None:
        st = self.server(s)
        with self._lock:
            st.jobs[prompt_id] = state

    def job_state(self, s: ComfyServer, prompt_id: str, state: str) -> None:
        with self._lock:
            st = self._servers.get(s.url)
            if st is not None and prompt_id in st.jobs and st.jobs[prompt_id] != state:
                st.jobs[prompt_id] = state
                if state == "running":
                    st.started[prompt_id] = time.monotonic()
                changed = True
            else:
                changed = False
        if changed:
            self.changed()

    def unhold(self, s: ComfyServer, token: str) -> None:
        """A held scene looks again (no wake-up: every waiter looks again at each change anyway)."""
        with self._lock:
            st = self._servers.get(s.url)
            if st is not None:
                st.jobs.pop(token, None)

    def job_ended(self, s: ComfyServer, prompt_id: str) -> None:
        with self._lock:
            st = self._servers.get(s.url)
            if st is not None:
                st.jobs.pop(prompt_id, None)
                st.started.pop(prompt_id, None)
        self.changed()

    def measured(self, s: ComfyServer, prompt_id: str, seconds: Optional[float]) -> None:
        """A prompt of this app finished there after `seconds` of running (counted once per prompt)."""
        st = self.server(s)
        with self._lock:
            st.jobs.pop(prompt_id, None)
            st.started.pop(prompt_id, None)
            if seconds is not None and prompt_id not in st.measured:
                st.measured.add(prompt_id)
                st.times.append(seconds)
                st.done += 1
        self.changed()

    def moved_away(self, s: ComfyServer, prompt_id: str) -> None:
        with self._lock:
            st = self._servers.get(s.url)
            if st is not None:
                st.jobs.pop(prompt_id, None)
                st.moved_away.add(prompt_id)
        self._store(s.url)
        self.changed()

    def to_clean(self, s: ComfyServer) -> set[str]:
        st = self._servers.get(s.url)
        return set(st.moved_away) if st is not None else set()

    def cleaned(self, s: ComfyServer, prompt_id: str) -> None:
        with self._lock:
            st = self._servers.get(s.url)
            if st is not None:
                st.moved_away.discard(prompt_id)
        self._store(s.url)

    def _store(self, url: str) -> None:
        """This server's prompts to remove, into the shared file (other servers' entries as they are there)."""
        from core.atomic import atomic_write_text

        with self._lock:
            mine = sorted(self._servers[url].moved_away) if url in self._servers else []
            data = {k: sorted(v) for k, v in _stored().items()}
            if mine:
                data[url] = mine
            else:
                data.pop(url, None)
            try:
                path = _moved_path()
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(path, json.dumps(data, indent=1))
            except OSError as exc:  # the removal still happens in this process; only a later one would miss it
                log.warning("could not keep the ComfyUI prompts to remove in %s: %s", _moved_path(), exc)

    # ---- placement --------------------------------------------------------------------------------------------
    def seconds_per_prompt(self, s: ComfyServer) -> float:
        """Measured, or estimated from the weights: the measured servers' mean capacity scaled by this one's."""
        with self._lock:
            st = self._servers.get(s.url)
            own = st.seconds() if st else None
            if own is not None:
                return own
            weight = st.weight if st else 1.0
            unit = [x.seconds() * x.weight for x in self._servers.values() if x.seconds() is not None]
        return (statistics.mean(unit) if unit else 1.0) / max(weight, 1e-6)

    def expected_finish(self, s: ComfyServer) -> float:
        """Seconds until a new prompt placed there now would finish: what is left of the running prompt, the
        prompts ahead (this app's, held ones included, and others') and its own."""
        each = self.seconds_per_prompt(s)
        now = time.monotonic()
        with self._lock:
            st = self._servers.get(s.url)
            if st is None:
                return each
            running = [p for p, j in st.jobs.items() if j == "running"]
            ahead = sum(1 for j in st.jobs.values() if j != "running")
            foreign = max(0, (st.queue or 0) - len(st.jobs))
            left = sum(max(0.1 * each, each - (now - st.started.get(p, now))) for p in running)
        return left + (ahead + foreign + 1) * each

    def has_room(self, s: ComfyServer) -> bool:
        """Whether a prompt may be sent there now: DEPTH waiting behind the running one, or only one at all until
        the server's speed is measured (a slow server does not get a second scene on a guess)."""
        with self._lock:
            st = self._servers.get(s.url)
            if st is None:
                return True
            queued = sum(1 for j in st.jobs.values() if j in ("placing", "queued"))
            running = any(j == "running" for j in st.jobs.values())
            depth = DEPTH if st.times else 0
        return queued < depth + (0 if running else 1)

    def best(self, servers: list[ComfyServer]) -> Optional[ComfyServer]:
        """The server where a prompt finishes first (ties: the order given)."""
        ranked = sorted(enumerate(servers), key=lambda p: (self.expected_finish(p[1]), p[0]))
        return ranked[0][1] if ranked else None

    # ---- views ------------------------------------------------------------------------------------------------
    def snapshot(self, servers: list[ComfyServer]) -> list[ServerView]:
        out = []
        for s in servers:
            with self._lock:
                st = self._servers.get(s.url) or ServerState(s.id, s.url)
                jobs = list(st.jobs.values())
                view = ServerView(s.id, s.url, st.state, st.reason, st.weight, st.queue,
                                  sum(1 for j in jobs if j == "running"), sum(1 for j in jobs if j != "running"),
                                  st.done, st.seconds(), st.device, st.models)
            out.append(view)
        return out


def _moved_path():
    return config_dir() / "comfyui_moved.json"


def _stored() -> dict[str, set[str]]:
    try:
        data = json.loads(_moved_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): {str(p) for p in v} for k, v in data.items() if isinstance(v, list)}


def run_seconds(entry: dict) -> Optional[float]:
    """How long a finished prompt ran, from its history's status messages (the server's own clock)."""
    stamps = {}
    for event, data in ((entry.get("status") or {}).get("messages") or []):
        if isinstance(data, dict) and isinstance(data.get("timestamp"), (int, float)):
            stamps.setdefault(event, data["timestamp"])
    start, end = stamps.get("execution_start"), stamps.get("execution_success")
    if start is None or end is None or end < start:
        return None
    return (end - start) / 1000.0


FARM = Farm()
