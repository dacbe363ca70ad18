"""Hostile fault kinds on top of the fal and Replicate fakes, for the money-safety tests and bench/soak.py.

The base fakes' one-shot faults (`fake.inject(where, {...})`: an HTTP status, a dropped connection, a malformed
answer, half a clip then a hang-up) stay as they are; this module adds what a hostile service or disk does, in its
own one-shot queue (`fake.hostile(where, {...})`, or POST /_admin/hostile {"where": [{...}]} to a subprocess fake;
POST /_admin/clear drops every queued fault of both kinds):

- "media": {"cut": 0.33}: the clip cut to that fraction, served whole (its Content-Length says so: the download
  "succeeds", and a faststart header still claims the full length); {"seconds": 2}: a whole clip of that length
  instead of the job's; {"huge": N, "declare": False}: N bytes of junk, without a Content-Length unless declared
  (it stops when the client hangs up; `hostile_bytes_sent` counts what went out); {"redirect_loop": True}: a 302 to
  a URL that redirects forever; {"stall": True}: the headers and half the clip, then nothing until
  `fake.release_stalls()` (in-process only), then a hang-up; {"call": fn} (in-process only): fn(fake) runs, then
  the clip is served as usual.
- "result": {"url": VALUE}: the finished job's video URL replaced by VALUE (a number, a file: URL, ...).
- "submit": {"limit_fsize": PROJECT_FOLDER, "extra": 8}: just before the job is created, the render process that
  holds PROJECT_FOLDER's render lock gets RLIMIT_FSIZE at project.json's current size plus `extra` bytes (a full
  disk, for real: its next save of project.json fails with EFBIG); {"call": fn} (in-process only): fn(fake) runs
  there.

Run alone: python -m tests.fakes.hostile fal|replicate --port N --state FILE [--latency S]
"""
from __future__ import annotations

import json
import resource
import socket
import sys
import threading
from pathlib import Path
from typing import Optional

from tests.fakes.clips import make_clip, main
from tests.fakes.fal_fake import FalFake, FalHandler
from tests.fakes.replicate_fake import ReplicateFake, ReplicateHandler

CHUNK = 1 << 20


class _Hostile:
    """The hostile queue and counters, mixed into a fake."""

    def _init_hostile(self) -> None:
        self.hostile_faults: dict[str, list[dict]] = {}
        self.hostile_used: list[tuple[str, dict]] = []
        self.hostile_bytes_sent = 0
        self.stall_release = threading.Event()

    def release_stalls(self) -> None:
        self.stall_release.set()

    def hostile(self, where: str, *faults: dict) -> None:
        with self.lock:
            self.hostile_faults.setdefault(where, []).extend(faults)

    def take_hostile(self, where: str) -> Optional[dict]:
        with self.lock:
            queue = self.hostile_faults.get(where) or []
            fault = queue.pop(0) if queue else None
            if fault is not None:
                self.hostile_used.append((where, {k: v for k, v in fault.items() if k != "call"}))
        if fault is not None:
            self.save()
        return fault

    def snapshot(self) -> dict:
        snap = super().snapshot()
        with self.lock:
            snap["hostile_used"] = list(self.hostile_used)
            snap["hostile_bytes_sent"] = self.hostile_bytes_sent
        return snap

    def before_submit(self) -> None:
        fault = self.take_hostile("submit")
        if not fault:
            return
        if fault.get("call"):
            fault["call"](self)
        if fault.get("limit_fsize"):
            limit_fsize(Path(fault["limit_fsize"]), int(fault.get("extra", 8)))


def render_holder_pid(project: Path) -> Optional[int]:
    """The pid that holds the project's render lock, as the lock file names it."""
    try:
        info = json.loads((Path(project) / ".imageai" / "render.lock").read_text() or "null")
    except (OSError, ValueError):
        return None
    return info.get("pid") if isinstance(info, dict) else None


def limit_fsize(project: Path, extra: int) -> Optional[int]:
    """Give the render process of `project` a file-size limit just above project.json's size; its pid."""
    pid = render_holder_pid(project)
    if pid is None:
        return None
    size = (Path(project) / "project.json").stat().st_size
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (size + extra, hard))
    return pid


class _HostileHandler:
    """Handler side: hostile answers first, the base fake's behaviour otherwise."""

    def setup(self):
        super().setup()
        # headers and body go out in separate writes: without this, Nagle's algorithm and the client's delayed ACK
        # hold each answer on a kept-alive connection ~40 ms, which no real service does
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def hostile_post(self) -> bool:
        path = self.path.split("?")[0]
        if path == "/_admin/clear":  # every queued fault, the base fake's and ours: a clean service from here on
            self.body()
            with self.fake.lock:
                getattr(self.fake, "faults", {}).clear()
                self.fake.hostile_faults.clear()
            self.send(200, {"ok": True})
            return True
        if path != "/_admin/hostile":
            return False
        spec = json.loads(self.body() or b"{}")
        for where, faults in spec.items():
            self.fake.hostile(where, *faults)
        self.send(200, {"ok": True})
        return True

    def hostile_get(self) -> bool:
        path = self.path.split("?")[0]
        fake = self.fake
        if path.startswith("/_hostile/loop/"):
            n = int(path.rsplit("/", 1)[1])
            self.send(302, {"detail": "elsewhere"}, headers={"Location": f"/_hostile/loop/{n + 1}"})
            return True
        if not path.startswith("/media/"):
            return False
        job = fake.jobs.get(path.split("/")[2].split(".")[0])
        if job is None:
            return False
        fault = fake.take_hostile("media")
        if not fault:
            return False
        if fault.get("call"):  # something happens to the client's machine as the download starts; then served
            fault["call"](fake)
            return False
        clip = lambda seconds: make_clip(seconds, job.get("fps") or 24, audio=job.get("audio", False))  # noqa: E731
        if fault.get("redirect_loop"):
            self.send(302, {"detail": "elsewhere"}, headers={"Location": "/_hostile/loop/1"})
        elif "cut" in fault:
            data = clip(job["seconds"])
            self.send(200, raw=data[: int(len(data) * float(fault["cut"]))], content_type="video/mp4")
        elif "seconds" in fault:
            self.send(200, raw=clip(float(fault["seconds"])), content_type="video/mp4")
        elif fault.get("stall"):
            data = clip(job["seconds"])
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            fake.stall_release.wait(120)
            self.drop()
        elif "huge" in fault:
            self._huge(int(fault["huge"]), bool(fault.get("declare")))
        else:
            raise ValueError(f"unknown hostile media fault {fault}")
        return True

    def _huge(self, size: int, declare: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        if declare:
            self.send_header("Content-Length", str(size))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        block = b"\0" * CHUNK
        sent = 0
        try:
            while sent < size:
                piece = block[: min(CHUNK, size - sent)]
                self.wfile.write(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what the cap is for
        finally:
            with self.fake.lock:
                self.fake.hostile_bytes_sent += sent


class HostileFal(_Hostile, FalFake):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_hostile()


class HostileFalHandler(_HostileHandler, FalHandler):
    def do_POST(self):
        if self.hostile_post():
            return
        path = self.path.split("?")[0]
        if not path.startswith(("/_admin/", "/storage/", "/files/")):
            self.fake.before_submit()
        super().do_POST()

    def do_GET(self):
        if self.hostile_get():
            return
        fake = self.fake
        jid, tail = fake.job_of(self.path.split("?")[0])
        job = fake.jobs.get(jid) if jid else None
        if job is not None and tail == "" and fake.phase(job) == "done":
            fault = fake.take_hostile("result")
            if fault is not None:
                fake.bump("result_gets")
                self.send(200, {"video": {"url": fault["url"], "content_type": "video/mp4"}, "seed": 42})
                return
        super().do_GET()


class HostileReplicate(_Hostile, ReplicateFake):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_hostile()

    def prediction(self, pid: str) -> dict:
        answer = super().prediction(pid)
        if answer.get("status") == "succeeded":
            fault = self.take_hostile("result")
            if fault is not None:
                answer["output"] = fault["url"]
        return answer


class HostileReplicateHandler(_HostileHandler, ReplicateHandler):
    def do_POST(self):
        if self.hostile_post():
            return
        path = self.path.split("?")[0]
        if path.startswith("/v1/models/") and path.endswith("/predictions"):
            self.fake.before_submit()
        super().do_POST()

    def do_GET(self):
        if self.hostile_get():
            return
        super().do_GET()


HostileFal.handler_class = HostileFalHandler
HostileReplicate.handler_class = HostileReplicateHandler
FAKES = {"fal": HostileFal, "replicate": HostileReplicate}


def billed(snapshot: dict, price_per_second: float) -> float:
    """What the service charged: every job it created and did not cancel, by the seconds it rendered."""
    return round(sum(job["seconds"] * price_per_second for job in snapshot["jobs"].values()
                     if not job.get("cancelled")), 4)


if __name__ == "__main__":
    main(FAKES[sys.argv[1]], sys.argv[2:])
